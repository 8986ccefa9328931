// Golden parity with the independent PyTorch reference (test/reference/gpt2_reference.py): tiny random GPT-2
// checkpoints in real formats (hub safetensors with buffers, pytorch_model.bin with prefixes, a dpo.pt training
// checkpoint), every hook and the logits to 1e-4, and greedy generation cached and uncached.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src-main/core/models/load-model.ts';
import { generate } from '../../../src-main/core/models/decoder/generate.ts';
import { openDecoderSession } from '../../../src-main/core/models/decoder/open-session.ts';
import { decoderHookNames } from '../../../src-main/shared/index.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { dpoCheckpoint, gpt2Golden, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };

beforeAll(() => {
  useTemporaryDataDir();
});

async function checkAgainstGolden(model: LoadedModel, label: 'base' | 'dpo') {
  const golden = gpt2Golden(label);
  const hooks = decoderHookNames(model.config.nLayers).filter((name) => name !== 'logits');
  const { session } = await openDecoderSession(
    model,
    { hooks, hookPositions: 'all', logits: 'all', kvCache: false, interventions: false },
    { device: cpu, batch: 1, length: 8 },
  );
  const sample = golden.readInt64('vocab_sample');
  const problems: string[] = [];
  for (const index of [0, 1]) {
    const ids = golden.readInt64(`prompt${index}.input_ids`);
    const pos = ids.length;
    const { outputs } = await session.step({
      batch: 1,
      pos,
      inputIds: ids,
      attentionMask: new BigInt64Array(pos).fill(1n),
      positionIds: BigInt64Array.from({ length: pos }, (_, p) => BigInt(p)),
      cache: null,
    });
    for (const hook of hooks) {
      const problem = describeMismatch(
        `prompt${index} ${hook}`,
        outputs[hook]!.data as Float32Array,
        golden.readFloat32(`prompt${index}.${hook}`),
        1e-4,
      );
      if (problem) problems.push(problem);
    }
    const logits = outputs.logits!.data as Float32Array;
    const vocab = model.config.dVocab;
    const sampled = Float32Array.from(
      { length: pos * sample.length },
      (_, flat) => logits[Math.floor(flat / sample.length) * vocab + Number(sample[flat % sample.length])]!,
    );
    for (const problem of [
      describeMismatch(
        `prompt${index} logits (sampled)`,
        sampled,
        golden.readFloat32(`prompt${index}.logits.sampled`),
        1e-4,
      ),
      describeMismatch(
        `prompt${index} logits (last)`,
        logits.subarray((pos - 1) * vocab),
        golden.readFloat32(`prompt${index}.logits.last`),
        1e-4,
      ),
    ]) {
      if (problem) problems.push(problem);
    }
  }
  await session.release();
  expect(problems).toEqual([]);
}

async function greedyTokens(model: LoadedModel, useCache: boolean, prompts: number[][]) {
  const { session } = await openDecoderSession(
    model,
    { hooks: [], hookPositions: 'last', logits: 'last', kvCache: useCache, interventions: false },
    { device: cpu, batch: prompts.length, length: 16 },
  );
  const result = await generate(session, prompts, {
    maxNewTokens: 8,
    sampling: null,
    eosTokenId: null,
    padTokenId: 50256,
    useCache,
  });
  await session.release();
  return result.generated;
}

describe('GPT-2 golden parity with PyTorch', () => {
  it('hub layout (model.safetensors, no prefix, attn.bias buffers): every hook and the logits to 1e-4', async () => {
    await checkAgainstGolden(loadModel(tinyGpt2Folder('hub')), 'base');
  });

  it('pytorch_model.bin (transformer. prefix, tied lm_head): every hook and the logits to 1e-4', async () => {
    await checkAgainstGolden(loadModel(tinyGpt2Folder('bin')), 'base');
  });

  it('a dpo.pt training checkpoint given with --weights: every hook and the logits to 1e-4', async () => {
    await checkAgainstGolden(loadModel(tinyGpt2Folder('hub'), dpoCheckpoint), 'dpo');
  });

  it('greedy generation gives the reference tokens, with and without the KV cache, alone and batched', async () => {
    const base = gpt2Golden('base');
    const prompts = [0, 1].map((index) => Array.from(base.readInt64(`prompt${index}.input_ids`), Number));
    const expected = [0, 1].map((index) => Array.from(base.readInt64(`prompt${index}.greedy8`), Number));
    const model = loadModel(tinyGpt2Folder('hub'));
    expect(await greedyTokens(model, true, prompts)).toEqual(expected); // batched, left-padded (lengths 6 and 7)
    expect(await greedyTokens(model, false, prompts)).toEqual(expected);
    expect(await greedyTokens(model, true, [prompts[0]!])).toEqual([expected[0]]);
  });

  it('reuses the cached graph on a second load, with the weights linked in place, not copied', async () => {
    useTemporaryDataDir(); // an empty graph cache: the tests above built graphs for these same weights
    const folder = tinyGpt2Folder('hub');
    const options = {
      hooks: [],
      hookPositions: 'last' as const,
      logits: 'last' as const,
      kvCache: true,
      interventions: false,
    };
    const first = await openDecoderSession(loadModel(folder), options, { device: cpu, batch: 1, length: 8 });
    await first.session.release();
    const second = await openDecoderSession(loadModel(folder), options, { device: cpu, batch: 1, length: 8 });
    await second.session.release();
    expect([first.graph.hit, second.graph.hit]).toEqual([false, true]);
    expect(second.graph.weightsPlacement).toBe('linked');
    expect(second.graph.modelPath).toBe(first.graph.modelPath);
  });
});
