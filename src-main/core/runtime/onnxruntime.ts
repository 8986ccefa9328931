// The only module that imports onnxruntime-node: sessions, execution-provider choice and device reports.
// Everything else in ToxScope talks to the runtime through these functions.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import {
  raise,
  type DeviceChoice,
  type DeviceReport,
  type ExecutionProvider,
  type ProviderProbe,
} from '../../shared/index.ts';
import { encodeModel } from '../onnx/graph-builder.ts';
import {
  discardPrepacked,
  planPrepackedSave,
  prepackedCacheEnabled,
  prepackedDataFile,
  savedPrepackedModel,
  type PrepackedSave,
} from './prepacked-cache.ts';

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

/** The folder of onnxruntime-node's core library: it loads libonnxruntime_providers_*.so from here and nowhere else. */
export function providerLibraryFolder(): string {
  const packageFile = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(packageFile), 'bin', 'napi-v6', process.platform, process.arch);
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
  const message = error instanceof Error ? error.message : String(error);
  // The CUDA provider wraps a CUDA error in two C++ template signatures: keep the error and the call that failed.
  const cudaFailure = /\b(CUDA|CUBLAS|CUDNN|CURAND) failure (\d+): (.*?) ; GPU=.*?expr=(.*?);?\s*$/s.exec(message);
  if (cudaFailure)
    return `${cudaFailure[1]} failure ${cudaFailure[2]}: ${cudaFailure[3]!.trim()} (in ${cudaFailure[4]})`;
  const text = message
    // Drop onnxruntime's source location and failed-assertion text, keep its explanation.
    .replace(/^\/onnxruntime_src\/\S+ .*? was false\. /, '');
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

const providerHints: Record<ExecutionProvider, string> = {
  cpu: 'The CPU provider is bundled with onnxruntime-node; reinstall with `npm ci` if it fails to load.',
  cuda: 'Install the CUDA provider with `npm run setup:cuda` (needs an NVIDIA driver and CUDA 13, or CUDA 12 with `-- --cuda 12`); `toxscope doctor` says what is missing. Or run with --device cpu.',
  webgpu: 'WebGPU needs a GPU with Vulkan (Linux) or D3D12/Metal drivers; run with --device cpu otherwise.',
};

/** The same advice for the app, whose device choice is in Settings. */
const providerAppHints: Record<ExecutionProvider, string> = {
  cpu: providerHints.cpu,
  cuda: 'Install the CUDA provider with `npm run setup:cuda` (needs an NVIDIA driver and CUDA 13, or CUDA 12 with `-- --cuda 12`); `toxscope doctor` says what is missing. Or choose CPU in Settings.',
  webgpu: 'WebGPU needs a GPU with Vulkan (Linux) or D3D12/Metal drivers; choose CPU in Settings otherwise.',
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
      { field: 'device', appHint: providerAppHints[choice] },
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
   * onnxruntime's CPU memory arena (default on): freed intermediates stay in its pool for the next run. Generation
   * and MaRCo run without it: the pool kept its largest step's blocks (the prefill's, the masking batch's) for the
   * session's life, measured as 260–300 MiB more peak memory for a gpt2-medium compare's two sessions and 0.6 GiB for
   * a bart-base detox's six, at the same speed (docs/benchmarks.md). Forward passes keep it: without it, each
   * Llama-3.2-1B 8×128 forward touched its 1.2 GB of outputs and intermediates as fresh memory, 0.8–1.5 s slower on
   * this project's VM, for 0.2–0.3 GiB less peak.
   */
  cpuMemoryArena?: boolean;
  /**
   * Outputs to leave in GPU memory ('gpu-buffer' tensors: fed back as inputs without a copy, released with
   * `dispose()`); every other output comes back to the CPU. Only for GPU execution providers.
   */
  outputsOnDevice?: string[];
  /**
   * Whether onnxruntime's CPU kernels repack the weights at session creation (default true). Repacking copies every
   * weight matrix into the GEMM kernel's layout: it is most of a session's creation time and a second copy of the
   * weights in memory, and it makes every later GEMM faster. Without it the weights stay memory-mapped from their
   * file (external data) and a GEMM packs what it needs as it runs: right for a session that runs once. On the CPU,
   * a session of a graph file with repacked weights saves them once beside the graph and maps them from then on
   * (prepacked-cache.ts).
   */
  prepackWeights?: boolean;
  /**
   * Whether the session's intra-op worker threads spin after their work instead of sleeping (onnxruntime's default:
   * true). Each session owns its threads, so sessions that run in turn compete for the cores: in MaRCo's rewriting,
   * which runs three decoders a step, the second and third decoder of each step ran 15–25% slower than the first
   * while the previous ones' workers spun. Without spinning each decoder took 1.4–1.6 s of a 23-sentence rewriting
   * instead of 2.2–2.9 s (docs/benchmarks.md). compare gained nothing (measured while its two models took turns).
   */
  spinning?: boolean;
}

