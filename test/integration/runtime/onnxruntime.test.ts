// Integration tests of the runtime module and the device benchmark job against the real onnxruntime-node.

import { describe, expect, it } from 'vitest';
import { runGemmBenchmark } from '../../../src-main/core/diagnostics/gemm-benchmark.ts';
import {
  createSession,
  probeProvider,
  releaseTensorMemory,
  resolveDevice,
  TensorClass,
} from '../../../src-main/core/runtime/onnxruntime.ts';
import { encodeModel } from '../../../src-main/core/onnx/graph-builder.ts';
import { toAppError, type GemmPoint, type JobProgress } from '../../../src-main/shared/index.ts';
import { workerDir } from '../../support/built-app.ts';

describe('execution providers', () => {
  it('loads the bundled CPU provider and computes with it', async () => {
    expect(await probeProvider('cpu')).toEqual({ provider: 'cpu', loads: true, detail: '' });
  });

  it('never falls back silently when CUDA is asked for explicitly', async () => {
    const cuda = await probeProvider('cuda');
    if (cuda.loads) {
      expect((await resolveDevice('cuda')).used).toBe('cuda');
      return;
    }
    const error = await resolveDevice('cuda').then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.code).toBe('DEVICE_UNAVAILABLE');
    expect(error?.hint).toMatch(/npm run setup:cuda/);
  });

  it('reports how auto decided', async () => {
    const report = await resolveDevice('auto');
    expect(report.requested).toBe('auto');
    expect(report.note).toMatch(/auto chose (CUDA|CPU)/);
  });
});

describe('releaseTensorMemory', () => {
  it("empties a run's output at once, and leaves views into other buffers alone", async () => {
    const model = encodeModel({
      name: 'double',
      nodes: [{ opType: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float32', dims: ['n'] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['n'] }],
    });
    const session = await createSession(model, { device: await resolveDevice('cpu'), threads: 1 });
    try {
      const { y } = await session.run({ x: new TensorClass('float32', Float32Array.of(1, 2, 3), [3]) });
      expect(Array.from(y!.data as Float32Array)).toEqual([2, 4, 6]);
      releaseTensorMemory(y!);
      expect(y!.data.length).toBe(0);
      expect((y!.data as Float32Array).buffer.byteLength).toBe(0);
    } finally {
      await session.release();
    }
    const whole = new Float32Array(8).fill(1);
    const view = new TensorClass('float32', whole.subarray(2, 6), [4]);
    releaseTensorMemory(view);
    expect(Array.from(whole)).toEqual(Array(8).fill(1));
    expect(view.data.length).toBe(4);
  });
});

describe('device:benchmark job', () => {
  it('streams one frame per size and ends with their peak', async () => {
    const frames: GemmPoint[] = [];
    const progress: JobProgress[] = [];
    const result = await runGemmBenchmark(
      { device: 'cpu', sizes: [32, 64], repeats: 2, threads: 1 },
      {
        signal: new AbortController().signal,
        frame: (point) => frames.push(point),
        progress: (p) => progress.push(p),
        workerDir,
      },
    );
    expect(frames.map((point) => point.size)).toEqual([32, 64]);
    expect(frames.every((point) => point.gflops > 0 && point.medianMilliseconds > 0)).toBe(true);
    expect(result.peakGflops).toBe(Math.max(...frames.map((point) => point.gflops)));
    expect(result.device).toEqual({ requested: 'cpu', used: 'cpu', note: '' });
    expect(progress.at(-1)).toMatchObject({ done: 6, total: 6 });
  });

  it('stops with CANCELLED at the next run once its signal is aborted', async () => {
    const controller = new AbortController();
    const frames: GemmPoint[] = [];
    const outcome = await runGemmBenchmark(
      { device: 'cpu', sizes: [32, 64, 128], repeats: 1 },
      {
        signal: controller.signal,
        workerDir,
        frame: (point) => {
          frames.push(point);
          controller.abort();
        },
        progress: () => undefined,
      },
    ).catch((thrown: unknown) => toAppError(thrown));
    expect(outcome).toMatchObject({ code: 'CANCELLED' });
    expect(frames).toHaveLength(1);
  });
});
