// The only module that imports onnxruntime-node: sessions, execution-provider choice and device reports.
// Everything else in ToxScope talks to the runtime through these functions.

import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import {
  raise,
  type DeviceChoice,
  type DeviceReport,
  type ExecutionProvider,
  type ProviderProbe,
} from '../../shared/index.ts';
import { encodeModel } from '../onnx/graph-builder.ts';

// onnxruntime-node is CommonJS with a native binding; require keeps it external in every bundle.
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
// Failures reach the user as AppErrors; the native logger would only repeat them as noise on stderr.
ort.env.logLevel = 'fatal';

export type Tensor = Ort.Tensor;
export type Session = Ort.InferenceSession;
export const TensorClass = ort.Tensor;

export function onnxruntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** Providers compiled into this onnxruntime-node build; `bundled: false` ones need a separate install. */
export function listBuiltProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((backend) => ({ name: backend.name, bundled: backend.bundled }));
}

const probeModel = encodeModel({
  name: 'probe',
  nodes: [{ opType: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
  inputs: [{ name: 'x', type: 'float32', dims: [2] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2] }],
});

const probeCache = new Map<string, Promise<ProviderProbe>>();

/** Creates and runs a 2-element model on one provider to learn whether it really loads here. Cached per process. */
export function probeProvider(provider: ProviderProbe['provider']): Promise<ProviderProbe> {
  let cached = probeCache.get(provider);
  if (!cached) {
    cached = (async () => {
      try {
        const session = await ort.InferenceSession.create(probeModel, {
          executionProviders: [provider],
          logSeverityLevel: 4,
        });
        try {
          const x = new ort.Tensor('float32', new Float32Array([1, 2]), [2]);
          const output = await session.run({ x });
          const y = output.y?.data as Float32Array | undefined;
          const correct = y?.[0] === 2 && y[1] === 4;
          return { provider, loads: correct, detail: correct ? '' : 'ran but returned wrong numbers' };
        } finally {
          await session.release();
        }
      } catch (error) {
        return { provider, loads: false, detail: firstLine(error) };
      }
    })();
    probeCache.set(provider, cached);
  }
  return cached;
}

function firstLine(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error))
    // Drop onnxruntime's source location and failed-assertion text, keep its explanation.
    .replace(/^\/onnxruntime_src\/\S+ .*? was false\. /, '');
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

const providerHints: Record<ExecutionProvider, string> = {
  cpu: 'The CPU provider is bundled with onnxruntime-node; reinstall with `npm ci` if it fails to load.',
  cuda: 'Install the CUDA provider with `npm run setup:cuda` (needs an NVIDIA driver, CUDA 12 and cuDNN 9), or run with --device cpu.',
  webgpu: 'WebGPU needs a GPU with Vulkan (Linux) or D3D12/Metal drivers; run with --device cpu otherwise.',
};

/** Turns the user's device choice into the provider that will run, loudly refusing an unavailable explicit choice. */
export async function resolveDevice(choice: DeviceChoice): Promise<DeviceReport> {
  if (choice === 'cpu') return { requested: choice, used: 'cpu', note: '' };
  if (choice === 'auto') {
    const cuda = await probeProvider('cuda');
    return cuda.loads
      ? { requested: choice, used: 'cuda', note: 'auto chose CUDA: its provider loads on this machine.' }
      : { requested: choice, used: 'cpu', note: `auto chose CPU: the CUDA provider does not load (${cuda.detail}).` };
  }
  const probe = await probeProvider(choice);
  if (!probe.loads) {
    raise(
      'DEVICE_UNAVAILABLE',
      `The ${choice} execution provider does not load here: ${probe.detail}`,
      providerHints[choice],
    );
  }
  return { requested: choice, used: choice, note: '' };
}

export interface SessionOptions {
  device: DeviceReport;
  threads?: number;
  /**
   * onnxruntime's memory pattern (default on): it plans one block for all intermediates of a run and reuses it for
   * runs with the same input shapes. A KV-cached generation changes shapes between the prefill and the steps, and
   * every new batch brings a new prompt width, so the plan is rebuilt and a fresh block faulted in each time
   * (measured on gpt2-medium: a second prefill of the same width took 1.5 s with it and 0.9 s without).
   */
  memoryPattern?: boolean;
  /**
   * Outputs to leave in GPU memory ('gpu-buffer' tensors: fed back as inputs without a copy, released with
   * `dispose()`); every other output comes back to the CPU. Only for GPU execution providers.
   */
  outputsOnDevice?: string[];
}

/** Creates a session from model bytes, or from a model.onnx path (needed when weights are external data). */
export async function createSession(model: Uint8Array | string, options: SessionOptions): Promise<Session> {
  try {
    const create = ort.InferenceSession.create as (
      model: Uint8Array | string,
      options: Ort.InferenceSession.SessionOptions,
    ) => Promise<Session>;
    return await create(model, {
      executionProviders: [options.device.used],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      enableMemPattern: options.memoryPattern ?? true,
      ...(options.outputsOnDevice?.length
        ? {
            preferredOutputLocation: Object.fromEntries(
              options.outputsOnDevice.map((name) => [name, 'gpu-buffer' as const]),
            ),
          }
        : {}),
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    });
  } catch (error) {
    return raise(
      'RUNTIME_FAILED',
      `onnxruntime could not create a session on ${options.device.used}: ${firstLine(error)}`,
      'Run `toxscope doctor` to see which execution providers load; try --device cpu.',
    );
  }
}

/** "name: dtype[dims]" for every feed, with per-layer cache tensors of one shape folded into one entry. */
export function describeFeeds(feeds: Record<string, Tensor>): string {
  const groups = new Map<string, string[]>();
  for (const [name, tensor] of Object.entries(feeds)) {
    const key = `${name.replace(/\.\d+(?=\.|$)/, '.{L}')}: ${tensor.type}[${tensor.dims.join(', ')}]`;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return [...groups]
    .map(([key, names]) =>
      names.length > 1 ? `${key} ×${names.length}` : key.replace('.{L}', names[0]!.match(/\.\d+/)?.[0] ?? ''),
    )
    .join('; ');
}

/** Runs a session; a failure names every input with its dtype and dims (the first thing to check). */
export async function runSession(session: Session, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  try {
    return await session.run(feeds);
  } catch (error) {
    return raise(
      'RUNTIME_FAILED',
      `onnxruntime failed to run with inputs {${describeFeeds(feeds)}}: ${firstLine(error)}`,
      'Check that the inputs match the model; run `toxscope doctor` if the model ran before.',
    );
  }
}
