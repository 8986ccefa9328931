// Golden parity with the independent PyTorch reference (test/reference/decoder_reference.py) for Llama (Llama-3 rope
// scaling, linear scaling, biases), Mistral (sliding window), Qwen2 (Q/K/V biases, tied) and Gemma-2 (every
// oddity), loaded as shipped (bf16 shards with an index, fp16, fp32 .bin, a DPO trainer's dpo.pt): every hook and the
// logits to 1e-4, left-padded batches, greedy tokens cached and uncached — and the plausible mistakes, made on
// purpose, fail the same comparison.

import { beforeAll, describe, expect, it } from 'vitest';
import { promptIds } from '../../../src-main/core/interp/compare-job.ts';
import type { DecoderConfig } from '../../../src-main/core/models/decoder/config.ts';
import { generate } from '../../../src-main/core/models/decoder/generate.ts';
import { buildDecoderGraph } from '../../../src-main/core/models/decoder/graph.ts';
import { openDecoderSession } from '../../../src-main/core/models/decoder/open-session.ts';
import { loadModel, type LoadedModel } from '../../../src-main/core/models/load-model.ts';
import { encodeModel } from '../../../src-main/core/onnx/graph-builder.ts';
import { runDecoderGraph } from '../../../src-main/core/models/decoder/decoder-session.ts';
import { createSession, TensorClass, type Tensor } from '../../../src-main/core/runtime/onnxruntime.ts';
import type { SafetensorsFile } from '../../../src-main/core/weights/safetensors.ts';
import { decoderHookNames } from '../../../src-main/shared/index.ts';
import { describeMismatch, maxAbsDifference } from '../../support/check-tensor.ts';
import {
  decoderFixtureDir,
  decoderGolden,
  decoderVariants,
  tinyDecoderFolder,
  type DecoderVariant,
} from '../../support/decoder-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const vocab = 320;

beforeAll(() => {
  useTemporaryDataDir();
});

const ids = (golden: SafetensorsFile, name: string) => Array.from(golden.readInt64(name), Number);
const positions = (length: number) => BigInt64Array.from({ length }, (_, p) => BigInt(p));

async function checkHooks(model: LoadedModel, golden: SafetensorsFile): Promise<string[]> {
  const hooks = decoderHookNames(model.config.nLayers, true).filter((name) => name !== 'logits');
  const { session } = await openDecoderSession(
    model,
    { hooks, hookPositions: 'all', logits: 'all', kvCache: false, interventions: false },
    { device: cpu, batch: 1, length: 11 },
  );
  const problems: string[] = [];
  for (const prompt of ['prompt0', 'prompt1']) {
    const inputIds = golden.readInt64(`${prompt}.input_ids`);
    const { outputs } = await session.step({
      batch: 1,
      pos: inputIds.length,
      inputIds,
      attentionMask: new BigInt64Array(inputIds.length).fill(1n),
      positionIds: positions(inputIds.length),
      cache: null,
    });
    for (const hook of [...hooks, 'logits']) {
      const expected = golden.readFloat32(`${prompt}.${hook}`);
      const problem = describeMismatch(`${prompt} ${hook}`, outputs[hook]!.data as Float32Array, expected, 1e-4);
      if (problem) problems.push(problem);
    }
  }
  await session.release();
  return problems;
}

describe.each(decoderVariants)('%s against the PyTorch reference', (variant) => {
  let model: LoadedModel;
  let golden: SafetensorsFile;
  beforeAll(() => {
    model = loadModel(tinyDecoderFolder(variant));
    golden = decoderGolden(variant);
  });

  it('matches every hook and the logits of two prompts to 1e-4', async () => {
    expect(await checkHooks(model, golden)).toEqual([]);
  });

  it('gives each row of a left-padded batch its own logits at the real positions', async () => {
    const { session } = await openDecoderSession(
      model,
      { hooks: [], hookPositions: 'all', logits: 'all', kvCache: false, interventions: false },
      { device: cpu, batch: 2, length: 11 },
    );
    const inputIds = golden.readInt64('batch.input_ids'); // [2, 11]
    const mask = golden.readInt64('batch.attention_mask');
    const positionIds = new BigInt64Array(22);
    for (let row = 0; row < 2; row++) {
      let real = 0;
      for (let p = 0; p < 11; p++) {
        positionIds[row * 11 + p] = BigInt(Math.max(0, real - (mask[row * 11 + p] ? 0 : 1)));
        real += Number(mask[row * 11 + p]);
      }
    }
    const { outputs } = await session.step({
      batch: 2,
      pos: 11,
      inputIds,
      attentionMask: mask,
      positionIds,
      cache: null,
    });
    const logits = outputs.logits!.data as Float32Array;
    const expected = golden.readFloat32('batch.logits');
    const real = (values: Float32Array) => values.filter((_, index) => mask[Math.floor(index / vocab)] === 1n); // padded query rows are never read
    expect(describeMismatch('batch logits', real(logits), real(expected), 1e-4)).toBeNull();
    await session.release();
  });

  it('continues greedily as the reference does, from the static cache and recomputing, alone and batched', async () => {
    const prompts = [ids(golden, 'prompt0.input_ids'), ids(golden, 'prompt1.input_ids')];
    const expected = [ids(golden, 'prompt0.greedy8'), ids(golden, 'prompt1.greedy8')];
    for (const useCache of [true, false]) {
      const { session } = await openDecoderSession(
        model,
        { hooks: [], hookPositions: 'last', logits: 'last', kvCache: useCache, interventions: false },
        { device: cpu, batch: 2, length: 20 },
      );
      const options = { maxNewTokens: 8, sampling: null, eosTokenId: null, padTokenId: 0, useCache };
      expect((await generate(session, prompts, options)).generated).toEqual(expected);
      expect((await generate(session, [prompts[1]!], options)).generated).toEqual([expected[1]]);
      await session.release();
    }
  });
});

