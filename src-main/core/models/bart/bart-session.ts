// Runs a BART model's two graphs: encode a right-padded batch once (hidden states and every decoder layer's cross
// keys/values), then decode step by step over a self-attention KV cache the session keeps, or teacher-forced in one
// pass.

import { raise, type DeviceReport } from '../../../shared/index.ts';
import { assertFits, estimateMemory } from '../../runtime/memory.ts';
import { createSession, runSession, TensorClass, type Session, type Tensor } from '../../runtime/onnxruntime.ts';
import { prepareCachedGraph } from '../graph-cache.ts';
import type { LoadedBartModel } from '../load-model.ts';
import { StaticKvCache } from '../static-kv-cache.ts';
import { buildBartDecoderGraph, buildBartEncoderGraph, type BartDecoderOptions } from './graph.ts';

/** An encoded batch: what every decoder step of these rows reads. */
export interface EncodedBatch {
  batch: number;
  src: number;
  /** [batch, src] int64, 1 = real token. */
  mask: Tensor;
  /** cross.{L}.key/value [batch, heads, src, d_head]. */
  cross: Record<string, Tensor>;
  /** Everything the encoder returned (encoder_hidden, hooks). */
  outputs: Record<string, Tensor>;
}

/** Rows `rows` of a [batch, …] tensor, in that order, copied into a tensor of their own. */
function tensorRows(tensor: Tensor, rows: readonly number[]): Tensor {
  const [, ...rest] = tensor.dims;
  const size = rest.reduce((product, dim) => product * dim, 1);
  const dims = [rows.length, ...rest];
  if (tensor.type === 'int64') {
    const source = tensor.data as BigInt64Array;
    const data = new BigInt64Array(rows.length * size);
    rows.forEach((row, index) => data.set(source.subarray(row * size, (row + 1) * size), index * size));
    return new TensorClass('int64', data, dims);
  }
  const source = tensor.data as Float32Array;
  const data = new Float32Array(rows.length * size);
  rows.forEach((row, index) => data.set(source.subarray(row * size, (row + 1) * size), index * size));
  return new TensorClass('float32', data, dims);
}

/** Rows `rows` of an encoded batch (indices, in that order) as a batch of their own, for the decoder. */
export function selectRows(encoded: EncodedBatch, rows: readonly number[]): EncodedBatch {
  const cross = Object.fromEntries(
    Object.entries(encoded.cross).map(([name, tensor]) => [name, tensorRows(tensor, rows)]),
  );
  return { batch: rows.length, src: encoded.src, mask: tensorRows(encoded.mask, rows), cross, outputs: {} };
}

export interface BartOpenOptions {
  decoder: BartDecoderOptions;
  encoderHooks?: string[];
  device: DeviceReport;
  threads?: number;
  /** For the memory check: rows and positions decoded at once. */
  batch: number;
  length: number;
}

export class BartSession {
  readonly model: LoadedBartModel;
  readonly #encoder: Session;
  readonly #decoder: Session;
  /** The decoder's self-attention keys and values of the batch being decoded step by step (see decode). */
  readonly #cache: StaticKvCache;
  readonly #returnsNewKeys: boolean;

  private constructor(model: LoadedBartModel, encoder: Session, decoder: Session, cacheCapacity: number) {
    this.model = model;
    this.#encoder = encoder;
    this.#decoder = decoder;
    const { decoderLayers, decoderHeads, dHead, nCtx } = model.config;
    this.#cache = new StaticKvCache({ nLayers: decoderLayers, nKvHeads: decoderHeads, dHead, nCtx }, cacheCapacity);
    this.#returnsNewKeys = decoder.outputNames.includes('new.0.key');
  }

  /** True when the decoder returns logits at one position per row (logits: 'gather'), given to decode(). */
  get readsChosenPositions(): boolean {
    return this.#decoder.inputNames.includes('logits_positions');
  }

