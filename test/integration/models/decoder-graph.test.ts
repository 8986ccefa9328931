// The decoder ONNX graph against the slow TypeScript reference on tiny seeded models of every family (GPT-2 with
// fused and standard attention; Llama, Mistral, Qwen2 and Gemma-2 with grouped heads, rotary embeddings, windows
// shorter than the sequences, biases, soft-caps and sandwich norms): every hook and logits to 1e-5, with left
// padding, the KV cache and interventions.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildDecoderGraph, type DecoderGraphOptions } from '../../../src-main/core/models/decoder/graph.ts';
import { decoderReferenceForward, type ReferenceInputs } from '../../../src-main/core/models/decoder/reference.ts';
import { encodeModel } from '../../../src-main/core/onnx/graph-builder.ts';
import {
  DecoderSession,
  noInterventions,
  runDecoderGraph,
} from '../../../src-main/core/models/decoder/decoder-session.ts';
import { createSession, TensorClass, type Tensor } from '../../../src-main/core/runtime/onnxruntime.ts';
import { decoderHookNames } from '../../../src-main/shared/index.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import type { DecoderConfig } from '../../../src-main/core/models/decoder/config.ts';
import { tinyDecoderConfig, tinyDecoderWeights, tinyGpt2Config } from '../../support/tiny-decoder.ts';

const cpu = { device: { requested: 'cpu' as const, used: 'cpu' as const, note: '' }, threads: 1 };

let config: DecoderConfig;
let weights: Map<string, Float32Array>;
let allHooks: string[];
let attention: DecoderGraphOptions['attention'];

/** The tiny model's graph: every hook and all logits at every position, unless `options` say otherwise. */
function graphOf(options: Partial<DecoderGraphOptions> = {}) {
  return buildDecoderGraph(config, (name, dims) => ({ name, type: 'float32', dims, data: weights.get(name)! }), {
    hooks: allHooks,
    hookPositions: 'all',
    logits: 'all',
    kvCache: false,
    interventions: false,
    attention,
    ...options,
  });
}

async function session(options: Partial<DecoderGraphOptions> = {}) {
  return createSession(encodeModel(graphOf(options)), cpu);
}

const int64 = (rows: number[][]) =>
  new TensorClass(
    'int64',
    BigInt64Array.from(rows.flat(), (value) => BigInt(value)),
    [rows.length, rows[0]!.length],
  );
const float32 = (values: Float32Array, dims: number[]) => new TensorClass('float32', values, dims);
const emptyPast = (batch: number) =>
  float32(
    new Float32Array(0),
    attention === 'fused' ? [2, batch, config.nHeads, 0, config.dHead] : [batch, config.nKvHeads, 0, config.dHead],
  );

function feeds(inputs: ReferenceInputs, past?: Record<string, Tensor>): Record<string, Tensor> {
  const batch = inputs.inputIds.length;
  const result: Record<string, Tensor> = {
    input_ids: int64(inputs.inputIds),
    attention_mask: int64(inputs.attentionMask),
    position_ids: int64(inputs.positionIds),
  };
  for (let layer = 0; layer < config.nLayers; layer++) {
    const names = attention === 'fused' ? [`${layer}`] : [`${layer}.key`, `${layer}.value`];
    for (const name of names) result[`past.${name}`] = past?.[`present.${name}`] ?? emptyPast(batch);
  }
  const intervention = inputs.interventions;
  if (intervention) {
    result.mlp_key_scale = float32(intervention.mlpKeyScale, [config.nLayers, config.dMlp]);
    result.mlp_post_scale = float32(intervention.mlpPostScale, [config.nLayers, config.dMlp]);
    result.mlp_post_gain = float32(intervention.mlpPostGain, [config.nLayers, config.dMlp]);
    result.mlp_post_override_mask = float32(intervention.mlpPostOverrideMask, [config.nLayers, config.dMlp]);
    result.mlp_post_override_value = float32(intervention.mlpPostOverrideValue, [config.nLayers, config.dMlp]);
    result.mlp_out_add = float32(intervention.mlpOutAdd, [config.nLayers, config.dModel]);
    result.intervention_positions = float32(Float32Array.from(intervention.interventionPositions.flat()), [
      batch,
      inputs.inputIds[0]!.length,
    ]);
  }
  return result;
}