it('starts a Llama-3 prompt with exactly one BOS, whether the tokenizer adds it or the analysis does', async () => {
  const model = loadModel(tinyDecoderFolder('llama3'));
  const bos = model.tokenizer.tokenizer.specialIds.bos!;
  const withSpecial = await model.tokenizer.tokenizer.encode('the cat');
  expect(withSpecial[0]).toBe(bos); // Llama-3's post-processor adds <|begin_of_text|>, as tokenizer(text) does
  const [prepended] = await promptIds(model, ['the cat'], 32, true);
  const [bare] = await promptIds(model, ['the cat'], 32, false);
  expect(prepended).toEqual(withSpecial);
  expect(prepended!.filter((id) => id === bos)).toHaveLength(1);
  expect(bare).toEqual(withSpecial.slice(1));
});

it('loads a DPO trainer checkpoint ({"state": …} dpo.pt) onto the Llama-3 folder, matching its own golden', async () => {
  const model = loadModel(tinyDecoderFolder('llama3'), `${decoderFixtureDir}llama3/dpo.pt`);
  expect(await checkHooks(model, decoderGolden('llama3-dpo'))).toEqual([]);
});

/** Max |Δ| of the last prompt's logits against the golden when the graph is built from a changed config or weights. */
async function logitsError(
  variant: DecoderVariant,
  change: (config: DecoderConfig, weights: Map<string, Float32Array>) => DecoderConfig,
): Promise<number> {
  const model = loadModel(tinyDecoderFolder(variant));
  const weights = new Map([...model.weights].map(([name, tensor]) => [name, tensor.read()]));
  const config = change(structuredClone(model.config), weights);
  const graph = buildDecoderGraph(config, (name, dims) => ({ name, type: 'float32', dims, data: weights.get(name)! }), {
    hooks: [],
    hookPositions: 'all',
    logits: 'all',
    kvCache: false,
    interventions: false,
    attention: 'standard',
  });
  const session = await createSession(encodeModel(graph), { device: cpu, threads: 1 });
  const golden = decoderGolden(variant);
  const inputIds = golden.readInt64('prompt1.input_ids');
  const length = inputIds.length;
  const feeds: Record<string, Tensor> = {
    input_ids: new TensorClass('int64', inputIds, [1, length]),
    attention_mask: new TensorClass('int64', new BigInt64Array(length).fill(1n), [1, length]),
    position_ids: new TensorClass('int64', positions(length), [1, length]),
  };
  for (let layer = 0; layer < config.nLayers; layer++)
    for (const part of ['key', 'value'])
      feeds[`past.${layer}.${part}`] = new TensorClass('float32', new Float32Array(0), [
        1,
        config.nKvHeads,
        0,
        config.dHead,
      ]);
  const outputs = await runDecoderGraph(session, feeds);
  await session.release();
  return maxAbsDifference(outputs.logits!.data as Float32Array, golden.readFloat32('prompt1.logits'));
}

/** Reorders the rows of a [rows · size, …] weight block by block: block i of the result is block order[i]. */
function permuteBlocks(values: Float32Array, blockSize: number, order: number[]): Float32Array {
  const result = new Float32Array(values.length);
  order.forEach((from, to) => result.set(values.subarray(from * blockSize, (from + 1) * blockSize), to * blockSize));
  return result;
}