/**
 * Initializers at least this large go to the saved copy's weights file; smaller ones stay inside its model.onnx.
 * onnxruntime aligns what it writes there only from 1 MiB up, and its kernels read a prepacked matrix at whatever
 * offset it was written: with a 1 KiB threshold, one external tensor whose length is not a multiple of 64 bytes (the
 * tiny test GPT-2's 50257 × 8 embedding) shifted every later prepacked matrix off its 64-byte alignment, and
 * onnxruntime 1.30 crashed (segfault) at the first run from the copy.
 */
const prepackedExternalMinBytes = 1024 * 1024;

/**
 * onnxruntime's session options for ours. `prepacked`: a PrepackedSave also writes the optimized graph with its
 * prepacked weights there; 'saved' opens such a saved graph, whose optimizations are not run a second time.
 */
function ortSessionOptions(
  options: SessionOptions,
  prepacked?: PrepackedSave | 'saved',
): Ort.InferenceSession.SessionOptions {
  const saveTo = typeof prepacked === 'object' ? prepacked : undefined;
  const sessionConfig: Record<string, string> = {
    ...(options.prepackWeights === false ? { disable_prepacking: '1' } : {}),
    ...(options.spinning === false ? { 'intra_op.allow_spinning': '0' } : {}),
    ...(saveTo
      ? {
          optimized_model_external_initializers_file_name: prepackedDataFile,
          optimized_model_external_initializers_min_size_in_bytes: String(prepackedExternalMinBytes),
          save_external_prepacked_constant_initializers: '1',
        }
      : {}),
  };
  return {
    executionProviders: [options.device.used],
    graphOptimizationLevel: prepacked === 'saved' ? 'disabled' : 'all',
    logSeverityLevel: 3,
    enableMemPattern: options.memoryPattern ?? true,
    enableCpuMemArena: options.cpuMemoryArena ?? true,
    ...(options.outputsOnDevice?.length
      ? {
          preferredOutputLocation: Object.fromEntries(
            options.outputsOnDevice.map((name) => [name, 'gpu-buffer' as const]),
          ),
        }
      : {}),
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    ...(saveTo ? { optimizedModelFilePath: saveTo.modelFile } : {}),
    ...(Object.keys(sessionConfig).length ? { extra: { session: sessionConfig } } : {}),
  };
}

const createOrtSession = ort.InferenceSession.create as (
  model: Uint8Array | string,
  options: Ort.InferenceSession.SessionOptions,
) => Promise<Session>;

/**
 * A CPU session with prepacked weights from a graph file: from its saved prepacked copy when there is one, else
 * created while saving that copy (see prepacked-cache.ts); null when neither works out, and the caller creates the
 * session plainly (a copy that fails to load is deleted, a save that fails is abandoned).
 */
