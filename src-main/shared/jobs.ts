// The job catalogue: every job's name, request, streamed frame and result types, and a guard per request.
// Jobs are the one unit of work behind all three front doors (Electron IPC, loopback server, CLI).

import { deviceChoices, type DeviceChoice, type DeviceReport } from './device.ts';
import type { AppError } from './errors.ts';
import { hasOnlyKeys, isArrayOf, isOneOf, isPositiveInteger, isRecord, type Guard } from './guards.ts';

/** Measures MatMul throughput on the chosen device: the machine's GEMM ceiling, streamed size by size. */
export interface GemmBenchmarkRequest {
  device: DeviceChoice;
  /** Square matrix sizes n for n×n·n×n products, each 1..4096. */
  sizes: number[];
  /** Timed runs per size after one warm-up run; the median is reported. */
  repeats: number;
  /** onnxruntime intra-op threads; omitted = onnxruntime's default. */
  threads?: number;
}

export interface GemmPoint {
  size: number;
  medianMilliseconds: number;
  gflops: number;
}

export interface GemmBenchmarkResult {
  device: DeviceReport;
  threads: number | null;
  points: GemmPoint[];
  peakGflops: number;
}

/** name → request, frame (streamed partial result) and result types. */
export interface JobCatalogue {
  'device:benchmark': { request: GemmBenchmarkRequest; frame: GemmPoint; result: GemmBenchmarkResult };
}

export type JobName = keyof JobCatalogue;
export type JobRequest<N extends JobName> = JobCatalogue[N]['request'];
export type JobFrame<N extends JobName> = JobCatalogue[N]['frame'];
export type JobResult<N extends JobName> = JobCatalogue[N]['result'];

const maxGemmSize = 4096;

function isGemmBenchmarkRequest(value: unknown): value is GemmBenchmarkRequest {
  if (!isRecord(value) || !hasOnlyKeys(value, ['device', 'sizes', 'repeats', 'threads'])) return false;
  const sizes = value.sizes;
  return (
    isOneOf(deviceChoices)(value.device) &&
    isArrayOf(isPositiveInteger)(sizes) &&
    sizes.length > 0 &&
    sizes.length <= 32 &&
    sizes.every((size) => size <= maxGemmSize) &&
    isPositiveInteger(value.repeats) &&
    value.repeats <= 100 &&
    (value.threads === undefined || (isPositiveInteger(value.threads) && value.threads <= 256))
  );
}

/** What each job's request must look like, said in words for INPUT_INVALID hints. */
export const jobRequestShapes: { [N in JobName]: string } = {
  'device:benchmark': `{device: ${deviceChoices.join('|')}, sizes: 1–32 integers in 1..${maxGemmSize}, repeats: 1..100, threads?: 1..256}`,
};

export const jobRequestGuards: { [N in JobName]: Guard<JobRequest<N>> } = {
  'device:benchmark': isGemmBenchmarkRequest,
};

export const jobNames = Object.keys(jobRequestGuards) as JobName[];

export function isJobName(value: unknown): value is JobName {
  return typeof value === 'string' && Object.hasOwn(jobRequestGuards, value);
}

/** Progress of a running job: `done` of `total` units (null when unknown) and a line for people. */
export interface JobProgress {
  done: number;
  total: number | null;
  message: string;
}

/** The stream every job produces: any number of progress and frame events, then exactly one result or error. */
export type JobEvent =
  | { jobId: string; type: 'progress'; progress: JobProgress }
  | { jobId: string; type: 'frame'; frame: unknown }
  | { jobId: string; type: 'result'; result: unknown }
  | { jobId: string; type: 'error'; error: AppError };
