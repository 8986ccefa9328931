// Benchmark of the engine host choice (worker threads): what the hop to a worker costs per job against calling the
// same job in-process, the cold start of a worker, and the GEMM ceiling of this machine. Run by `npm run bench`.

import { runGemmBenchmark } from '../../src-main/core/diagnostics/gemm-benchmark.ts';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { createEngineHost, type EngineHost } from '../../src-main/host/engine-host.ts';
import type { GemmBenchmarkRequest } from '../../src-main/shared/index.ts';
import { workerDir, workerUrl } from '../support/built-app.ts';

/** One line of docs/benchmarks.md: our median, the baseline measured in the same command, and how they compare. */
export interface BenchRow {
  name: string;
  value: number;
  unit: 'ms' | 's' | 'MiB' | 'GFLOP/s';
  baseline: string;
  baselineValue: number | null;
  /** e.g. "2.10× faster", "0.71× the memory", "89% of the ceiling". */
  comparison: string;
  note: string;
}

/** "N× faster" for times (baseline / ours). */
export function speedup(ours: number, baseline: number): string {
  return `${(baseline / ours).toFixed(2)}× ${baseline >= ours ? 'faster' : 'as fast'}`;
}

const tinyRequest: GemmBenchmarkRequest = { device: 'cpu', sizes: [8], repeats: 1, threads: 1 };
const noop = () => undefined;

function runOnHost(host: EngineHost, request: GemmBenchmarkRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = host.start('device:benchmark', request, (event) => {
      if (event.type === 'result') resolve();
      if (event.type === 'error') reject(new Error(event.error.message));
    });
    if (!started.ok) reject(new Error(started.error.message));
  });
}

async function timeMs(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

export async function benchEngineHost(rounds: number): Promise<BenchRow[]> {
  const coldStarts: number[] = [];
  for (let round = 0; round < 5; round++) {
    const host = createEngineHost({ workerUrl });
    coldStarts.push(await timeMs(() => runOnHost(host, tinyRequest)));
    await host.close();
  }

  const host = createEngineHost({ workerUrl });
  await runOnHost(host, tinyRequest);
  const viaHost: number[] = [];
  const direct: number[] = [];
  const context = { signal: new AbortController().signal, progress: noop, frame: noop, workerDir };
  await runGemmBenchmark(tinyRequest, context);
  for (let round = 0; round < rounds; round++) {
    viaHost.push(await timeMs(() => runOnHost(host, tinyRequest)));
    direct.push(await timeMs(() => runGemmBenchmark(tinyRequest, context)));
  }
  await host.close();

  const ceiling = await runGemmBenchmark({ device: 'cpu', sizes: [512, 1024, 2048], repeats: 5 }, context);
  const best = ceiling.points.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return [
    {
      name: 'tiny job through a warm worker (start → result)',
      value: median(viaHost),
      unit: 'ms',
      baseline: 'same job called in-process',
      baselineValue: median(direct),
      comparison: `+${(median(viaHost) - median(direct)).toFixed(2)} ms per job`,
      note: 'the cost of keeping the serving thread free',
    },
    {
      name: 'first job on a cold worker (spawn + load onnxruntime + job)',
      value: median(coldStarts),
      unit: 'ms',
      baseline: 'warm worker',
      baselineValue: median(viaHost),
      comparison: `+${(median(coldStarts) - median(viaHost)).toFixed(0)} ms once`,
      note: 'paid once per engine start',
    },
    {
      name: `GEMM ceiling: MatMul ${best.size}×${best.size}, onnxruntime CPU, default threads`,
      value: best.gflops,
      unit: 'GFLOP/s',
      baseline: '',
      baselineValue: null,
      comparison: '',
      note: `sizes ${ceiling.points.map((p) => `${p.size}: ${p.gflops.toFixed(0)}`).join(', ')}`,
    },
  ];
}
