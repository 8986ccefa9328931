// Runs a built decoder graph: feeds inputs, the KV cache and intervention tensors by the graph's names, and returns
// hooks, logits and the next cache. One session per graph variant, released by its owner.

import { type DeviceReport } from '../../../shared/index.ts';
import {
  createSession,
  releaseTensorMemory,
  runSession,
  TensorClass,
  type Session,
  type Tensor,
} from '../../runtime/onnxruntime.ts';
import type { DecoderConfig } from './config.ts';
import { hiddenSlotMask, StaticKvCache } from '../static-kv-cache.ts';

/**
 * The KV cache after a step: `length` positions. For the fused and standard graphs, `tensors` are that step's
 * `present.*` outputs, renamed to the `past.*` inputs they feed next ([2, batch, n_heads, total, d_head] fused,
 * [batch, n_heads, total, d_head] per key/value standard). For the static graph `tensors` is empty: the positions
 * live in the session's own buffers, so only the latest cache of a session's one running sequence batch is valid.
 */
export interface KvCache {
  tensors: Record<string, Tensor>;
  length: number;
}

/** Intervention values (see decoderInterventionInputs); `positions` says where override and add apply. */
export interface DecoderInterventions {
  mlpKeyScale: Float32Array; // [n_layers, d_mlp]
  mlpPostScale: Float32Array; // [n_layers, d_mlp]
  mlpPostGain: Float32Array; // [n_layers, d_mlp]
  mlpPostOverrideMask: Float32Array; // [n_layers, d_mlp]
  mlpPostOverrideValue: Float32Array; // [n_layers, d_mlp]
  mlpOutAdd: Float32Array; // [n_layers, d_model]
  positions: 'all' | 'last';
}

export function noInterventions(config: DecoderConfig): DecoderInterventions {
  return {
    mlpKeyScale: new Float32Array(config.nLayers * config.dMlp).fill(1),
    mlpPostScale: new Float32Array(config.nLayers * config.dMlp).fill(1),
    mlpPostGain: new Float32Array(config.nLayers * config.dMlp).fill(1),
    mlpPostOverrideMask: new Float32Array(config.nLayers * config.dMlp),
    mlpPostOverrideValue: new Float32Array(config.nLayers * config.dMlp),
    mlpOutAdd: new Float32Array(config.nLayers * config.dModel),
    positions: 'all',
  };
}

export interface DecoderStepInput {
  batch: number;
  /** New positions this step. */
  pos: number;
  inputIds: BigInt64Array; // [batch, pos]
  attentionMask: BigInt64Array; // [batch, past + pos]
  positionIds: BigInt64Array; // [batch, pos]
  cache: KvCache | null;
  interventions?: DecoderInterventions;
}

export interface DecoderStepOutput {
  outputs: Record<string, Tensor>;
  cache: KvCache | null;
}

/**
 * Runs a decoder graph's session and returns its outputs as a step does: all positions' logits, which the graph gives
 * as rows `logits_rows` [batch·pos, d_vocab] (see buildDecoderGraph), become `logits` [batch, pos, d_vocab] over the
 * same memory.
 */
export async function runDecoderGraph(
  session: Session,
  feeds: Record<string, Tensor>,
): Promise<Record<string, Tensor>> {
  const [batch, pos] = feeds.input_ids!.dims;
  return withLogitsShaped(await runSession(session, feeds), batch!, pos!);
}

/** A graph's outputs with `logits_rows` [batch·pos, d_vocab], if any, as `logits` [batch, pos, d_vocab] (no copy). */
function withLogitsShaped(graphOutputs: Record<string, Tensor>, batch: number, pos: number): Record<string, Tensor> {
  const { logits_rows: rows, ...outputs } = graphOutputs;
  if (!rows) return outputs;
  return { ...outputs, logits: new TensorClass('float32', rows.data as Float32Array, [batch, pos, rows.dims[1]!]) };
}

/**
 * A prefill of more rows than this into a static cache runs in groups of this many rows of similar length, each
 * without the padding columns its rows all have (see DecoderSession.step). Measured on gpt2-medium shapes (Intel
 * Xeon, 2 threads), the compare job of issue 19 at batch 16: peak RSS 3.47–3.59 GB instead of 3.73–3.77 GB (the
 * prefill's activations are half as wide), the prefill of its longer batch 1.6 s instead of 2.0 s (medians of 3), the
 * whole job the same within this VM's noise (median of 6: 19.5 s against 19.8 s). It is what makes batch 32, whose
 * decode steps run faster per row there, pay (see defaultCompareBatch).
 */
