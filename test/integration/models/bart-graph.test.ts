// The BART encoder and decoder graphs against the slow TypeScript reference on a tiny seeded model: hidden states,
// hooks and logits to 1e-5, right-padded batches, cached decoding, and the gathered read-out the masker uses.

import { beforeAll, describe, expect, it } from 'vitest';
import { BartSession } from '../../../src-main/core/models/bart/bart-session.ts';
import { bartReferenceForward } from '../../../src-main/core/models/bart/reference.ts';
import { loadBartModel, type LoadedBartModel } from '../../../src-main/core/models/load-model.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { writeTinyBartFolder } from '../../support/tiny-bart.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
let model: LoadedBartModel;
let weights: Map<string, Float32Array>;
const rows = [
  [0, 500, 812, 7, 2],
  [0, 40, 2],
];
const decoderIds = [2, 0, 600, 31];

beforeAll(() => {
  useTemporaryDataDir();
  model = loadBartModel(writeTinyBartFolder(7));
  weights = new Map([...model.weights].map(([name, tensor]) => [name, tensor.read()]));
});

/** The reference's forward pass of one unpadded encoder row and a decoder input. */
const referenceOf = (row: number[], decoder: number[]) =>
  bartReferenceForward(
    model.config,
    weights,
    row,
    row.map(() => 1),
    decoder,
  );

const flat = (vectors: Float64Array[]) => Float64Array.from(vectors.flatMap((vector) => Array.from(vector)));

describe('BART graphs vs reference', () => {
  it('encodes a right-padded batch: hidden states and hooks of each row match the reference to 1e-5', async () => {
    const session = await BartSession.open(model, {
      decoder: { hooks: [], hookPositions: 'all', logits: 'all', kvCache: false },
      encoderHooks: ['encoder.blocks.1.mlp.hook_post'],
      device: cpu,
      batch: 2,
      length: 8,
    });
    const encoded = await session.encode(rows);
    const hidden = encoded.outputs.encoder_hidden!.data as Float32Array;
    const post = encoded.outputs['encoder.blocks.1.mlp.hook_post']!.data as Float32Array;
    rows.forEach((row, r) => {
      const reference = referenceOf(row, decoderIds);
      const d = model.config.dModel;
      expect(
        describeMismatch(
          `row ${r} hidden`,
          hidden.subarray(r * 5 * d, r * 5 * d + row.length * d),
          flat(reference.encoderHidden),
          1e-5,
        ),
      ).toBeNull();
      const m = model.config.dMlp;
      expect(
        describeMismatch(
          `row ${r} hook_post`,
          post.subarray(r * 5 * m, r * 5 * m + row.length * m),
          flat(reference.hooks.get('encoder.blocks.1.mlp.hook_post')!),
          1e-5,
        ),
      ).toBeNull();
    });
    await session.release();
  });

  it('decodes teacher-forced: decoder hooks and logits at every position match the reference to 1e-5', async () => {
    const session = await BartSession.open(model, {
      decoder: { hooks: ['decoder.blocks.0.mlp.hook_post'], hookPositions: 'all', logits: 'all', kvCache: false },
      device: cpu,
      batch: 2,
      length: 8,
    });
    const encoded = await session.encode(rows);
    const ids = BigInt64Array.from([...decoderIds, ...decoderIds], BigInt);
    const outputs = await session.decode(encoded, ids, decoderIds.length, 0);
    const logits = outputs.logits!.data as Float32Array;
    const vocab = model.config.dVocab;
    rows.forEach((row, r) => {
      const reference = referenceOf(row, decoderIds);
      expect(
        describeMismatch(
          `row ${r} logits`,
          logits.subarray(r * 4 * vocab, (r + 1) * 4 * vocab),
          flat(reference.logits),
          1e-5,
        ),
      ).toBeNull();
      const m = model.config.dMlp;
      const post = outputs['decoder.blocks.0.mlp.hook_post']!.data as Float32Array;
      expect(
        describeMismatch(
          `row ${r} decoder hook`,
          post.subarray(r * 4 * m, (r + 1) * 4 * m),
          flat(reference.hooks.get('decoder.blocks.0.mlp.hook_post')!),
          1e-5,
        ),
      ).toBeNull();
    });
    await session.release();
  });

  it("decodes step by step from the session's KV cache exactly as the teacher-forced pass", async () => {
    // As the infiller does: a two-token prefix first, then a token a step; then a narrower batch in the same cache.
    const session = await BartSession.open(model, {
      decoder: { hooks: [], hookPositions: 'last', logits: 'last', kvCache: true },
      device: cpu,
      batch: 2,
      length: 3, // smaller than the steps below: the cache must grow
    });
    const vocab = model.config.dVocab;
    for (const batchRows of [rows, rows.slice(1)]) {
      const encoded = await session.encode(batchRows);
      for (let past = 0, width = 2; past + width <= decoderIds.length; past += width, width = 1) {
        const ids = batchRows.flatMap(() => decoderIds.slice(past, past + width));
        const outputs = await session.decode(encoded, BigInt64Array.from(ids, BigInt), width, past);
        const logits = outputs.logits!.data as Float32Array;
        batchRows.forEach((row, r) => {
          const reference = referenceOf(row, decoderIds.slice(0, past + width));
          expect(
            describeMismatch(
              `${batchRows.length} rows, after ${past}, row ${r}`,
              logits.subarray(r * vocab, (r + 1) * vocab),
              reference.logits[past + width - 1]!,
              1e-5,
            ),
          ).toBeNull();
        });
      }
    }
    await session.release();
  });

  it('reads out logits at a chosen position per row (right-padded decoder inputs)', async () => {
    const session = await BartSession.open(model, {
      decoder: { hooks: [], hookPositions: 'all', logits: 'gather', kvCache: false },
      device: cpu,
      batch: 2,
      length: 8,
    });
    const encoded = await session.encode(rows);
    const ids = BigInt64Array.from([...decoderIds, 2, 0, 1, 1], BigInt); // row 1: two real tokens, then padding
    const outputs = await session.decode(encoded, ids, 4, 0, BigInt64Array.of(3n, 1n));
    const logits = outputs.logits!.data as Float32Array;
    const vocab = model.config.dVocab;
    const first = referenceOf(rows[0]!, decoderIds);
    const second = referenceOf(rows[1]!, [2, 0]);
    expect(describeMismatch('row 0 at 3', logits.subarray(0, vocab), first.logits[3]!, 1e-5)).toBeNull();
    expect(describeMismatch('row 1 at 1', logits.subarray(vocab, 2 * vocab), second.logits[1]!, 1e-5)).toBeNull();
    await session.release();
  });
});
