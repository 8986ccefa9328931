// Opens a decoder session for a loaded model: checks memory, builds (or reuses) the cached graph, creates the session.

import type { DeviceReport } from '../../../shared/index.ts';
import { assertFits, estimateMemory } from '../../runtime/memory.ts';
import { prepareCachedGraph, type CachedGraph } from '../graph-cache.ts';
import type { LoadedDecoderModel } from '../load-model.ts';
import type { DecoderConfig } from './config.ts';
import { buildDecoderGraph, type DecoderGraphOptions } from './graph.ts';
import { DecoderSession, prefillGroupRows } from './decoder-session.ts';

export interface OpenedDecoder {
  session: DecoderSession;
  graph: CachedGraph;
}

/**
 * Working bytes of one model's forward at run.batch × run.length: per position the residual stream, MLP and attention
 * scores, plus the logits and hooks at every position (logits 'all', hookPositions 'all') or one row of each (the
 * other options), and the KV cache if it keeps one. A static-cache prefill whose outputs have no position axis
 * runs prefillGroupRows rows at a time (DecoderSession.step), so only that many rows' activations are live at once.
 */
export function decoderWorkingBytes(config: DecoderConfig, options: DecoderSessionOptions, run: DecoderRun): number {
  const { nLayers, dModel, dMlp, nHeads, nKvHeads, dHead, dVocab } = config;
  const { batch, length } = run;
  const hookWidth = options.hooks.reduce((width, hook) => width + (hook.includes('mlp.hook_p') ? dMlp : dModel), 0);
  const logitsBytes = 4 * dVocab * (options.logits === 'all' ? length : options.logits === 'none' ? 0 : 1);
  const hookBytes = 4 * hookWidth * (options.hookPositions === 'all' ? length : 1);
  const attention = options.attention ?? defaultAttention(config, run.device, options.kvCache);
  const grouped =
    attention === 'static' && options.kvCache && options.logits !== 'all' && options.hookPositions !== 'all';
  const activeRows = grouped ? Math.min(batch, prefillGroupRows) : batch;
  const activations = activeRows * length * 4 * (8 * dModel + 3 * dMlp + nHeads * length);
  const kvCache = options.kvCache ? batch * 4 * 2 * nLayers * nKvHeads * dHead * length : 0;
  return activations + batch * (logitsBytes + hookBytes) + kvCache;
}

/**
 * Decoding on the CPU uses the static cache (measured: a batch-16 GPT-2-medium step copies no cache, see
 * docs/benchmarks.md); GPT-2's single forwards and CUDA use onnxruntime's fused attention; WebGPU, which lacks it,
 * and the rotary families outside the CPU's decoding, standard ops.
 */
function defaultAttention(
  config: DecoderConfig,
  device: DeviceReport,
  kvCache: boolean,
): DecoderGraphOptions['attention'] {
  if (device.used === 'cpu' && kvCache) return 'static';
  return device.used === 'webgpu' || config.family !== 'gpt2' ? 'standard' : 'fused';
}

/** Graph options where `attention` may be left out (see defaultAttention). */
export type DecoderSessionOptions = Omit<DecoderGraphOptions, 'attention'> &
  Partial<Pick<DecoderGraphOptions, 'attention'>>;

export interface DecoderRun {
  device: DeviceReport;
  threads?: number;
  batch: number;
  length: number;
  /**
   * A session for one forward, or a few forwards of many positions each: skip repacking the weights (see
   * SessionOptions.prepackWeights). Repacking pays over many small runs (generation); at hundreds of positions per
   * run the kernels pack as they go at no measurable cost (gpt2-medium, windows of 1024 positions: about 5.2 s each
   * either way), and the session opens in 0.07 s instead of 0.8 s from a saved copy and peaks 1.2 GiB lower.
   */
  once?: boolean;
}

/** Refuses, with numbers, models whose sessions would not fit in free memory together (before any is opened). */
export function assertSessionsFit(models: LoadedDecoderModel[], options: DecoderSessionOptions, run: DecoderRun): void {
  const working = models.reduce((sum, model) => sum + decoderWorkingBytes(model.config, options, run), 0);
  const parameters = models.reduce((sum, model) => sum + model.parameters, 0);
  const names = models.map((model) => model.resolved.reference).join(' and ');
  assertFits(
    estimateMemory(parameters, working, run.device.used),
    `${names} (${(parameters / 1e6).toFixed(0)}M parameters)`,
  );
}

export async function openDecoderSession(
  model: LoadedDecoderModel,
  requested: DecoderSessionOptions,
  run: DecoderRun,
): Promise<OpenedDecoder> {
  const options: DecoderGraphOptions = {
    ...requested,
    attention: requested.attention ?? defaultAttention(model.config, run.device, requested.kvCache),
    // Named only where it changes the graph, so the other graphs keep their cache entries.
    ...(run.once && requested.logits === 'all' && model.config.tiedEmbeddings ? { repackedWeights: false } : {}),
  };
  assertSessionsFit([model], options, run);
  const source = { fingerprint: model.fingerprint(), config: model.config };
  const graph = prepareCachedGraph(source, options, model.weights, (weight) =>
    buildDecoderGraph(model.config, weight, options),
  );
  const session = await DecoderSession.open(graph.modelPath, model.config, {
    device: run.device,
    threads: run.threads,
    cacheCapacity: run.length,
    kvCache: options.kvCache,
    cacheOnDevice: options.kvCache && options.attention === 'standard' && run.device.used === 'webgpu',
    prepackWeights: !run.once,
  });
  return { session, graph };
}
