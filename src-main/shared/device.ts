// Execution devices as users name them, shared by the CLI, the server and the renderer.

/** What the user asks for: auto = CUDA when its provider loads, else CPU. */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export const deviceChoices: readonly DeviceChoice[] = ['auto', 'cpu', 'cuda', 'webgpu'];

/** What actually ran: an onnxruntime execution provider name. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/** The truthful report of where a run executed, attached to every result. */
export interface DeviceReport {
  requested: DeviceChoice;
  used: ExecutionProvider;
  /** Why `used` differs from a specific request, or how `auto` decided; empty when nothing needs saying. */
  note: string;
}

/** Whether one execution provider really loads here (a tiny model created and run on it). */
export interface ProviderProbe {
  provider: ExecutionProvider | 'tensorrt';
  loads: boolean;
  /** The runtime's own message when it does not load. */
  detail: string;
}

/** The libraries onnxruntime's CUDA provider needs, by family (the provider's own two files are `provider`). */
export type CudaLibraryFamily = 'cuda-driver' | 'cudart' | 'cublas' | 'cublasLt' | 'curand' | 'cudnn' | 'provider';

/** One library file found on disk; `version` is read from its file name (libcudnn.so.9.13.0 → 9.13.0). */
export interface CudaLibraryFound {
  family: CudaLibraryFamily;
  file: string;
  folder: string;
  version: string;
}

/** Why the CUDA provider does not load, in plain words, and the one thing to do. */
export interface CudaProviderDiagnosis {
  reason: 'provider-missing' | 'no-driver' | 'missing-libraries' | 'driver-too-old' | 'no-device' | 'other';
  /** Library names the loader could not find. */
  missing: string[];
  text: string;
  hint: string;
}

/** What `toxscope doctor` found for CUDA without loading anything (Linux x64 only). */
export interface CudaReport {
  /** The NVIDIA kernel driver's version from /proc/driver/nvidia/version; '' when none is loaded. */
  driverVersion: string;
  /** The installed provider: where, for which CUDA major and onnxruntime version, and from which source. */
  provider: {
    folder: string;
    installed: boolean;
    cudaMajor: number | null;
    onnxruntimeVersion: string;
    source: string;
  };
  /** Every CUDA library file found, in search order (LD_LIBRARY_PATH first). */
  libraries: CudaLibraryFound[];
  /** Present when the cuda provider probe failed. */
  diagnosis: CudaProviderDiagnosis | null;
}

/** `toxscope doctor` and the Models page: what this machine can run. */
export interface DoctorReport {
  toxscopeVersion: string;
  node: string;
  platform: string;
  onnxruntime: string;
  providers: (ProviderProbe & { bundled: boolean })[];
  cpu: { model: string; logicalCores: number; features: string[] };
  memory: {
    totalBytes: number;
    freeBytes: number;
    /**
     * The kernel's transparent huge page mode (null where it has none) and whether this process's malloc gets them:
     * always with 'always', with 'madvise' when started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (bin/malloc-env.js).
     */
    hugePages: { kernel: string | null; malloc: boolean };
    /** Whether this process's malloc keeps the memory it frees for its next allocations (bin/malloc-env.js). */
    keepsFreedMemory: boolean;
  };
  electron: { installed: boolean; detail: string };
  display: { available: boolean; detail: string };
  /** CUDA libraries and provider files found; null off Linux x64, where onnxruntime-node has no CUDA provider. */
  cuda: CudaReport | null;
}

/**
 * Memory to hold a model's weights in onnxruntime: float32 parameters plus a third for prepacked GEMM copies and the
 * session's arena (measured: peak RSS ≈ 1.29× the weights after loading GPT-2 medium).
 */
export function weightsMemoryBytes(parameters: number): number {
  return Math.round(parameters * 4 * 1.35);
}

/**
 * GPU memory for a model's weights: every provider computes in float32 today (half precision is converted on load),
 * and a GPU session holds one copy, without the CPU's prepacked second one.
 */
export function gpuWeightsMemoryBytes(parameters: number): number {
  return parameters * 4;
}
