// The memory check before loading on a CUDA device: weighed against the GPU's free memory as nvidia-smi reports it
// (here a stand-in nvidia-smi on PATH that answers as a GPU would), with the GPU named; no refusal where the device
// cannot say.

import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertFits, estimateMemory } from '../../../src-main/core/runtime/memory.ts';
import { toAppError } from '../../../src-main/shared/index.ts';
describe('memory check on a CUDA device', () => {
  /** A folder holding an `nvidia-smi` that answers as a GPU with `freeMiB` free would, and logs its arguments. */
  function fakeNvidiaSmi(freeMiB: number): { path: string; calls: string } {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-nvidia-smi-'));
    const calls = join(folder, 'calls.txt');
    const script = join(folder, 'nvidia-smi');
    writeFileSync(script, `#!/bin/sh\necho "$@" >> '${calls}'\necho '${freeMiB}, NVIDIA Test GPU'\n`);
    chmodSync(script, 0o755);
    return { path: folder, calls };
  }

  const withPath = <T>(path: string, env: Record<string, string>, action: () => T): T => {
    const saved = { ...process.env };
    Object.assign(process.env, { PATH: path, ...env });
    try {
      return action();
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  };

  it("weighs CUDA against the GPU's free memory, not the machine's, and names the GPU", () => {
    // A model whose float32 weights are 1.5× this machine's free memory, on a GPU with twice that free.
    const parameters = Math.ceil((1.5 * os.freemem()) / 4);
    expect(() => assertFits(estimateMemory(parameters, 0, 'cpu'), 'the model')).toThrow();
    const gpu = fakeNvidiaSmi(Math.ceil((2 * os.freemem()) / 2 ** 20));
    expect(() =>
      withPath(gpu.path, {}, () => assertFits(estimateMemory(parameters, 0, 'cuda'), 'the model')),
    ).not.toThrow();
    const small = fakeNvidiaSmi(4096);
    let error = null;
    try {
      withPath(small.path, { CUDA_VISIBLE_DEVICES: '3,1' }, () =>
        assertFits(estimateMemory(8e9, 0, 'cuda'), 'an 8B model'),
      );
    } catch (thrown) {
      error = toAppError(thrown);
    }
    expect(error?.code).toBe('OUT_OF_MEMORY');
    expect(error?.message).toMatch(/but only 4\.00 GiB is free on the GPU \(NVIDIA Test GPU\)\.$/);
    expect(error?.hint).toMatch(/fit in the free memory on the GPU \(NVIDIA Test GPU\) \(float32\)\. .*--device cpu/);
    // onnxruntime's device 0 is the first of CUDA_VISIBLE_DEVICES; nvidia-smi is asked about that GPU.
    expect(readFileSync(small.calls, 'utf8')).toMatch(/-i 3$/m);
  });

  it('does not refuse where the GPU cannot say (no nvidia-smi, or WebGPU)', () => {
    const empty = mkdtempSync(join(os.tmpdir(), 'toxscope-no-nvidia-smi-'));
    expect(withPath(empty, {}, () => estimateMemory(1e12, 0, 'cuda'))).toBeNull();
    expect(estimateMemory(1e12, 0, 'webgpu')).toBeNull();
    expect(() => assertFits(null, 'a model')).not.toThrow();
  });
});