export const prefillGroupRows = 8;

/**
 * A forward without a KV cache whose outputs would take more than this many bytes runs in groups of consecutive
 * rows, at least one row each, whose outputs onnxruntime writes straight into the whole batch's buffers. Run whole,
 * the outputs were held twice at the end of the run: in onnxruntime's memory and in onnxruntime-node's copy of them
 * (Llama-3.2-1B shapes, 8 × 128 positions with all 16 mlp.hook_post and all logits: 2 × 1 GiB; see
 * docs/benchmarks.md for what the groups save and cost).
 */
export const defaultOutputBytesPerRun = 64 * 2 ** 20;

/**
 * An output of a graph without a KV cache that a forward in groups of rows fills group by group: every one of its
 * dimensions is known once the batch and the positions are, and its first counts rows (`batch`, or `rows` = batch·pos
 * for `logits_rows`), so consecutive rows are one contiguous slice of it.
 */
interface RowOutput {
  name: string;
  type: 'float32' | 'int64';
  /** The output's dimensions for `batch` rows of `pos` positions. */
  dims: (batch: number, pos: number) => number[];
}

export class DecoderSession {
  readonly config: DecoderConfig;
  readonly device: DeviceReport;
  readonly #session: Session;
  readonly #hasInterventions: boolean;
  readonly #pastNames: string[];
  readonly #hasCache: boolean;
  /** The 'static' attention graph's cache, updated in place; null for the other graphs. */
  readonly #staticCache: StaticKvCache | null;
  /**
   * Whether every output other than the new keys and values has no position axis, so a prefill run in groups of rows
   * puts its outputs back together: per row ([batch, …], named in #perRowOutputs) or summed over the batch (no batch
   * axis).
   */
  readonly #outputsJoinAcrossRows: boolean;
  readonly #perRowOutputs: ReadonlySet<string>;
  /** Every output, if all of them can be filled a group of rows at a time (see RowOutput); else null. */
  readonly #rowOutputs: RowOutput[] | null;
  readonly #outputBytesPerRun: number;

