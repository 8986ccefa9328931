// The static-cache decoder graph through DecoderSession: decoding step by step from the session's in-place cache gives
// the reference's last-position hooks and logits to 1e-5 on a left-padded batch, also when the cache must grow past
// its capacity, when a smaller batch follows a larger one in the same buffers, and when a batch wider than
// prefillGroupRows is prefilled in groups of rows (per-row outputs, and compare's batch sums and greedy tokens); and a
// step is fed only the slots filled so far. GPT-2 throughout; the rotary families (grouped heads, windows shorter than
// the sequences, Gemma-2's soft-caps) on the left-padded batch and the grouped prefill.

import { describe, expect, it } from 'vitest';
import { buildDecoderGraph } from '../../../src-main/core/models/decoder/graph.ts';
import { hiddenSlotMask, StaticKvCache } from '../../../src-main/core/models/static-kv-cache.ts';
import { TensorClass } from '../../../src-main/core/runtime/onnxruntime.ts';
import {
  DecoderSession,
  prefillGroupRows,
  type KvCache,
} from '../../../src-main/core/models/decoder/decoder-session.ts';
import { decoderReferenceForward } from '../../../src-main/core/models/decoder/reference.ts';
import { encodeModel } from '../../../src-main/core/onnx/graph-builder.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import type { DecoderConfig } from '../../../src-main/core/models/decoder/config.ts';
import { tinyDecoderConfig, tinyGpt2Config, tinyDecoderWeights } from '../../support/tiny-decoder.ts';

const config = tinyGpt2Config();
const weights = tinyDecoderWeights(config);
const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const hook = 'blocks.1.mlp.hook_post';

async function staticSession(
  capacity: number,
  modelConfig = config,
  outputs: { hookPositions: 'last' | 'last-batch-sum'; logits: 'last' | 'next-token' } = {
    hookPositions: 'last',
    logits: 'last',
  },
): Promise<DecoderSession> {
  const modelWeights = modelConfig === config ? weights : tinyDecoderWeights(modelConfig);
  const graph = buildDecoderGraph(
    modelConfig,
    (name, dims) => ({ name, type: 'float32', dims, data: modelWeights.get(name)! }),
    { hooks: [hook], ...outputs, kvCache: true, interventions: false, attention: 'static' },
  );
  return DecoderSession.open(encodeModel(graph), modelConfig, {
    device: cpu,
    threads: 1,
    cacheCapacity: capacity,
    kvCache: true,
  });
}

const bigints = (rows: number[][]) => BigInt64Array.from(rows.flat(), (value) => BigInt(value));

/**
 * Prefills `prompts` (left-padded rows with their masks), then feeds `continuation` one column per step; after every
 * step the last-position outputs must equal a full reference forward over everything so far.
 */
async function decodeAndCheck(
  session: DecoderSession,
  prompts: number[][],
  masks: number[][],
  continuation: number[][],
  model: { config: DecoderConfig; weights: Map<string, Float32Array> } = { config, weights },
) {
  const ids = prompts.map((row) => [...row]);
  const mask = masks.map((row) => [...row]);
  let cache: KvCache | null = null;
  for (let step = 0; step <= continuation[0]!.length; step++) {
    if (step > 0)
      ids.forEach((row, index) => {
        row.push(continuation[index]![step - 1]!);
        mask[index]!.push(1);
      });
    const positions = mask.map((row) => {
      let real = 0;
      return row.map((value) => Math.max(0, (real += value) - 1));
    });
    const pos = step === 0 ? ids[0]!.length : 1;
    const from = ids[0]!.length - pos;
    const out: Awaited<ReturnType<DecoderSession['step']>> = await session.step({
      batch: ids.length,
      pos,
      inputIds: bigints(ids.map((row) => row.slice(from))),
      attentionMask: bigints(mask),
      positionIds: bigints(positions.map((row) => row.slice(from))),
      cache,
    });
    cache = out.cache;
    expect(cache?.length).toBe(ids[0]!.length);
    const reference = decoderReferenceForward(model.config, model.weights, {
      inputIds: ids,
      attentionMask: mask,
      positionIds: positions,
    });
    const length = ids[0]!.length;
    const last = (name: string, width: number) =>
      Float32Array.from(
        ids.flatMap((_, row) => [
          ...reference.get(name)!.subarray((row * length + length - 1) * width, (row * length + length) * width),
        ]),
      );
    expect(
      describeMismatch(
        `logits, step ${step}`,
        out.outputs.logits!.data as Float32Array,
        last('logits', model.config.dVocab),
        1e-5,
      ),
    ).toBeNull();
    expect(
      describeMismatch(
        `${hook}, step ${step}`,
        out.outputs[hook]!.data as Float32Array,
        last(hook, model.config.dMlp),
        1e-5,
      ),
    ).toBeNull();
  }
}

