// The BERT/RoBERTa classifier graph against the slow TypeScript reference on tiny seeded models: logits and
// probabilities of right-padded batches to 1e-5 with standard and fused attention, RoBERTa's position ids with
// padding, batch invariance, and the inputs a session refuses.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifierSession } from '../../../src-main/core/models/classifier/classifier-session.ts';
import { buildClassifierGraph, type ClassifierGraphOptions } from '../../../src-main/core/models/classifier/graph.ts';
import { loadClassifier, type LoadedClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import {
  classifierPositionIds,
  classifierReferenceForward,
} from '../../../src-main/core/models/classifier/reference.ts';
import { withPackedQkv } from '../../../src-main/core/models/classifier/weights.ts';
import { encodeModel } from '../../../src-main/core/onnx/graph-builder.ts';
import { createSession, runSession, TensorClass } from '../../../src-main/core/runtime/onnxruntime.ts';
import { toAppError } from '../../../src-main/shared/index.ts';
import { describeMismatch, maxAbsDifference } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { writeTinyClassifierFolder } from '../../support/tiny-classifier.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const attentions: ClassifierGraphOptions['attention'][] = ['standard', 'fused'];
let bert: LoadedClassifier;
let roberta: LoadedClassifier;
/** Largest graph-vs-reference difference seen, per model and attention (printed at the end for the record). */
const measured: string[] = [];

// [CLS]=2 … [SEP]=3 for BERT, <s>=0 … </s>=2 for RoBERTa; the last row fills all 24 positions.
const bodies = [
  [11, 25, 7, 30, 49],
  [17],
  [5, 9, 12, 39, 21, 8, 14, 33, 6, 44],
  Array.from({ length: 22 }, (_, i) => i + 4),
];
const rowsFor = (model: LoadedClassifier) =>
  model.config.architecture === 'bert' ? bodies.map((body) => [2, ...body, 3]) : bodies.map((body) => [0, ...body, 2]);

beforeAll(() => {
  useTemporaryDataDir();
  bert = loadClassifier(
    writeTinyClassifierFolder(21, {
      architecture: 'bert',
      labels: ['toxic', 'insult', 'threat'],
      problemType: 'multi_label_classification',
    }),
  );
  // Positions 24 with pad 1: RoBERTa fits 22 tokens, so the tiny RoBERTa drops the longest row below.
  roberta = loadClassifier(
    writeTinyClassifierFolder(22, { architecture: 'roberta', labels: ['neutral', 'offensive', 'hate', 'threat'] }),
  );
});

afterAll(() => console.log(measured.join('\n')));

function readWeights(model: LoadedClassifier): Map<string, Float32Array> {
  return new Map([...model.weights].map(([name, tensor]) => [name, tensor.read()]));
}

/** The graph with inline weights (no cache), run once on a right-padded batch. */
async function runGraph(model: LoadedClassifier, options: ClassifierGraphOptions, rows: number[][], pad: number) {
  const weights = options.attention === 'fused' ? withPackedQkv(model.weights, model.config) : model.weights;
  const graph = buildClassifierGraph(
    model.config,
    model.activation,
    (name, dims) => ({ name, type: 'float32', dims, data: weights.get(name)!.read() }),
    options,
  );
  const session = await createSession(encodeModel(graph), { device: cpu });
  const length = Math.max(...rows.map((row) => row.length));
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(pad));
  const mask = new BigInt64Array(rows.length * length);
  rows.forEach((row, r) =>
    row.forEach((id, p) => {
      ids[r * length + p] = BigInt(id);
      mask[r * length + p] = 1n;
    }),
  );
  const outputs = await runSession(session, {
    input_ids: new TensorClass('int64', ids, [rows.length, length]),
    attention_mask: new TensorClass('int64', mask, [rows.length, length]),
  });
  await session.release();
  return { outputs, length };
}

