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

/** The largest model whose weights would fit beside this working memory, in words (e.g. "3.1 billion"). */
function fittingParameters(estimate: MemoryEstimate): string {
  const parameters = Math.max(0, estimate.availableBytes - estimate.workingBytes) / (weightsMemoryBytes(1e6) / 1e6);
  return parameters >= 1e9 ? `${(parameters / 1e9).toFixed(1)} billion` : `${Math.floor(parameters / 1e6)} million`;
}

export function assertFits(estimate: MemoryEstimate, what: string): void {
  if (estimate.totalBytes <= estimate.availableBytes) return;
  // The model itself fits when its weights would leave at least half the free memory: then the batch is what to cut.
  const batchTooLarge = estimate.weightsBytes <= estimate.availableBytes / 2;
  const fitting = `Models up to about ${fittingParameters(estimate)} parameters fit in the free memory here (float32 on the CPU).`;
  raise(
    'OUT_OF_MEMORY',
    `${what} needs about ${gib(estimate.totalBytes)} (weights ${gib(estimate.weightsBytes)}, working ${gib(estimate.workingBytes)}), but only ${gib(estimate.availableBytes)} is free.`,
    batchTooLarge
      ? 'The model fits; the working memory of this batch and length does not. Lower --batch or the length (--max-length, --max-new-tokens, the prompt length), or close other programs.'
      : `${fitting} Use a smaller model, a GPU with enough memory (--device cuda or webgpu), or close other programs; lowering --batch or the prompt length shrinks only the working part.`,
    {
      appHint: batchTooLarge
        ? 'The model fits; the working memory of this batch and length does not. Run fewer prompts or sentences per batch, shorter lengths, or close other programs.'
        : `${fitting} Use a smaller model, a GPU with enough memory (Settings → device), or close other programs; fewer prompts per batch shrinks only the working part.`,
    },
  );
}
