// A memory estimate before loading, on the device that will hold the model, so a model that will not fit is refused
// with numbers instead of crashing.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { gpuWeightsMemoryBytes, raise, weightsMemoryBytes, type ExecutionProvider } from '../../shared/index.ts';

export interface MemoryEstimate {
  device: ExecutionProvider;
  /** float32 weights as onnxruntime holds them on that device. */
  weightsBytes: number;
  /** Working memory of one forward: activations and KV cache for the largest batch planned. */
  workingBytes: number;
  totalBytes: number;
  availableBytes: number;
  /** Where availableBytes is free, in words: "here" (the machine's memory) or the GPU's name. */
  where: string;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Free memory of the GPU that CUDA will use, from nvidia-smi; null where nvidia-smi is missing or says nothing. */
function cudaFreeMemory(env: NodeJS.ProcessEnv = process.env): { bytes: number; name: string } | null {
  // onnxruntime uses device 0 of CUDA_VISIBLE_DEVICES; nvidia-smi numbers the GPUs without looking at that variable.
  const visible = env.CUDA_VISIBLE_DEVICES?.split(',')[0]?.trim();
  const query = spawnSync(
    'nvidia-smi',
    ['--query-gpu=memory.free,name', '--format=csv,noheader,nounits', '-i', visible || '0'],
    { encoding: 'utf8', timeout: 10_000, env },
  );
  const match = query.status === 0 ? /^\s*(\d+)\s*,\s*(.+?)\s*$/m.exec(query.stdout) : null;
  return match ? { bytes: Number(match[1]) * 2 ** 20, name: match[2]! } : null;
}

/**
 * weights: see weightsMemoryBytes (CPU) and gpuWeightsMemoryBytes; working: the caller's estimate of activations for
 * its batch. Null where the device's free memory cannot be known (WebGPU, or CUDA without nvidia-smi): there an
 * allocation that fails is reported by the run itself (explainRunFailure).
 */
export function estimateMemory(
  parameters: number,
  workingBytes: number,
  device: ExecutionProvider = 'cpu',
): MemoryEstimate | null {
  if (device === 'webgpu') return null;
  const free = device === 'cuda' ? cudaFreeMemory() : { bytes: os.freemem(), name: 'here' };
  if (!free) return null;
  const weightsBytes = device === 'cuda' ? gpuWeightsMemoryBytes(parameters) : weightsMemoryBytes(parameters);
  return {
    device,
    weightsBytes,
    workingBytes,
    totalBytes: weightsBytes + workingBytes,
    availableBytes: free.bytes,
    where: device === 'cuda' ? `on the GPU (${free.name})` : 'here',
  };
}

/** The largest model whose weights would fit beside this working memory, in words (e.g. "3.1 billion"). */
function fittingParameters(estimate: MemoryEstimate): string {
  const bytesPerParameter =
    estimate.device === 'cuda' ? gpuWeightsMemoryBytes(1e6) / 1e6 : weightsMemoryBytes(1e6) / 1e6;
  const parameters = Math.max(0, estimate.availableBytes - estimate.workingBytes) / bytesPerParameter;
  return parameters >= 1e9 ? `${(parameters / 1e9).toFixed(1)} billion` : `${Math.floor(parameters / 1e6)} million`;
}

export function assertFits(estimate: MemoryEstimate | null, what: string): void {
  if (!estimate || estimate.totalBytes <= estimate.availableBytes) return;
  // The model itself fits when its weights would leave at least half the free memory: then the batch is what to cut.
  const batchTooLarge = estimate.weightsBytes <= estimate.availableBytes / 2;
  const onGpu = estimate.device === 'cuda';
  const fitting = `Models up to about ${fittingParameters(estimate)} parameters fit in the free memory ${estimate.where} (float32${onGpu ? '' : ' on the CPU'}).`;
  const elsewhere = onGpu
    ? {
        cli: 'a GPU with more free memory, --device cpu where the machine has more',
        app: 'a GPU with more free memory, the CPU',
      }
    : { cli: 'a GPU with enough memory (--device cuda or webgpu)', app: 'a GPU with enough memory' };
  raise(
    'OUT_OF_MEMORY',
    `${what} needs about ${gib(estimate.totalBytes)} (weights ${gib(estimate.weightsBytes)}, working ${gib(estimate.workingBytes)}), but only ${gib(estimate.availableBytes)} is free ${estimate.where}.`,
    batchTooLarge
      ? 'The model fits; the working memory of this batch and length does not. Lower --batch or the length (--max-length, --max-new-tokens, the prompt length), or close other programs.'
      : `${fitting} Use a smaller model, ${elsewhere.cli}, or close other programs; lowering --batch or the prompt length shrinks only the working part.`,
    {
      appHint: batchTooLarge
        ? 'The model fits; the working memory of this batch and length does not. Run fewer prompts or sentences per batch, shorter lengths, or close other programs.'
        : `${fitting} Use a smaller model, ${elsewhere.app} (Settings → device), or close other programs; fewer prompts per batch shrinks only the working part.`,
    },
  );
}
