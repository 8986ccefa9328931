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
