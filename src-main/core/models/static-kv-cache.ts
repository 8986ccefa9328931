// The KV cache of the 'static' attention graphs (the decoder models' and BART's decoder), owned by the session and
// updated in place: each step feeds the slots filled so far (no copy: onnxruntime reads the JS memory) and writes back
// only that step's new keys and values, so decoding never copies the grown cache the way returning `present` tensors
// does.
// Layout per layer, keys and values alike: [slot, batch, n_kv_heads, d_head], slot outermost, so the filled slots are
// a prefix of the buffer (a step attends to those only, not to the empty ones after them) and a step's new keys are
// one contiguous block. The graph reads the slots through Transposes that onnxruntime folds into its attention
// MatMuls (FusedMatMul's transBatchB), which copy nothing.

import { releaseTensorMemory, TensorClass, type Tensor } from '../runtime/onnxruntime.ts';

/** What sizes a cache: layers, heads per slot and row, head width, and the most slots a sequence can fill. */
export interface KvCacheShape {
  nLayers: number;
  nKvHeads: number;
  dHead: number;
  nCtx: number;
}

export class StaticKvCache {
  readonly #config: KvCacheShape;
  /** Rows per slot in the current layout: the batch being decoded. */
  #batch = 0;
  /** The slots a new batch asks for at least (prompt plus new tokens); buffers grow from there. */
  readonly #initialCapacity: number;
  #keys: Float32Array[] = [];
  #values: Float32Array[] = [];

  constructor(config: KvCacheShape, capacity: number) {
    this.#config = config;
    this.#initialCapacity = Math.max(1, capacity);
  }

  /** Floats of one slot of one row: n_kv_heads · d_head. */
  get #rowWidth(): number {
    return this.#config.nKvHeads * this.#config.dHead;
  }

  /**
   * Makes room for `batch` rows of `length` slots. `keep` > 0 continues the batch being decoded (its first `keep` slots
   * are kept); `keep` 0 starts a new batch, laid out at its own width in the same buffers when they are large enough.
   */
  reserve(batch: number, length: number, keep: number): void {
    const floatsPerSlot = batch * this.#rowWidth;
    // Slots the buffers hold at this batch's width (more than asked for when a smaller batch reuses them).
    const capacity = Math.floor((this.#keys[0]?.length ?? 0) / floatsPerSlot);
    if (keep === 0) {
      this.#batch = batch;
      const wanted = Math.max(length, this.#initialCapacity);
      if (wanted > capacity) this.#allocate(wanted * floatsPerSlot, 0);
      return;
    }
    if (batch !== this.#batch) throw new RangeError(`a batch of ${this.#batch} rows cannot continue with ${batch}`);
    if (length <= capacity) return;
    // Grow by at least half again (up to the context), so an underestimated length does not copy every step.
    const grown = Math.max(length, Math.min(this.#config.nCtx, Math.ceil(capacity * 1.5)));
    this.#allocate(grown * floatsPerSlot, keep * floatsPerSlot);
  }

  /** New buffers of `floats` per layer, keeping the first `kept` floats of the old ones. */
  #allocate(floats: number, kept: number): void {
    const grown = (old: Float32Array | undefined) => {
      const buffer = new Float32Array(floats);
      if (old && kept > 0) buffer.set(old.subarray(0, kept));
      return buffer;
    };
    this.#keys = Array.from({ length: this.#config.nLayers }, (_, layer) => grown(this.#keys[layer]));
    this.#values = Array.from({ length: this.#config.nLayers }, (_, layer) => grown(this.#values[layer]));
  }

  /**
   * The cache inputs for a step after `past` positions: the first `past` slots of every layer. A prefill (past 0) is
   * fed one zero slot instead, which the caller's mask must hide (hiddenSlotMask for the decoder models'
   * attention_mask, cache_visible 0 for BART's decoder): onnxruntime 1.30's FusedMatMul with transBatchB divides by
   * zero (SIGFPE) on a cache of no slots.
   */
  feeds(batch: number, past: number): Record<string, Tensor> {
    const { nLayers, nKvHeads, dHead } = this.#config;
    const slots = Math.max(past, 1);
    const size = slots * batch * this.#rowWidth;
    const empty = past === 0 ? new Float32Array(size) : null;
    const dims = [slots, batch, nKvHeads, dHead];
    const feeds: Record<string, Tensor> = {};
    for (let layer = 0; layer < nLayers; layer++) {
      feeds[`cache.${layer}.key`] = new TensorClass('float32', empty ?? this.#keys[layer]!.subarray(0, size), dims);
      feeds[`cache.${layer}.value`] = new TensorClass('float32', empty ?? this.#values[layer]!.subarray(0, size), dims);
    }
    return feeds;
  }

  /**
   * Stores this step's `new.{L}.key` and `new.{L}.value` [pos, batch, n_kv_heads, d_head] in slots past .. past + pos:
   * one copy per layer (gpt2-medium shapes at batch 32: 1.0 ms a decode step, against 3.7–6.1 ms when the cache lay
   * [batch, n_kv_heads, slot, d_head] and each row's head took its own run). `rows`: the cache row of each output
   * row, for a prefill run in groups of rows (then one copy per slot and row). The new.* outputs are consumed: taken
   * out of `outputs`, their memory handed back at once (releaseTensorMemory).
   */
  write(outputs: Record<string, Tensor>, past: number, pos: number, rows?: readonly number[]): void {
    const width = this.#rowWidth;
    const slotFloats = this.#batch * width;
    for (let layer = 0; layer < this.#config.nLayers; layer++) {
      for (const [name, cache] of [
        [`new.${layer}.key`, this.#keys[layer]!],
        [`new.${layer}.value`, this.#values[layer]!],
      ] as const) {
        const fresh = outputs[name]!.data as Float32Array;
        if (!rows) cache.set(fresh, past * slotFloats);
        else
          for (let slot = 0; slot < pos; slot++)
            rows.forEach((row, index) => {
              const from = (slot * rows.length + index) * width;
              cache.set(fresh.subarray(from, from + width), (past + slot) * slotFloats + row * width);
            });
        releaseTensorMemory(outputs[name]!);
        delete outputs[name];
      }
    }
  }
}

/**
 * A prefill's attention_mask [batch, pos] with the leading 0 column that hides the zero slot StaticKvCache.feeds
 * gives a step with no past: [batch, 1 + pos].
 */
export function hiddenSlotMask(attentionMask: BigInt64Array, batch: number, pos: number): Tensor {
  const mask = new BigInt64Array(batch * (1 + pos));
  for (let row = 0; row < batch; row++)
    mask.set(attentionMask.subarray(row * pos, (row + 1) * pos), row * (1 + pos) + 1);
  return new TensorClass('int64', mask, [batch, 1 + pos]);
}