describe('classifier graph vs reference', () => {
  for (const name of ['bert', 'roberta'] as const) {
    for (const attention of attentions) {
      it(`${name}, ${attention} attention: logits and probabilities of a right-padded batch match the reference to 1e-5`, async () => {
        const model = name === 'bert' ? bert : roberta;
        const rows = rowsFor(model).filter((row) => row.length <= model.config.maxTokens);
        const { outputs } = await runGraph(
          model,
          { attention, logits: true, positionIds: false },
          rows,
          model.config.padTokenId,
        );
        const weights = readWeights(model);
        const n = model.config.nOutputs;
        const logits = outputs.logits!.data as Float32Array;
        const probabilities = outputs.probabilities!.data as Float32Array;
        let worst = 0;
        rows.forEach((row, r) => {
          const reference = classifierReferenceForward(model.config, model.activation, weights, row);
          const actualLogits = logits.subarray(r * n, (r + 1) * n);
          const actualProbabilities = probabilities.subarray(r * n, (r + 1) * n);
          expect(describeMismatch(`row ${r} logits`, actualLogits, reference.logits, 1e-5)).toBeNull();
          expect(
            describeMismatch(`row ${r} probabilities`, actualProbabilities, reference.probabilities, 1e-5),
          ).toBeNull();
          worst = Math.max(
            worst,
            maxAbsDifference(actualLogits, reference.logits),
            maxAbsDifference(actualProbabilities, reference.probabilities),
          );
        });
        measured.push(`${name} ${attention}: max |graph − reference| ${worst.toExponential(2)}`);
      });
    }
  }

  it('uses the activation of the config: sigmoid per label (multi-label BERT), softmax summing to 1 (RoBERTa)', async () => {
    expect(bert.activation).toBe('sigmoid');
    expect(roberta.activation).toBe('softmax');
    const { outputs } = await runGraph(
      roberta,
      { attention: 'standard', logits: false, positionIds: false },
      rowsFor(roberta).slice(0, 2),
      1,
    );
    const probabilities = outputs.probabilities!.data as Float32Array;
    const n = roberta.config.nOutputs;
    for (const r of [0, 1]) {
      const sum = probabilities.subarray(r * n, (r + 1) * n).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
    }
  });

  it("RoBERTa's position ids start at pad + 1, count only non-pad tokens and give padding pad_token_id", async () => {
    // Row 1 is right-padded; row 2 has a pad id inside the text, which Hugging Face also gives position pad.
    const rows = [
      [0, 11, 25, 7, 2],
      [0, 17, 2],
      [0, 9, 1, 12, 2],
    ];
    const { outputs } = await runGraph(
      roberta,
      { attention: 'standard', logits: true, positionIds: true },
      rows,
      roberta.config.padTokenId,
    );
    const positions = Array.from(outputs.position_ids!.data as BigInt64Array, Number);
    expect(positions).toEqual([2, 3, 4, 5, 6, 2, 3, 4, 1, 1, 2, 3, 1, 4, 5]);
    expect(classifierPositionIds(roberta.config, [0, 17, 2, 1, 1])).toEqual([2, 3, 4, 1, 1]);
    // The reference, given the same padded row and its mask, scores as the unpadded row.
    const weights = readWeights(roberta);
    const padded = classifierReferenceForward(
      roberta.config,
      roberta.activation,
      weights,
      [0, 17, 2, 1, 1],
      [1, 1, 1, 0, 0],
    );
    const alone = classifierReferenceForward(roberta.config, roberta.activation, weights, [0, 17, 2]);
    expect(describeMismatch('padded vs alone', padded.logits, alone.logits, 1e-12)).toBeNull();
    const logits = outputs.logits!.data as Float32Array;
    const n = roberta.config.nOutputs;
    const middlePad = classifierReferenceForward(roberta.config, roberta.activation, weights, rows[2]!);
    expect(
      describeMismatch('pad id inside the text', logits.subarray(2 * n, 3 * n), middlePad.logits, 1e-5),
    ).toBeNull();
  });

  it("BERT's position ids are 0, 1, 2, … in every row, padded or not", async () => {
    const { outputs } = await runGraph(
      bert,
      { attention: 'standard', logits: false, positionIds: true },
      [
        [2, 5, 3],
        [2, 3],
      ],
      0,
    );
    expect(Array.from(outputs.position_ids!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 0, 1, 2]);
  });
});

describe('classifier session', () => {
  for (const attention of attentions) {
    it(`scores every row of a batch as it scores the row alone (within 1e-5), ${attention} attention`, async () => {
      const problems: string[] = [];
      for (const model of [bert, roberta]) {
        const rows = rowsFor(model).filter((row) => row.length <= model.config.maxTokens);
        const session = await ClassifierSession.open(model, {
          device: cpu,
          attention,
          logits: true,
          batch: 4,
          length: 24,
        });
        const batched = await session.score(rows);
        for (const [r, row] of rows.entries()) {
          const alone = await session.score([row]);
          const problem =
            describeMismatch(
              `${model.config.architecture} row ${r}`,
              batched.probabilities[r]!,
              alone.probabilities[0]!,
              1e-5,
            ) ??
            describeMismatch(
              `${model.config.architecture} row ${r} logits`,
              batched.logits![r]!,
              alone.logits![0]!,
              1e-5,
            );
          if (problem) problems.push(problem);
        }
        await session.release();
      }
      expect(problems).toEqual([]);
    });
  }

  it('returns one probability per label and no logits unless asked, and reuses the built graph on a second open', async () => {
    const first = await ClassifierSession.open(bert, { device: cpu, batch: 1, length: 8 });
    const scores = await first.score([[2, 5, 6, 3]]);
    expect(scores.probabilities[0]!.length).toBe(3);
    expect(scores.logits).toBeNull();
    await first.release();
    const second = await ClassifierSession.open(bert, { device: cpu, batch: 1, length: 8 });
    expect(second.graph.hit).toBe(true);
    await second.release();
  });

  it('refuses a row longer than the model positions, and a token id outside the vocabulary, naming each', async () => {
    const session = await ClassifierSession.open(roberta, { device: cpu, batch: 1, length: 24 });
    const tooLong = Array.from({ length: roberta.config.maxTokens + 1 }, () => 5);
    const long = await session.score([tooLong]).catch(toAppError);
    expect(long).toMatchObject({ code: 'INPUT_INVALID' });
    expect((long as { message: string }).message).toMatch(/23 tokens, more than .* 22 positions/);
    const unknown = await session.score([[0, 50, 2]]).catch(toAppError);
    expect(unknown).toMatchObject({ code: 'INPUT_INVALID' });
    expect((unknown as { message: string }).message).toMatch(/token id 50, outside .* vocabulary of 50/);
    await session.release();
  });
});
