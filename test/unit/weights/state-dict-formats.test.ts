// State dicts from sharded safetensors checkpoints, weights fingerprints and the memory check before loading.

import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertFits, estimateMemory } from '../../../src-main/core/runtime/memory.ts';
import { fingerprintFile, sha256File } from '../../../src-main/core/weights/fingerprint.ts';
import { encodeSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { loadStateDictFile, type StateDictTensor } from '../../../src-main/core/weights/state-dict.ts';
import { toAppError } from '../../../src-main/shared/index.ts';

describe('sharded safetensors', () => {
  it('loads every tensor of every shard listed in model.safetensors.index.json', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-shards-'));
    writeFileSync(
      join(folder, 'model-00001-of-00002.safetensors'),
      encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]),
    );
    writeFileSync(
      join(folder, 'model-00002-of-00002.safetensors'),
      encodeSafetensors([{ name: 'b', dtype: 'F32', shape: [1], data: Float32Array.of(3) }]),
    );
    writeFileSync(
      join(folder, 'model.safetensors.index.json'),
      JSON.stringify({
        metadata: {},
        weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
      }),
    );
    const stateDict = loadStateDictFile(join(folder, 'model.safetensors.index.json'));
    expect(stateDict.files).toHaveLength(2);
    expect(Array.from(stateDict.tensors.get('b')!.read())).toEqual([3]);
    expect(stateDict.tensors.get('a')!.location?.path).toMatch(/model-00001-of-00002\.safetensors$/);
  });

  it('names the missing shard', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-shards-'));
    writeFileSync(
      join(folder, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors' } }),
    );
    let message = '';
    try {
      loadStateDictFile(join(folder, 'model.safetensors.index.json'));
    } catch (thrown) {
      message = toAppError(thrown).message;
    }
    expect(message).toMatch(/missing: model-00001-of-00002\.safetensors/);
  });
});

describe('reading a tensor into scratch memory', () => {
  /** Reads `tensor` into a scratch and on its own: the same values, the first a view of the scratch. */
  const readBothWays = (tensor: StateDictTensor) => {
    const scratch = new ArrayBuffer(4 * tensor.shape.reduce((product, dim) => product * dim, 1) + 16);
    const viewed = tensor.read(scratch);
    expect(viewed.buffer).toBe(scratch);
    expect(viewed.byteOffset).toBe(0);
    expect(Array.from(viewed)).toEqual(Array.from(tensor.read()));
    return viewed;
  };

  it('reads F32 and converted dtypes into the scratch, and leaves a scratch too small alone', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-scratch-'));
    const path = join(folder, 'model.safetensors');
    writeFileSync(
      path,
      encodeSafetensors([
        { name: 'f32', dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 3) },
        { name: 'f64', dtype: 'F64', shape: [2], data: Float64Array.of(0.5, 4) },
      ]),
    );
    const tensors = loadStateDictFile(path).tensors;
    expect(Array.from(readBothWays(tensors.get('f32')!))).toEqual([1.5, -2, 3]);
    expect(Array.from(readBothWays(tensors.get('f64')!))).toEqual([0.5, 4]);
    expect(tensors.get('f32')!.read(new ArrayBuffer(8)).buffer.byteLength).not.toBe(8);
  });

  it('reads bf16 shards and a DPO .pt file into the scratch with the values read on their own', () => {
    const llama = new URL('../../fixtures/decoders/llama3/', import.meta.url).pathname;
    const shards = loadStateDictFile(join(llama, 'model.safetensors.index.json')).tensors;
    const downProj = shards.get('model.layers.0.mlp.down_proj.weight')!;
    expect(downProj.dtype).toBe('BF16');
    readBothWays(downProj);
    const dpo = loadStateDictFile(join(llama, 'dpo.pt')).tensors;
    const dpoDownProj = [...dpo.values()].find((tensor) => tensor.name.endsWith('layers.0.mlp.down_proj.weight'))!;
    readBothWays(dpoDownProj);
  });
});

describe('weights fingerprint', () => {
  it('is the file sha256, cached, and recomputed when the file changes', () => {
    process.env.TOXSCOPE_DATA_DIR = mkdtempSync(join(os.tmpdir(), 'toxscope-fp-'));
    const file = join(mkdtempSync(join(os.tmpdir(), 'toxscope-fpfile-')), 'w.bin');
    writeFileSync(file, 'first');
    expect(fingerprintFile(file)).toBe(sha256File(file));
    writeFileSync(file, 'other'); // same size: only the mtime tells the cache it changed
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(fingerprintFile(file)).toBe(sha256File(file));
  });
});

describe('memory check', () => {
  it('refuses a model that cannot fit, with the numbers and what to do', () => {
    let error = null;
    try {
      assertFits(estimateMemory(1e12, 0), 'a 1T-parameter model');
    } catch (thrown) {
      error = toAppError(thrown);
    }
    expect(error?.code).toBe('OUT_OF_MEMORY');
    expect(error?.message).toMatch(/a 1T-parameter model needs about [\d.]+ GiB .* but only [\d.]+ GiB is free/);
    expect(() => assertFits(estimateMemory(1000, 1000), 'a tiny model')).not.toThrow();
  });

  it('says the batch, not the model, is too large when the weights alone would fit', () => {
    const hintFor = (parameters: number, workingBytes: number) => {
      try {
        assertFits(estimateMemory(parameters, workingBytes), 'a model');
      } catch (thrown) {
        return toAppError(thrown).hint;
      }
      return null;
    };
    const free = os.freemem();
    expect(hintFor(1e6, 2 * free)).toMatch(/^The model fits; the working memory of this batch and length does not/);
    expect(hintFor(1e12, 0)).toMatch(/^Models up to about [\d.]+ (billion|million) parameters fit/);
  });
});