/** Three left-padded rows (their masks) and five tokens to continue each. */
const leftPadded = {
  prompts: [
    [3, 17, 42, 8],
    [0, 0, 11, 5],
    [0, 9, 30, 2],
  ],
  masks: [
    [1, 1, 1, 1],
    [0, 0, 1, 1],
    [0, 1, 1, 1],
  ],
  continuation: [
    [7, 1, 44, 13, 2],
    [20, 20, 6, 0, 31],
    [5, 48, 12, 9, 3],
  ],
};

/** Ten rows of 1–7 real tokens, left-padded to 7, and three tokens to continue each. */
const ragged = Array.from({ length: prefillGroupRows + 2 }, (_, row) => {
  const length = 1 + ((row * 5) % 7);
  return {
    prompt: [...Array<number>(7 - length).fill(0), ...Array.from({ length }, (_, p) => (row * 13 + p * 7) % 50)],
    mask: [...Array<number>(7 - length).fill(0), ...Array<number>(length).fill(1)],
    continuation: [(row * 3) % 50, (row * 11 + 1) % 50, (row * 17 + 2) % 50],
  };
});

/** The ragged rows as decodeAndCheck takes them: prompts, masks, continuations. */
const raggedBatch = [
  ragged.map(({ prompt }) => prompt),
  ragged.map(({ mask }) => mask),
  ragged.map(({ continuation }) => continuation),
] as const;