describe('the golden comparison catches the plausible mistakes', () => {
  const unchanged = (config: DecoderConfig) => config;

  it('passes with every option right (the baseline of the cases below)', async () => {
    for (const variant of ['gemma2', 'mistral', 'llama3'] as const)
      expect(await logitsError(variant, unchanged)).toBeLessThan(1e-4);
  });

  it.each([
    [
      'Gemma-2 without (1 + w) in its norms',
      'gemma2',
      (c: DecoderConfig) => ({ ...c, norm: { ...c.norm, weightOffset: 0 as const } }),
    ],
    [
      'Gemma-2 without attention soft-capping',
      'gemma2',
      (c: DecoderConfig) => ({ ...c, attention: { ...c.attention, logitSoftcap: null } }),
    ],
    ['Gemma-2 without final soft-capping', 'gemma2', (c: DecoderConfig) => ({ ...c, finalLogitSoftcap: null })],
    ['Gemma-2 without the embedding scale', 'gemma2', (c: DecoderConfig) => ({ ...c, embeddingScale: null })],
    [
      'Gemma-2 with windows on the odd layers',
      'gemma2',
      (c: DecoderConfig) => ({
        ...c,
        attention: {
          ...c.attention,
          slidingWindow: c.attention.slidingWindow.map((_, layer) => (layer % 2 === 1 ? 4 : null)),
        },
      }),
    ],
    [
      'Mistral without its sliding window',
      'mistral',
      (c: DecoderConfig) => ({
        ...c,
        attention: { ...c.attention, slidingWindow: c.attention.slidingWindow.map(() => null) },
      }),
    ],
    [
      'Mistral with a window one longer',
      'mistral',
      (c: DecoderConfig) => ({
        ...c,
        attention: { ...c.attention, slidingWindow: c.attention.slidingWindow.map(() => 5) },
      }),
    ],
    [
      'Llama-3 without its rope scaling',
      'llama3',
      (c: DecoderConfig) => ({
        ...c,
        positions: {
          kind: 'rotary' as const,
          ropeType: 'default',
          inverseFrequencies: Float64Array.from({ length: c.dHead / 2 }, (_, i) => 1 / 500000 ** ((2 * i) / c.dHead)),
        },
      }),
    ],
  ] as const)('%s', async (_, variant, change) => {
    expect(await logitsError(variant, change)).toBeGreaterThan(1e-2);
  });

  it('a wrong grouped-query head mapping (query head h reading key head h mod n_kv instead of h / group)', async () => {
    // Tiled heads on the real weights = the right mapping on weights whose query heads (rows of W_Q, columns of W_O)
    // are reordered: grouped head σ(h) carries what tiled head h would.
    const error = await logitsError('llama3', (config, weights) => {
      const { nHeads, nKvHeads, dHead, dModel } = config;
      const group = nHeads / nKvHeads;
      const order = Array.from({ length: nHeads }, (_, slot) => (slot % group) * nKvHeads + Math.floor(slot / group));
      for (let layer = 0; layer < config.nLayers; layer++) {
        const q = `blocks.${layer}.attn.W_Q`;
        weights.set(q, permuteBlocks(weights.get(q)!, dHead * dModel, order)); // [n_heads · d_head, d_model]
        const o = `blocks.${layer}.attn.W_O`; // [d_model, n_heads · d_head]: reorder each row's head blocks
        const values = weights.get(o)!;
        const permuted = new Float32Array(values.length);
        for (let row = 0; row < dModel; row++)
          permuted.set(
            permuteBlocks(values.subarray(row * nHeads * dHead, (row + 1) * nHeads * dHead), dHead, order),
            row * nHeads * dHead,
          );
        weights.set(o, permuted);
      }
      return config;
    });
    expect(error).toBeGreaterThan(1e-2);
  });

  it('interleaved instead of rotate-half RoPE', async () => {
    // Interleaved pairs (2i, 2i+1) on the real weights = rotate-half pairs (i, i + d/2) on weights whose Q and K rows
    // are de-interleaved within each head.
    const error = await logitsError('llama3', (config, weights) => {
      const { dHead, dModel } = config;
      const order = [
        ...Array.from({ length: dHead / 2 }, (_, i) => 2 * i),
        ...Array.from({ length: dHead / 2 }, (_, i) => 2 * i + 1),
      ];
      for (let layer = 0; layer < config.nLayers; layer++)
        for (const name of [`blocks.${layer}.attn.W_Q`, `blocks.${layer}.attn.W_K`]) {
          const values = weights.get(name)!;
          const heads = values.length / (dHead * dModel);
          const result = new Float32Array(values.length);
          for (let head = 0; head < heads; head++) {
            const block = values.subarray(head * dHead * dModel, (head + 1) * dHead * dModel);
            result.set(permuteBlocks(block, dModel, order), head * dHead * dModel);
          }
          weights.set(name, result);
        }
      return config;
    });
    expect(error).toBeGreaterThan(1e-2);
  });
});