  private constructor(
    session: Session,
    config: DecoderConfig,
    device: DeviceReport,
    cacheCapacity: number,
    outputBytesPerRun: number,
  ) {
    this.#session = session;
    this.config = config;
    this.device = device;
    this.#hasInterventions = session.inputNames.includes('mlp_post_scale');
    this.#pastNames = session.inputNames.filter((name) => name.startsWith('past.'));
    this.#hasCache = session.outputNames.some((name) => name.startsWith('present.') || name.startsWith('new.'));
    this.#staticCache = session.inputNames.includes('cache.0.key') ? new StaticKvCache(config, cacheCapacity) : null;
    this.#outputsJoinAcrossRows = session.outputMetadata.every(
      (output) =>
        output.name.startsWith('new.') ||
        (output.isTensor && output.shape.every((dim) => typeof dim === 'number' || dim === 'batch')),
    );
    this.#perRowOutputs = new Set(
      session.outputMetadata.filter((output) => output.isTensor && output.shape[0] === 'batch').map(({ name }) => name),
    );
    this.#rowOutputs = this.#hasCache || this.#staticCache ? null : rowOutputsOf(session.outputMetadata);
    this.#outputBytesPerRun = outputBytesPerRun;
  }

  /**
   * `cacheCapacity`: positions a static cache holds before it must grow (prompt plus new tokens). A graph with a KV
   * cache runs without onnxruntime's memory pattern and CPU arena (see SessionOptions). `cacheOnDevice` (the standard
   * graph on a GPU) keeps its `present.*` outputs in GPU memory, to feed the next step as they are: measured on an
   * H200, copying the whole cache to the CPU and back at every step made a gpt2-medium compare 2.5× slower than the CPU.
   */
  static async open(
    model: Uint8Array | string,
    config: DecoderConfig,
    run: {
      device: DeviceReport;
      threads?: number;
      cacheCapacity?: number;
      kvCache: boolean;
      cacheOnDevice?: boolean;
      prepackWeights?: boolean;
      /** See defaultOutputBytesPerRun. */
      outputBytesPerRun?: number;
    },
  ): Promise<DecoderSession> {
    const session = await createSession(model, {
      device: run.device,
      threads: run.threads,
      prepackWeights: run.prepackWeights,
      memoryPattern: !run.kvCache,
      cpuMemoryArena: !run.kvCache,
      outputsOnDevice: run.cacheOnDevice
        ? Array.from({ length: config.nLayers }, (_, layer) => [
            `present.${layer}.key`,
            `present.${layer}.value`,
          ]).flat()
        : [],
    });
    return new DecoderSession(
      session,
      config,
      run.device,
      run.cacheCapacity ?? config.nCtx,
      run.outputBytesPerRun ?? defaultOutputBytesPerRun,
    );
  }

  get outputNames(): readonly string[] {
    return this.#session.outputNames;
  }

  /**
   * One forward pass over `input.pos` new positions per row. A prefill of more than prefillGroupRows rows into a
   * static cache runs as groups of rows of similar length, each trimmed of the padding columns its rows all have: the
   * same keys, values and outputs at every real position (padding is masked either way), less work where prompt
   * lengths differ, and smaller GEMMs that run faster per multiply-add here (see prefillGroupRows). Outputs summed
   * over the batch are then sums of the groups' float32 sums, so they can differ from one sum in the last bits. A
   * forward without a cache whose outputs would take more than the session's bytes per run runs in groups of
   * consecutive rows instead, with the same outputs (see defaultOutputBytesPerRun).
   */
  async step(input: DecoderStepInput): Promise<DecoderStepOutput> {
    const past = input.cache?.length ?? 0;
    if (this.#rowOutputs && !input.cache) {
      const rowBytes = this.#rowOutputs.reduce(
        (sum, { type, dims }) => sum + (type === 'int64' ? 8 : 4) * product(dims(1, input.pos)),
        0,
      );
      const groupRows = Math.max(1, Math.floor(this.#outputBytesPerRun / rowBytes));
      if (input.batch > groupRows) return this.#forwardInGroups(input, this.#rowOutputs, groupRows);
    }
    if (
      this.#staticCache &&
      this.#hasCache &&
      past === 0 &&
      input.batch > prefillGroupRows &&
      this.#outputsJoinAcrossRows
    )
      return this.#prefillInGroups(input);
    this.#staticCache?.reserve(input.batch, past + input.pos, past);
    const outputs = await this.#run(input);
    // A cache kept in GPU memory is consumed by the step it fed (see releaseCache).
    if (input.cache) this.releaseCache(input.cache);
    let cache: KvCache | null = null;
    if (this.#staticCache && this.#hasCache) {
      this.#staticCache.write(outputs, past, input.pos);
      cache = { tensors: {}, length: past + input.pos }; // the positions live in the session's static cache
    } else if (this.#hasCache) {
      // present.* of this step are next step's past.*: handed over as they are, no copy in JS.
      const tensors: Record<string, Tensor> = {};
      for (const name of this.#pastNames) tensors[name] = outputs[name.replace(/^past\./, 'present.')]!;
      const first = tensors[this.#pastNames[0]!]!;
      cache = { tensors, length: first.dims[first.dims.length - 2]! };
    }
    return { outputs, cache };
  }

  /**
   * The prefill of step() in groups: rows sorted by their count of leading padding columns, prefillGroupRows at a
   * time; each group runs without the columns all its rows pad, and its keys and values go into its rows' cache slots
   * after that padding, where a single prefill of the whole batch would have put them. The outputs are joined back in
   * row order, or summed (see #outputsJoinAcrossRows); the new keys and values are not returned.
   */
  async #prefillInGroups(input: DecoderStepInput): Promise<DecoderStepOutput> {
    const { batch, pos } = input;
    const staticCache = this.#staticCache!;
    staticCache.reserve(batch, pos, 0);
    const padding = Array.from({ length: batch }, (_, row) => {
      let columns = 0;
      while (columns < pos - 1 && input.attentionMask[row * pos + columns] === 0n) columns++;
      return columns;
    });
    const order = padding.map((_, row) => row).sort((a, b) => padding[b]! - padding[a]! || a - b);
    const joined: Record<string, Tensor> = {};
    for (let start = 0; start < batch; start += prefillGroupRows) {
      const rows = order.slice(start, start + prefillGroupRows);
      const skip = Math.min(...rows.map((row) => padding[row]!));
      const width = pos - skip;
      /** The group's rows of a [batch, pos] input, without its first `skip` columns: [group rows, width]. */
      const columns = (values: BigInt64Array) => {
        const out = new BigInt64Array(rows.length * width);
        rows.forEach((row, index) => out.set(values.subarray(row * pos + skip, (row + 1) * pos), index * width));
        return out;
      };
      const outputs = await this.#run({
        ...input,
        batch: rows.length,
        pos: width,
        inputIds: columns(input.inputIds),
        attentionMask: columns(input.attentionMask),
        positionIds: columns(input.positionIds),
        cache: null,
      });
      staticCache.write(outputs, skip, width, rows);
      for (const [name, tensor] of Object.entries(outputs)) {
        joinRows(joined, name, tensor, this.#perRowOutputs.has(name) ? { rows, batch } : null);
      }
    }
    return { outputs: joined, cache: { tensors: {}, length: pos } };
  }

  /**
   * A forward without a cache in groups of `groupRows` consecutive rows (see defaultOutputBytesPerRun): each group's
   * outputs are written into its rows of buffers for the whole batch, and onnxruntime-node's copies of them are handed
   * back at once. Rows do not interact, so the outputs are those of one run over the batch.
   */
  async #forwardInGroups(input: DecoderStepInput, rowOutputs: RowOutput[], groupRows: number) {
    const { batch, pos } = input;
    const whole = Object.fromEntries(
      rowOutputs.map(({ name, type, dims }) => {
        const shape = dims(batch, pos);
        const data = type === 'int64' ? new BigInt64Array(product(shape)) : new Float32Array(product(shape));
        return [name, new TensorClass(type, data, shape)];
      }),
    );
    for (let start = 0; start < batch; start += groupRows) {
      const rows = Math.min(groupRows, batch - start);
      const into = Object.fromEntries(
        rowOutputs.map(({ name, type, dims }) => {
          const perRow = product(dims(1, pos));
          const data = (whole[name]!.data as Float32Array | BigInt64Array).subarray(
            start * perRow,
            (start + rows) * perRow,
          );
          return [name, new TensorClass(type, data, dims(rows, pos))];
        }),
      );
      const columns = (values: BigInt64Array) => values.subarray(start * pos, (start + rows) * pos); // [rows, pos]
      const copies = await this.#run(
        {
          ...input,
          batch: rows,
          inputIds: columns(input.inputIds),
          attentionMask: columns(input.attentionMask),
          positionIds: columns(input.positionIds),
        },
        into,
      );
      for (const copy of Object.values(copies)) releaseTensorMemory(copy);
    }
    return { outputs: withLogitsShaped(whole, batch, pos), cache: null };
  }

  /**
   * Feeds one forward pass (inputs, static cache or past tensors, interventions) and runs it; `into`: preallocated
   * outputs (see runSession), whose copies are returned unshaped.
   */
  async #run(input: DecoderStepInput, into?: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const { nLayers, nHeads, nKvHeads, dHead, dMlp, dModel } = this.config;
    const past = input.cache?.length ?? 0;
    const feeds: Record<string, Tensor> = {
      input_ids: new TensorClass('int64', input.inputIds, [input.batch, input.pos]),
      attention_mask: new TensorClass('int64', input.attentionMask, [input.batch, past + input.pos]),
      position_ids: new TensorClass('int64', input.positionIds, [input.batch, input.pos]),
    };
    if (this.#staticCache) {
      Object.assign(feeds, this.#staticCache.feeds(input.batch, past));
      if (past === 0) feeds.attention_mask = hiddenSlotMask(input.attentionMask, input.batch, input.pos);
    }
    for (const name of this.#pastNames) {
      // Fused attention caches keys and values together (`past.{L}`); standard attention separately (`.key`/`.value`).
      const emptyDims =
        name.endsWith('.key') || name.endsWith('.value')
          ? [input.batch, nKvHeads, 0, dHead]
          : [2, input.batch, nHeads, 0, dHead];
      feeds[name] = input.cache?.tensors[name] ?? new TensorClass('float32', new Float32Array(0), emptyDims);
    }
    if (this.#hasInterventions) {
      const interventions = input.interventions ?? noInterventions(this.config);
      const positions = new Float32Array(input.batch * input.pos);
      for (let row = 0; row < input.batch; row++) {
        for (let p = 0; p < input.pos; p++)
          positions[row * input.pos + p] = interventions.positions === 'all' || p === input.pos - 1 ? 1 : 0;
      }
      feeds.mlp_key_scale = new TensorClass('float32', interventions.mlpKeyScale, [nLayers, dMlp]);
      feeds.mlp_post_scale = new TensorClass('float32', interventions.mlpPostScale, [nLayers, dMlp]);
      feeds.mlp_post_gain = new TensorClass('float32', interventions.mlpPostGain, [nLayers, dMlp]);
      feeds.mlp_post_override_mask = new TensorClass('float32', interventions.mlpPostOverrideMask, [nLayers, dMlp]);
      feeds.mlp_post_override_value = new TensorClass('float32', interventions.mlpPostOverrideValue, [nLayers, dMlp]);
      feeds.mlp_out_add = new TensorClass('float32', interventions.mlpOutAdd, [nLayers, dModel]);
      feeds.intervention_positions = new TensorClass('float32', positions, [input.batch, input.pos]);
    }
    return into ? runSession(this.#session, feeds, into) : runDecoderGraph(this.#session, feeds);
  }

  /**
   * Frees the GPU memory of a cache kept on the device (WebGPU); CPU caches are left to the garbage collector. A
   * step releases the cache it was fed, so each KvCache feeds one step; release the last one when a sequence ends.
   */
  releaseCache(cache: KvCache): void {
    for (const tensor of Object.values(cache.tensors)) if (tensor.location === 'gpu-buffer') tensor.dispose();
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * Puts one group's output into `joined`: a per-row output ([group rows, …]) into its `rows` of [batch, …]; an output
 * summed over the batch (`perRow` null: no batch axis, float32) added to the groups' sum so far.
 */
function joinRows(
  joined: Record<string, Tensor>,
  name: string,
  tensor: Tensor,
  perRow: { rows: readonly number[]; batch: number } | null,
): void {
  if (tensor.type !== 'float32' && (tensor.type !== 'int64' || !perRow))
    throw new RangeError(`a grouped prefill cannot join the ${tensor.type} output ${name}`);
  const data = tensor.data as Float32Array | BigInt64Array;
  if (!perRow) {
    const sum = joined[name]?.data as Float32Array | undefined; // the group outputs are our own copies
    if (!sum) joined[name] = tensor;
    else for (let index = 0; index < sum.length; index++) sum[index]! += (data as Float32Array)[index]!;
    return;
  }
  const { rows, batch } = perRow;
  const rowSize = data.length / rows.length;
  let target = joined[name];
  if (!target) {
    const size = batch * rowSize;
    target = joined[name] = new TensorClass(
      tensor.type,
      tensor.type === 'int64' ? new BigInt64Array(size) : new Float32Array(size),
      [batch, ...tensor.dims.slice(1)],
    );
  }
  const out = target.data as typeof data;
  rows.forEach((row, index) => {
    if (out instanceof BigInt64Array)
      out.set((data as BigInt64Array).subarray(index * rowSize, (index + 1) * rowSize), row * rowSize);
    else out.set((data as Float32Array).subarray(index * rowSize, (index + 1) * rowSize), row * rowSize);
  });
}

const product = (values: number[]) => values.reduce((total, value) => total * value, 1);

/** The graph's outputs as RowOutputs, or null if any of them is not one (see RowOutput). */
function rowOutputsOf(metadata: Session['outputMetadata']): RowOutput[] | null {
  const outputs: RowOutput[] = [];
  for (const output of metadata) {
    if (!output.isTensor || (output.type !== 'float32' && output.type !== 'int64')) return null;
    const [first, ...rest] = output.shape;
    if (!rest.every((dim) => typeof dim === 'number' || dim === 'pos')) return null;
    const inner = (pos: number) => rest.map((dim) => (dim === 'pos' ? pos : (dim as number)));
    if (first === 'batch')
      outputs.push({ name: output.name, type: output.type, dims: (batch, pos) => [batch, ...inner(pos)] });
    else if (first === 'rows')
      outputs.push({ name: output.name, type: output.type, dims: (batch, pos) => [batch * pos, ...inner(pos)] });
    else return null;
  }
  return outputs;
}
