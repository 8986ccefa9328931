// The `device:benchmark` job: square MatMul throughput (GFLOP/s) on the chosen execution provider, size by size.
// Its peak is the GEMM ceiling that model benchmarks compare their achieved GFLOP/s against.

import type { GemmBenchmarkRequest, GemmBenchmarkResult, GemmPoint } from '../../shared/index.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { encodeModel } from '../onnx/graph-builder.ts';
import { createSession, resolveDevice, runSession, TensorClass } from '../runtime/onnxruntime.ts';
import { median } from './statistics.ts';

function matmulModel(size: number): Uint8Array {
  return encodeModel({
    name: `matmul_${size}`,
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    inputs: [
      { name: 'a', type: 'float32', dims: [size, size] },
      { name: 'b', type: 'float32', dims: [size, size] },
    ],
    outputs: [{ name: 'c', type: 'float32', dims: [size, size] }],
  });
}

/** A deterministic matrix with values in [-1, 1): throughput does not depend on the values, only on finiteness. */
function patternMatrix(size: number): Float32Array {
  const values = new Float32Array(size * size);
  for (let index = 0; index < values.length; index++) values[index] = ((index * 7919) % 2048) / 1024 - 1;
  return values;
}

export const runGemmBenchmark: Job<GemmBenchmarkRequest, GemmPoint, GemmBenchmarkResult> = async (request, context) => {
  const device = await resolveDevice(request.device);
  const points: GemmPoint[] = [];
  const unitsTotal = request.sizes.length * (request.repeats + 1);
  let unitsDone = 0;
  for (const size of request.sizes) {
    throwIfCancelled(context.signal);
    const session = await createSession(matmulModel(size), { device, threads: request.threads });
    try {
      const matrix = new TensorClass('float32', patternMatrix(size), [size, size]); // [n, n]
      const timesMs: number[] = [];
      for (let run = 0; run <= request.repeats; run++) {
        throwIfCancelled(context.signal);
        const started = performance.now();
        await runSession(session, { a: matrix, b: matrix });
        if (run > 0) timesMs.push(performance.now() - started); // run 0 warms up
        unitsDone++;
        context.progress({ done: unitsDone, total: unitsTotal, message: `MatMul ${size}×${size}, run ${run + 1}` });
      }
      const medianMilliseconds = median(timesMs);
      const point = { size, medianMilliseconds, gflops: (2 * size ** 3) / (medianMilliseconds * 1e6) };
      points.push(point);
      context.frame(point);
    } finally {
      await session.release();
    }
  }
  return {
    device,
    threads: request.threads ?? null,
    points,
    peakGflops: Math.max(...points.map((point) => point.gflops)),
  };
};