async function createFromPrepackedCopy(modelPath: string, options: SessionOptions): Promise<Session | null> {
  const version = onnxruntimeVersion();
  const saved = savedPrepackedModel(modelPath, version);
  if (saved) {
    try {
      return await createOrtSession(saved, ortSessionOptions(options, 'saved'));
    } catch {
      discardPrepacked(modelPath, version);
    }
  }
  let save: PrepackedSave | null = null;
  try {
    save = planPrepackedSave(modelPath, version);
    if (!save) return null;
    const session = await createOrtSession(modelPath, ortSessionOptions(options, save));
    save.commit();
    return session;
  } catch {
    save?.abandon();
    return null;
  }
}

/** Creates a session from model bytes, or from a model.onnx path (needed when weights are external data). */
export async function createSession(model: Uint8Array | string, options: SessionOptions): Promise<Session> {
  try {
    const fromCopy =
      typeof model === 'string' &&
      options.device.used === 'cpu' &&
      options.prepackWeights !== false &&
      prepackedCacheEnabled()
        ? await createFromPrepackedCopy(model, options)
        : null;
    return fromCopy ?? (await createOrtSession(model, ortSessionOptions(options)));
  } catch (error) {
    return raise(
      'RUNTIME_FAILED',
      `onnxruntime could not create a session on ${options.device.used}: ${firstLine(error)}`,
      'Run `toxscope doctor` to see which execution providers load; try --device cpu.',
      { field: 'device', appHint: 'Settings shows which devices load here; choose CPU there and run again.' },
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

/**
 * What an onnxruntime failure most likely means, in plain words: an index past a table is a position past the
 * model's positions or a token id past its vocabulary (the jobs check both before they start, so this is a bug).
 */
function explainRunFailure(detail: string): string {
  if (/indices element out of data bounds|out of range|out of bounds/i.test(detail))
    return 'The model was asked for a position or token beyond its tables (a prompt plus new tokens longer than its positions, or a token id outside its vocabulary)';
  if (/failed to allocate|out of memory|bad_alloc/i.test(detail))
    return 'The device ran out of memory while running the model';
  return 'The model failed while running';
}

/**
 * Runs a session (every output, or only `outputs`: the others are not copied back); a failure says in plain words
 * what went wrong, then names every input with its dtype and dims. `outputs` are names, or name → a preallocated
 * tensor onnxruntime writes the output into (onnxruntime-node 1.30 still returns its own copy of it, which the
 * caller may hand back with releaseTensorMemory).
 */
export async function runSession(
  session: Session,
  feeds: Record<string, Tensor>,
  outputs?: string[] | Record<string, Tensor>,
): Promise<Record<string, Tensor>> {
  try {
    return await (outputs ? session.run(feeds, outputs) : session.run(feeds));
  } catch (error) {
    const detail = firstLine(error);
    return raise(
      'RUNTIME_FAILED',
      `${explainRunFailure(detail)}. onnxruntime said: ${detail} (inputs {${describeFeeds(feeds)}})`,
      'Check that the inputs fit the model (prompt plus new tokens within its positions, a smaller --batch for memory); if the same run worked before, run `toxscope doctor` and report this message.',
      {
        appHint:
          'Check that the inputs fit the model (prompt plus new tokens within its positions, fewer prompts per batch for memory); if the same run worked before, open Settings → device check and report this message.',
      },
    );
  }
}

/**
 * Hands back the memory of an output tensor the caller has finished with, without waiting for V8 to collect the
 * tensor object. onnxruntime-node copies every output into a fresh buffer owned by that object; structuredClone with
 * `transfer` moves the bytes to a new buffer that nothing references, which V8 frees at its next minor collection.
 * The tensor is left with an empty (detached) buffer. A view into a larger or shared buffer is left alone. Measured
 * on the gpt2-medium compare of issue 19 (the new keys and values the static KV cache stores, 6 MB a decode step per
 * model): peak RSS 3796–3798 MiB instead of 3923–3959 MiB with the tensors only dropped.
 */
export function releaseTensorMemory(tensor: Tensor): void {
  const data = tensor.data as ArrayBufferView;
  const buffer = data.buffer;
  if (!(buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return;
  structuredClone(buffer, { transfer: [buffer] });
}