  static async open(model: LoadedBartModel, options: BartOpenOptions): Promise<BartSession> {
    const { config } = model;
    // float32 bytes, doubled for onnxruntime's copy and JavaScript's: activations at every position, the self- and
    // cross-attention keys and values of every decoder layer, logits at every position or one per row.
    const logitsPositions = options.decoder.logits === 'all' ? options.length : 1;
    const perRow =
      options.length * (8 * config.dModel + 2 * config.dMlp + 4 * config.decoderLayers * config.dModel) +
      logitsPositions * config.dVocab;
    const working = 4 * options.batch * perRow * 2;
    assertFits(
      estimateMemory(model.parameters, working, options.device.used),
      `${model.resolved.reference} (${(model.parameters / 1e6).toFixed(0)}M parameters)`,
    );
    const encoderOptions = { hooks: options.encoderHooks ?? [] };
    const source = { fingerprint: model.fingerprint(), config };
    const encoderGraph = prepareCachedGraph(source, { part: 'encoder', ...encoderOptions }, model.weights, (weight) =>
      buildBartEncoderGraph(config, weight, encoderOptions),
    );
    const decoderGraph = prepareCachedGraph(source, { part: 'decoder', ...options.decoder }, model.weights, (weight) =>
      buildBartDecoderGraph(config, weight, options.decoder),
    );
    // No CPU arena (see SessionOptions.cpuMemoryArena): MaRCo's masking batches of up to 256 rows left their blocks
    // in it for the sessions' life; a 20-sentence bart-base detox peaked 0.6 GiB lower without it, as fast. No
    // spinning (see SessionOptions.spinning): MaRCo runs its models' sessions in turn.
    const run = { device: options.device, threads: options.threads, cpuMemoryArena: false, spinning: false };
    return new BartSession(
      model,
      await createSession(encoderGraph.modelPath, run),
      await createSession(decoderGraph.modelPath, run),
      options.length,
    );
  }

  /**
   * Encodes rows of ids (each already <s> … </s>), right-padded with the pad id. `crossOnly`: fetch only the cross
   * keys and values the decoder reads, not encoder_hidden or hooks (onnxruntime-node copies every fetched output).
   */
  async encode(rows: number[][], { crossOnly = false } = {}): Promise<EncodedBatch> {
    const batch = rows.length;
    const src = Math.max(...rows.map((row) => row.length));
    if (src > this.model.config.nCtx) {
      raise(
        'INPUT_INVALID',
        `A text of ${src} tokens is longer than ${this.model.resolved.reference}'s ${this.model.config.nCtx} positions.`,
        'Split the text into shorter sentences.',
      );
    }
    const ids = new BigInt64Array(batch * src).fill(BigInt(this.model.config.padTokenId));
    const mask = new BigInt64Array(batch * src);
    rows.forEach((row, r) =>
      row.forEach((id, p) => {
        ids[r * src + p] = BigInt(id);
        mask[r * src + p] = 1n;
      }),
    );
    const maskTensor = new TensorClass('int64', mask, [batch, src]);
    const outputs = await runSession(
      this.#encoder,
      { input_ids: new TensorClass('int64', ids, [batch, src]), attention_mask: maskTensor },
      crossOnly ? this.#encoder.outputNames.filter((name) => name.startsWith('cross.')) : undefined,
    );
    const cross: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(outputs)) if (name.startsWith('cross.')) cross[name] = tensor;
    return { batch, src, mask: maskTensor, cross, outputs };
  }

  /**
   * Runs the decoder on `tgt` new tokens per row ([batch, tgt], every row the same length) after the `past` positions
   * the session's cache holds for this batch: 0 starts a batch (and forgets the previous one), and decoding step by
   * step passes the positions decoded so far. Unless `logitsOnly`, a graph built with kvCache writes the step's keys
   * and values into the cache. `logitsPositions` (one per row) is required by graphs built with logits: 'gather'.
   * `logitsOnly`: return only the logits (a single teacher-forced pass, as the masker's).
   */
  async decode(
    encoded: EncodedBatch,
    decoderIds: BigInt64Array,
    tgt: number,
    past: number,
    logitsPositions?: BigInt64Array,
    logitsOnly = false,
  ): Promise<Record<string, Tensor>> {
    const batch = encoded.batch;
    if (past > 0 && !this.#returnsNewKeys)
      throw new RangeError('decoding after cached positions needs a decoder graph built with kvCache');
    const caching = this.#returnsNewKeys && !logitsOnly;
    if (caching) this.#cache.reserve(batch, past + tgt, past);
    const feeds: Record<string, Tensor> = {
      decoder_input_ids: new TensorClass('int64', decoderIds, [batch, tgt]),
      encoder_attention_mask: encoded.mask,
      ...encoded.cross,
      ...this.#cache.feeds(batch, past),
      cache_visible: new TensorClass('int64', new BigInt64Array(Math.max(past, 1)).fill(past ? 1n : 0n), [
        Math.max(past, 1),
      ]),
    };
    if (logitsPositions) feeds.logits_positions = new TensorClass('int64', logitsPositions, [batch]);
    const outputs = await runSession(this.#decoder, feeds, logitsOnly ? ['logits'] : undefined);
    if (caching) this.#cache.write(outputs, past, tgt);
    return outputs;
  }

  async release(): Promise<void> {
    await this.#encoder.release();
    await this.#decoder.release();
  }
}
