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

/** `toxscope doctor` and the Models page: what this machine can run. */
export interface DoctorReport {
  toxscopeVersion: string;
  node: string;
  platform: string;
  onnxruntime: string;
  providers: (ProviderProbe & { bundled: boolean })[];
  cpu: { model: string; logicalCores: number; features: string[] };
  memory: { totalBytes: number; freeBytes: number };
  electron: { installed: boolean; detail: string };
  display: { available: boolean; detail: string };
}

/**
 * Memory to hold a model's weights in onnxruntime: float32 parameters plus a third for prepacked GEMM copies and the
 * session's arena (measured: peak RSS ≈ 1.29× the weights after loading GPT-2 medium).
 */
export function weightsMemoryBytes(parameters: number): number {
  return Math.round(parameters * 4 * 1.35);
}
