// A memory estimate before loading, so a model that will not fit is refused with numbers instead of crashing.

import os from 'node:os';
import { raise, weightsMemoryBytes } from '../../shared/index.ts';

export interface MemoryEstimate {
  /** float32 weights as onnxruntime holds them. */
  weightsBytes: number;
  /** Working memory of one forward: activations and KV cache for the largest batch planned. */
  workingBytes: number;
  totalBytes: number;
  availableBytes: number;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** weights: see weightsMemoryBytes; working: the caller's estimate of activations for its batch. */
export function estimateMemory(parameters: number, workingBytes: number): MemoryEstimate {
  const weightsBytes = weightsMemoryBytes(parameters);
  return { weightsBytes, workingBytes, totalBytes: weightsBytes + workingBytes, availableBytes: os.freemem() };
}

export function assertFits(estimate: MemoryEstimate, what: string): void {
  if (estimate.totalBytes > estimate.availableBytes) {
    raise(
      'OUT_OF_MEMORY',
      `${what} needs about ${gib(estimate.totalBytes)} (weights ${gib(estimate.weightsBytes)}, working ${gib(estimate.workingBytes)}), but only ${gib(estimate.availableBytes)} is free.`,
      'Close other programs, lower --batch or the prompt length, or use a machine with more memory.',
    );
  }
}
