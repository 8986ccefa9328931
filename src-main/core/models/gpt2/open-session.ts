// Opens a GPT-2 session for a loaded model: checks memory, builds (or reuses) the cached graph, creates the session.

import type { DeviceReport } from '../../../shared/index.ts';
import { assertFits, estimateMemory } from '../../runtime/memory.ts';
import { prepareCachedGraph, type CachedGraph } from '../graph-cache.ts';
import type { LoadedGpt2Model } from '../load-model.ts';
import { buildGpt2Graph, type Gpt2GraphOptions } from './graph.ts';
import { Gpt2Session } from './gpt2-session.ts';

export interface OpenedGpt2 {
  session: Gpt2Session;
  graph: CachedGraph;
}

/** Activation bytes of one forward at this batch × length: residual stream, MLP, attention scores, logits. */
export function gpt2WorkingBytes(
  model: LoadedGpt2Model,
  batch: number,
  length: number,
  hookBytesPerPosition: number,
): number {
  const { nLayers, dModel, dMlp, nHeads, dVocab } = model.config;
  const perPosition = 4 * (8 * dModel + 2 * dMlp + nHeads * length + dVocab) + hookBytesPerPosition;
  const kvCache = 4 * 2 * nLayers * dModel * length;
  return batch * (length * perPosition + kvCache);
}

/**
 * Decoding on the CPU uses the static cache (measured: a batch-16 GPT-2-medium step copies no cache, see
 * docs/benchmarks.md); single forwards and CUDA use onnxruntime's fused attention; WebGPU, which lacks it, standard ops.
 */
function defaultAttention(device: DeviceReport, kvCache: boolean): Gpt2GraphOptions['attention'] {
  if (device.used === 'webgpu') return 'standard';
  return device.used === 'cpu' && kvCache ? 'static' : 'fused';
}

/** Graph options where `attention` may be left out (see defaultAttention). */
export type Gpt2SessionOptions = Omit<Gpt2GraphOptions, 'attention'> & Partial<Pick<Gpt2GraphOptions, 'attention'>>;

export interface Gpt2Run {
  device: DeviceReport;
  threads?: number;
  batch: number;
  length: number;
}

/** Refuses, with numbers, models whose sessions would not fit in free memory together (before any is opened). */
export function assertSessionsFit(models: LoadedGpt2Model[], options: Gpt2SessionOptions, run: Gpt2Run): void {
  const working = models.reduce((sum, model) => {
    const hookWidth = options.hooks.reduce(
      (width, hook) => width + (hook.includes('mlp.hook_p') ? model.config.dMlp : model.config.dModel),
      0,
    );
    return sum + gpt2WorkingBytes(model, run.batch, run.length, 4 * hookWidth);
  }, 0);
  const parameters = models.reduce((sum, model) => sum + model.parameters, 0);
  const names = models.map((model) => model.resolved.reference).join(' and ');
  assertFits(estimateMemory(parameters, working), `${names} (${(parameters / 1e6).toFixed(0)}M parameters)`);
}

export async function openGpt2Session(
  model: LoadedGpt2Model,
  requested: Gpt2SessionOptions,
  run: Gpt2Run,
): Promise<OpenedGpt2> {
  const options: Gpt2GraphOptions = {
    ...requested,
    attention: requested.attention ?? defaultAttention(run.device, requested.kvCache),
  };
  assertSessionsFit([model], options, run);
  const graph = prepareCachedGraph(model.fingerprint(), options, model.weights, (weight) =>
    buildGpt2Graph(model.config, weight, options),
  );
  const session = await Gpt2Session.open(graph.modelPath, model.config, {
    device: run.device,
    threads: run.threads,
    cacheCapacity: run.length,
    kvCache: options.kvCache,
    cacheOnDevice: options.kvCache && options.attention === 'standard' && run.device.used === 'webgpu',
  });
  return { session, graph };
}