describe('static KV cache', () => {
  it('feeds a step only the slots filled so far, and writes a step as one block per layer', () => {
    const { nKvHeads, dHead } = config;
    const width = nKvHeads * dHead;
    const cache = new StaticKvCache(config, 16);
    cache.reserve(2, 3, 0);
    // A prefill is fed one slot its mask hides (onnxruntime cannot take a cache of no slots).
    const prefill = cache.feeds(2, 0);
    expect(prefill['cache.0.key']!.dims).toEqual([1, 2, nKvHeads, dHead]);
    const mask = hiddenSlotMask(BigInt64Array.from([1n, 1n, 1n, 0n, 1n, 1n]), 2, 3);
    expect(mask.dims).toEqual([2, 4]);
    expect(Array.from(mask.data as BigInt64Array)).toEqual([0n, 1n, 1n, 1n, 0n, 0n, 1n, 1n]);
    const fresh = (pos: number, offset: number) =>
      Object.fromEntries(
        Array.from({ length: config.nLayers }, (_, layer) =>
          ['key', 'value'].map((part) => [
            `new.${layer}.${part}`,
            new TensorClass(
              'float32',
              Float32Array.from({ length: pos * 2 * width }, (_, i) => offset + i),
              [pos, 2, nKvHeads, dHead],
            ),
          ]),
        ).flat(),
      );
    const first = fresh(3, 0);
    const firstKeys = first['new.0.key']!;
    cache.write(first, 0, 3);
    // The written outputs are consumed: out of the record, their buffers handed back.
    expect(Object.keys(first)).toEqual([]);
    expect(firstKeys.data.length).toBe(0);
    cache.reserve(2, 4, 3);
    cache.write(fresh(1, 1000), 3, 1);
    const step = cache.feeds(2, 4);
    expect(step['cache.1.value']!.dims).toEqual([4, 2, nKvHeads, dHead]);
    const values = step['cache.1.value']!.data as Float32Array;
    expect(values.length).toBe(4 * 2 * width);
    expect(Array.from(values.subarray(0, 3 * 2 * width))).toEqual(Array.from({ length: 3 * 2 * width }, (_, i) => i));
    expect(values[3 * 2 * width]).toBe(1000);
  });

  it('decodes a left-padded batch step by step exactly as full forwards do', async () => {
    const session = await staticSession(16);
    await decodeAndCheck(session, leftPadded.prompts, leftPadded.masks, leftPadded.continuation);
    await session.release();
  });

  it('grows past its capacity, and serves a smaller batch from the same buffers', async () => {
    const session = await staticSession(3); // the prompt alone needs 4 positions
    await decodeAndCheck(
      session,
      [
        [3, 17, 42, 8],
        [0, 0, 11, 5],
      ],
      [
        [1, 1, 1, 1],
        [0, 0, 1, 1],
      ],
      [
        [7, 1, 44, 13, 2, 6, 1],
        [20, 20, 6, 0, 31, 4, 4],
      ],
    );
    await decodeAndCheck(session, [[12, 3]], [[1, 1]], [[9, 9, 40]]);
    await session.release();
  });

  it('prefills a batch wider than prefillGroupRows in groups of rows, and decodes on from their cache', async () => {
    expect(new Set(ragged.map(({ mask }) => mask.indexOf(1))).size).toBeGreaterThan(3); // groups trim different widths
    const session = await staticSession(8); // the cache grows during the decode
    await decodeAndCheck(session, ...raggedBatch);
    await session.release();
  });

  it("gives compare's batch sums and greedy tokens from a grouped prefill", async () => {
    const session = await staticSession(16, config, { hookPositions: 'last-batch-sum', logits: 'next-token' });
    const ids = ragged.map(({ prompt }) => prompt);
    const mask = ragged.map(({ mask }) => mask);
    const positions = mask.map((row) => {
      let real = 0;
      return row.map((value) => Math.max(0, (real += value) - 1));
    });
    const { outputs } = await session.step({
      batch: ids.length,
      pos: 7,
      inputIds: bigints(ids),
      attentionMask: bigints(mask),
      positionIds: bigints(positions),
      cache: null,
    });
    expect(outputs['new.0.key']).toBeUndefined(); // a grouped prefill keeps its keys and values to the cache
    const reference = decoderReferenceForward(config, weights, {
      inputIds: ids,
      attentionMask: mask,
      positionIds: positions,
    });
    const lastRow = (name: string, width: number, row: number) =>
      reference.get(name)!.subarray((row * 7 + 6) * width, (row * 7 + 7) * width);
    const sum = new Float32Array(config.dMlp);
    ids.forEach((_, row) => lastRow(hook, config.dMlp, row).forEach((value, index) => (sum[index]! += value)));
    expect(describeMismatch(hook, outputs[hook]!.data as Float32Array, sum, 1e-5)).toBeNull();
    const greedy = ids.map((_, row) => {
      const logits = lastRow('logits', config.dVocab, row);
      return logits.indexOf(Math.max(...logits));
    });
    expect(Array.from(outputs.next_token!.data as BigInt64Array, Number)).toEqual(greedy);
    await session.release();
  });
});

describe.each(['llama', 'mistral', 'qwen2', 'gemma2'] as const)('static KV cache, %s', (family) => {
  const model = { config: tinyDecoderConfig(family), weights: new Map<string, Float32Array>() };
  model.weights = tinyDecoderWeights(model.config);

  it('decodes a left-padded batch step by step exactly as full forwards do', async () => {
    const session = await staticSession(4, model.config); // grows during the decode
    await decodeAndCheck(session, leftPadded.prompts, leftPadded.masks, leftPadded.continuation, model);
    await session.release();
  });

  it('prefills a batch wider than prefillGroupRows in groups of rows, and decodes on from their cache', async () => {
    const session = await staticSession(8, model.config);
    await decodeAndCheck(session, ...raggedBatch, model);
    await session.release();
  });
});