function expectClose(outputs: Record<string, Tensor>, reference: Map<string, Float32Array>, names: string[]) {
  const problems = names
    .map((name) => describeMismatch(name, outputs[name]!.data as Float32Array, reference.get(name)!, 1e-5))
    .filter(Boolean);
  expect(problems).toEqual([]);
}

const twoSequences: ReferenceInputs = {
  inputIds: [
    [3, 17, 42, 8, 0, 25],
    [0, 0, 11, 5, 49, 30], // left-padded: the first two positions are padding
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1],
  ],
  positionIds: [
    [0, 1, 2, 3, 4, 5],
    [0, 0, 0, 1, 2, 3],
  ],
};

const cases: [string, () => DecoderConfig, DecoderGraphOptions['attention']][] = [
  ['GPT-2, fused attention', () => tinyGpt2Config(), 'fused'],
  ['GPT-2, standard attention', () => tinyGpt2Config(), 'standard'],
  ['Llama', () => tinyDecoderConfig('llama'), 'standard'],
  ['Mistral', () => tinyDecoderConfig('mistral'), 'standard'],
  ['Qwen2', () => tinyDecoderConfig('qwen2'), 'standard'],
  ['Gemma-2', () => tinyDecoderConfig('gemma2'), 'standard'],
];

describe.each(cases)('decoder graph vs reference: %s', (_, makeConfig, kind) => {
  beforeAll(() => {
    config = makeConfig();
    weights = tinyDecoderWeights(config);
    allHooks = decoderHookNames(config.nLayers, config.mlp.kind === 'gated').filter((name) => name !== 'logits');
    attention = kind;
  });

  it('matches every hook and the logits on a batch with left padding (real positions) to 1e-5', async () => {
    const model = await session();
    const outputs = await runDecoderGraph(model, feeds(twoSequences));
    const reference = decoderReferenceForward(config, weights, twoSequences);
    // Padding positions are never read; compare the real ones of the padded row and all of the first.
    const realOnly = (name: string, values: Float32Array) => {
      const width = values.length / 12;
      return Float32Array.from(values).filter((_, index) => {
        const position = Math.floor(index / width);
        return position < 6 || position % 6 >= 2;
      });
    };
    const problems = [...allHooks, 'logits']
      .map((name) =>
        describeMismatch(
          name,
          realOnly(name, outputs[name]!.data as Float32Array),
          realOnly(name, reference.get(name)!),
          1e-5,
        ),
      )
      .filter(Boolean);
    expect(problems).toEqual([]);
    await model.release();
  });

  it('gives a left-padded sequence the same activations as the same sequence alone', async () => {
    const model = await session();
    const batched = await runDecoderGraph(model, feeds(twoSequences));
    const alone = await runDecoderGraph(
      model,
      feeds({ inputIds: [[11, 5, 49, 30]], attentionMask: [[1, 1, 1, 1]], positionIds: [[0, 1, 2, 3]] }),
    );
    const width = config.dMlp;
    const padded = (batched['blocks.1.mlp.hook_post']!.data as Float32Array).slice((6 + 2) * width, 12 * width);
    expect(
      describeMismatch('padded row', padded, alone['blocks.1.mlp.hook_post']!.data as Float32Array, 1e-5),
    ).toBeNull();
    await model.release();
  });

  it('sums the last position over the batch and picks the greedy next token, as the per-row outputs say', async () => {
    const perRow = await session({ hookPositions: 'last', logits: 'last' });
    const summed = await session({ hookPositions: 'last-batch-sum', logits: 'next-token' });
    const rows = await runDecoderGraph(perRow, feeds(twoSequences));
    const sums = await runDecoderGraph(summed, feeds(twoSequences));
    for (const [name, width] of [
      ['blocks.1.mlp.hook_post', config.dMlp],
      ['blocks.0.hook_mlp_out', config.dModel],
    ] as const) {
      const values = rows[name]!.data as Float32Array; // [2, width]
      const expected = Float32Array.from({ length: width }, (_, index) => values[index]! + values[width + index]!);
      expect(sums[name]!.dims).toEqual([width]);
      expect(describeMismatch(name, sums[name]!.data as Float32Array, expected, 1e-5)).toBeNull();
    }
    const logits = rows.logits!.data as Float32Array; // [2, d_vocab]
    const rowArgmax = (row: number) => {
      const slice = logits.subarray(row * config.dVocab, (row + 1) * config.dVocab);
      return slice.indexOf(Math.max(...slice));
    };
    expect(Array.from(sums.next_token!.data as BigInt64Array, Number)).toEqual([rowArgmax(0), rowArgmax(1)]);
    expect(sums.logits).toBeUndefined();
    await perRow.release();
    await summed.release();
  });

  it('continues from the KV cache exactly as a full forward does', async () => {
    const model = await session({ kvCache: true });
    const full: ReferenceInputs = {
      inputIds: [[3, 17, 42, 8, 9]],
      attentionMask: [[1, 1, 1, 1, 1]],
      positionIds: [[0, 1, 2, 3, 4]],
    };
    const prefix = await runDecoderGraph(
      model,
      feeds({ inputIds: [[3, 17, 42, 8]], attentionMask: [[1, 1, 1, 1]], positionIds: [[0, 1, 2, 3]] }),
    );
    const step = await runDecoderGraph(
      model,
      feeds({ inputIds: [[9]], attentionMask: [[1, 1, 1, 1, 1]], positionIds: [[4]] }, prefix),
    );
    const reference = decoderReferenceForward(config, weights, full);
    const lastOf = (values: Float32Array, width: number) => values.slice(4 * width, 5 * width);
    expect(
      describeMismatch(
        'logits',
        step.logits!.data as Float32Array,
        lastOf(reference.get('logits')!, config.dVocab),
        1e-5,
      ),
    ).toBeNull();
    expect(
      describeMismatch(
        'hook_post',
        step['blocks.1.mlp.hook_post']!.data as Float32Array,
        lastOf(reference.get('blocks.1.mlp.hook_post')!, config.dMlp),
        1e-5,
      ),
    ).toBeNull();
    const present = step[attention === 'fused' ? 'present.0' : 'present.0.key']!;
    expect(present.dims.slice(-3)).toEqual([attention === 'fused' ? config.nHeads : config.nKvHeads, 5, config.dHead]);
    await model.release();
  });

  it('applies key scale, post scale, override and added vectors exactly as the reference does', async () => {
    const model = await session({ interventions: true });
    const { nLayers, dMlp, dModel } = config;
    const scale = new Float32Array(nLayers * dMlp).fill(1);
    scale[3] = 0;
    scale[dMlp + 7] = 2.5;
    const overrideMask = new Float32Array(nLayers * dMlp);
    const overrideValue = new Float32Array(nLayers * dMlp);
    overrideMask[dMlp + 1] = 1;
    overrideValue[dMlp + 1] = 0.75;
    const gain = new Float32Array(nLayers * dMlp).fill(1);
    gain[12] = 0.9;
    gain[dMlp + 30] = 1.1;
    const keyScale = new Float32Array(nLayers * dMlp).fill(1);
    keyScale[5] = 10;
    keyScale[dMlp + 9] = 0.5;
    const outAdd = new Float32Array(nLayers * dModel);
    for (let d = 0; d < dModel; d++) outAdd[dModel + d] = -0.5 * Math.sin(d);
    const inputs: ReferenceInputs = {
      inputIds: [[3, 17, 42, 8]],
      attentionMask: [[1, 1, 1, 1]],
      positionIds: [[0, 1, 2, 3]],
      interventions: {
        mlpKeyScale: keyScale,
        mlpPostScale: scale,
        mlpPostGain: gain,
        mlpPostOverrideMask: overrideMask,
        mlpPostOverrideValue: overrideValue,
        mlpOutAdd: outAdd,
        interventionPositions: [[0, 0, 1, 1]],
      },
    };
    const outputs = await runDecoderGraph(model, feeds(inputs));
    expectClose(outputs, decoderReferenceForward(config, weights, inputs), [...allHooks, 'logits']);
    const post = outputs['blocks.1.mlp.hook_post']!.data as Float32Array;
    expect(post[3 * dMlp + 1]).toBeCloseTo(0.75, 6); // overridden at an intervention position
    expect(post[0 * dMlp + 1]).not.toBeCloseTo(0.75, 3); // untouched where positions = 0
    await model.release();
  });

  it('runs a forward whose outputs exceed the bytes per run in groups of rows, with the outputs of one run', async () => {
    const model = encodeModel(graphOf({ interventions: true }));
    const hookWidth = allHooks.reduce(
      (sum, hook) => sum + (hook.includes('.mlp.hook_p') ? config.dMlp : config.dModel),
      0,
    );
    const rowBytes = 4 * 6 * (config.dVocab + hookWidth); // one row's outputs: 6 positions
    const open = (outputBytesPerRun: number) =>
      DecoderSession.open(model, config, { ...cpu, kvCache: false, outputBytesPerRun });
    const rows = [...twoSequences.inputIds, [9, 9, 31, 2, 44, 7]];
    const masks = [...twoSequences.attentionMask, [0, 1, 1, 1, 1, 1]];
    const positions = [...twoSequences.positionIds, [0, 0, 1, 2, 3, 4]];
    const interventions = { ...noInterventions(config), positions: 'last' as const };
    interventions.mlpPostGain[2] = 3;
    const input = {
      batch: 3,
      pos: 6,
      inputIds: int64(rows).data as BigInt64Array,
      attentionMask: int64(masks).data as BigInt64Array,
      positionIds: int64(positions).data as BigInt64Array,
      cache: null,
      interventions,
    };
    const whole = await open(Infinity);
    const expected = (await whole.step(input)).outputs;
    await whole.release();
    // One row per run, then two rows and the one left.
    for (const groupBytes of [1, 2 * rowBytes]) {
      const grouped = await open(groupBytes);
      const { outputs, cache } = await grouped.step(input);
      expect(cache).toBeNull();
      expect(Object.keys(outputs).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, tensor] of Object.entries(expected)) {
        expect(outputs[name]!.dims, name).toEqual(tensor.dims);
        expect(outputs[name]!.data, name).toEqual(tensor.data);
      }
      await grouped.release();
    }
  });

  it('multiplies by the embedding table itself, not an alias, where a tied unembedding is not repacked', async () => {
    const names = (options: Partial<DecoderGraphOptions>) =>
      graphOf({ hooks: [], ...options }).initializers!.map(({ name }) => name);
    expect(names({}).includes('unembed.W_U')).toBe(true); // an alias if tied, the checkpoint's own matrix if not
    expect(names({ repackedWeights: false }).includes('unembed.W_U')).toBe(!config.tiedEmbeddings);
    const repacked = await session();
    const mapped = await session({ repackedWeights: false });
    const [a, b] = [
      await runDecoderGraph(repacked, feeds(twoSequences)),
      await runDecoderGraph(mapped, feeds(twoSequences)),
    ];
    expect(b.logits!.data).toEqual(a.logits!.data);
    await repacked.release();
    await mapped.release();
  });

  it('exposes only the requested hooks, at the last position when asked', async () => {
    const model = await session({ hooks: ['blocks.0.mlp.hook_post'], hookPositions: 'last', logits: 'last' });
    expect([...model.outputNames].sort()).toEqual(['blocks.0.mlp.hook_post', 'logits']);
    const outputs = await runDecoderGraph(model, feeds(twoSequences));
    expect(outputs['blocks.0.mlp.hook_post']!.dims).toEqual([2, config.dMlp]);
    expect(outputs.logits!.dims).toEqual([2, config.dVocab]);
    const reference = decoderReferenceForward(config, weights, twoSequences);
    const lastLogits = Float32Array.from([
      ...reference.get('logits')!.slice(5 * 50, 6 * 50),
      ...reference.get('logits')!.slice(11 * 50, 12 * 50),
    ]);
    expect(describeMismatch('last logits', outputs.logits!.data as Float32Array, lastLogits, 1e-5)).toBeNull();
    await model.release();
  });
});
