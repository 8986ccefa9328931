// The GPT-2 forward pass as an ONNX graph, with TransformerLens-named hook outputs on request, a KV cache, an
// attention mask for left-padded batches and, optionally, intervention inputs (so no intervention needs a rebuild).
// Shapes use TransformerLens' words: batch, pos (new positions), total (= past + pos), d_model, d_mlp, d_vocab.

import { decoderHookNames } from '../../../shared/index.ts';
import type { GraphSpec, InitializerSpec } from '../../onnx/graph-builder.ts';
import { GraphWriter } from '../../onnx/graph-writer.ts';
import type { Gpt2Config } from './config.ts';

export interface Gpt2GraphOptions {
  /** Hook outputs to expose, by exact TransformerLens name (see decoderHookNames). */
  hooks: string[];
  /**
   * Hooks at every position [batch, pos, width], only at the last [batch, width] (all a generation step needs), or
   * the last position summed over the batch [width] (all running sums need: one small output per hook per step).
   */
  hookPositions: 'all' | 'last' | 'last-batch-sum';
  /**
   * Logits at every position, at the last, none, or only the greedy choice at the last position: `next_token` int64
   * [batch], the ArgMax of the last logits (ties go to the lowest id, as `argmax` in logits-processors.ts).
   */
  logits: 'all' | 'last' | 'none' | 'next-token';
  /** Expose present.{L}.key/value outputs for incremental decoding. */
  kvCache: boolean;
  /** Add the intervention inputs (see gpt2InterventionInputs). */
  interventions: boolean;
  /**
   * 'fused': onnxruntime's com.microsoft.Attention kernel (QKV projection, causal + padding mask, KV cache in one op;
   * cache inputs `past.{L}` [2, batch, n_heads, past, d_head]). 'standard': plain ONNX ops (any execution provider;
   * cache inputs `past.{L}.key` / `.value` [batch, n_heads, past, d_head]). 'static': plain ONNX ops over a
   * fixed-capacity cache the caller owns and updates in place (inputs `cache.{L}.key` [batch, n_heads, d_head,
   * capacity], keys stored transposed, and `cache.{L}.value` [batch, n_heads, capacity, d_head]; attention_mask is
   * [batch, capacity + pos], its first capacity columns saying which slots hold a visible token; outputs only this
   * step's `new.{L}.key` [batch, n_heads, d_head, pos] / `new.{L}.value` [batch, n_heads, pos, d_head]), so no step
   * copies the whole cache. All match the
   * reference to 1e-5.
   */
  attention: 'fused' | 'standard' | 'static';
}

/**
 * Intervention inputs, all required and always fed (ones/zeros mean "none"):
 * - mlp_key_scale [n_layers, d_mlp]: multiplies x·k (the key-vector product, before b_in) at every position (the
 *   "un-align" experiment scales key vectors).
 * - mlp_post_scale [n_layers, d_mlp]: multiplies mlp.hook_post at every position (ablation: 0).
 * - mlp_post_gain [n_layers, d_mlp]: multiplies mlp.hook_post at the intervention positions (activation editing).
 * - mlp_post_override_mask / _value [n_layers, d_mlp]: where mask = 1, hook_post := value (patching, editing).
 * - mlp_out_add [n_layers, d_model]: added to each layer's MLP output (Lee et al.'s subtraction of α·w).
 * - intervention_positions [batch, pos]: 1 where override and add apply (e.g. the last position only).
 */
export const gpt2InterventionInputs = [
  'mlp_key_scale',
  'mlp_post_scale',
  'mlp_post_gain',
  'mlp_post_override_mask',
  'mlp_post_override_value',
  'mlp_out_add',
  'intervention_positions',
] as const;

/** Supplies each weight as an initializer (inline data or external bytes in a file beside the model). */
export type WeightInitializer = (name: string, dims: number[]) => InitializerSpec;

const float32Min = -3.4028234663852886e38;

export function buildGpt2Graph(config: Gpt2Config, weight: WeightInitializer, options: Gpt2GraphOptions): GraphSpec {
  const { nLayers, dModel, nHeads, dHead, dMlp, dVocab, nCtx, layerNormEps } = config;
  const available = new Set(decoderHookNames(nLayers));
  for (const hook of options.hooks) if (!available.has(hook)) throw new RangeError(`unknown GPT-2 hook ${hook}`);
  if (options.hooks.length === 0 && options.logits === 'none' && !options.kvCache)
    throw new RangeError('a GPT-2 graph needs at least one output');
  const wanted = new Set(options.hooks);
  const g = new GraphWriter();
  const weightNames = new Set<string>();
  const w = (name: string, dims: number[]) => {
    if (!weightNames.has(name)) g.initializer(weight(name, dims));
    weightNames.add(name);
    return name;
  };

  const inputIds = g.input('input_ids', 'int64', ['batch', 'pos']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'total']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'pos']);
  for (let layer = 0; layer < nLayers; layer++) {
    if (options.attention === 'fused') g.input(`past.${layer}`, 'float32', [2, 'batch', nHeads, 'past', dHead]);
    else if (options.attention === 'standard')
      for (const part of ['key', 'value'])
        g.input(`past.${layer}.${part}`, 'float32', ['batch', nHeads, 'past', dHead]);
    else {
      g.input(`cache.${layer}.key`, 'float32', ['batch', nHeads, dHead, 'capacity']);
      g.input(`cache.${layer}.value`, 'float32', ['batch', nHeads, 'capacity', dHead]);
    }
  }
  const intervention = options.interventions
    ? {
        keyScale: g.input('mlp_key_scale', 'float32', [nLayers, dMlp]),
        scale: g.input('mlp_post_scale', 'float32', [nLayers, dMlp]),
        gain: g.input('mlp_post_gain', 'float32', [nLayers, dMlp]),
        overrideMask: g.input('mlp_post_override_mask', 'float32', [nLayers, dMlp]),
        overrideValue: g.input('mlp_post_override_value', 'float32', [nLayers, dMlp]),
        outAdd: g.input('mlp_out_add', 'float32', [nLayers, dModel]),
        positions: g.op('Unsqueeze', [g.input('intervention_positions', 'float32', ['batch', 'pos']), g.ints([-1])]), // [batch, pos, 1]
      }
    : null;
  const layerRow = (tensor: string, layer: number) => g.op('Gather', [tensor, g.ints([layer], [])], { axis: 0 });

  /**
   * Hook outputs (at all positions, the last, or the last summed over the batch) are written after the rest of the
   * graph, the last requested first. onnxruntime orders a graph by walking back from its output nodes, newest node
   * first; written this way, each hook runs right after its own layer, so no layer's activations are held until the
   * end of the graph (measured on gpt2-medium with both MLP hooks of all 24 layers: a 16 × 32 prefill touched 630 MB
   * of fresh memory with the hooks written in place, 380 MB like this, and took 1.1 s instead of 2.2 s).
   */
  const hookOutputs: (() => void)[] = [];
  const hook = (name: string, value: string, width: number) => {
    if (!wanted.has(name)) return;
    hookOutputs.push(() => {
      if (options.hookPositions === 'all') {
        g.output(value, name, 'float32', ['batch', 'pos', width]);
        return;
      }
      const last = g.op('Gather', [value, g.ints([-1], [])], { axis: 1 }); // [batch, width]
      if (options.hookPositions === 'last') g.output(last, name, 'float32', ['batch', width]);
      else g.output(g.op('ReduceSum', [last, g.ints([0])], { keepdims: 0 }), name, 'float32', [width]);
    });
  };

  const layerNorm = (x: string, prefix: string) =>
    g.op('LayerNormalization', [x, w(`${prefix}.w`, [dModel]), w(`${prefix}.b`, [dModel])], {
      axis: -1,
      epsilon: layerNormEps,
    });
  const attention =
    options.attention === 'fused'
      ? fusedAttention(g, w, config, attentionMask, options.kvCache)
      : options.attention === 'standard'
        ? standardAttention(g, w, config, inputIds, attentionMask, options.kvCache)
        : staticCacheAttention(g, w, config, inputIds, attentionMask, options.kvCache);

  let residual = g.op('Add', [
    g.op('Gather', [w('embed.W_E', [dVocab, dModel]), inputIds]),
    g.op('Gather', [w('pos_embed.W_pos', [nCtx, dModel]), positionIds]),
  ]); // [batch, pos, d_model]

  for (let layer = 0; layer < nLayers; layer++) {
    const block = `blocks.${layer}`;
    hook(`${block}.hook_resid_pre`, residual, dModel);

    const mixed = attention(layerNorm(residual, `${block}.ln1`), layer); // [batch, pos, d_model]
    const attnOut = g.op('Add', [
      g.op('MatMul', [mixed, w(`${block}.attn.W_O`, [dModel, dModel])]),
      w(`${block}.attn.b_O`, [dModel]),
    ]);
    hook(`${block}.hook_attn_out`, attnOut, dModel);
    const residualMid = g.op('Add', [residual, attnOut]);
    hook(`${block}.hook_resid_mid`, residualMid, dModel);

    let keyProducts = g.op('MatMul', [layerNorm(residualMid, `${block}.ln2`), w(`${block}.mlp.W_in`, [dModel, dMlp])]); // [batch, pos, d_mlp]
    if (intervention) keyProducts = g.op('Mul', [keyProducts, layerRow(intervention.keyScale, layer)]);
    const pre = g.op('Add', [keyProducts, w(`${block}.mlp.b_in`, [dMlp])]);
    hook(`${block}.mlp.hook_pre`, pre, dMlp);
    let post = g.op('Gelu', [pre], { approximate: 'tanh' }); // gelu_new
    if (intervention) {
      // gain applies where positions = 1: 1 + (gain − 1)·positions.
      const gain = g.op('Add', [
        g.float(1),
        g.op('Mul', [g.op('Sub', [layerRow(intervention.gain, layer), g.float(1)]), intervention.positions]),
      ]); // [batch, pos, d_mlp]
      const scaled = g.op('Mul', [g.op('Mul', [post, layerRow(intervention.scale, layer)]), gain]);
      const overrideWeight = g.op('Mul', [layerRow(intervention.overrideMask, layer), intervention.positions]); // [batch, pos, d_mlp]
      post = g.op('Add', [
        scaled,
        g.op('Mul', [overrideWeight, g.op('Sub', [layerRow(intervention.overrideValue, layer), scaled])]),
      ]);
    }
    hook(`${block}.mlp.hook_post`, post, dMlp);
    let mlpOut = g.op('Add', [
      g.op('MatMul', [post, w(`${block}.mlp.W_out`, [dMlp, dModel])]),
      w(`${block}.mlp.b_out`, [dModel]),
    ]); // [batch, pos, d_model]
    if (intervention)
      mlpOut = g.op('Add', [mlpOut, g.op('Mul', [layerRow(intervention.outAdd, layer), intervention.positions])]);
    hook(`${block}.hook_mlp_out`, mlpOut, dModel);
    residual = g.op('Add', [residualMid, mlpOut]);
    hook(`${block}.hook_resid_post`, residual, dModel);
  }

  const normalized = layerNorm(residual, 'ln_final');
  hook('ln_final.hook_normalized', normalized, dModel);
  if (options.logits !== 'none') {
    // logits = normalized · W_Eᵀ (tied unembedding); Gemm's transB reads W_E in place instead of a transposed copy.
    const unembed = w('embed.W_E', [dVocab, dModel]);
    if (options.logits === 'last' || options.logits === 'next-token') {
      const last = g.op('Gather', [normalized, g.ints([-1], [])], { axis: 1 }); // [batch, d_model]
      const logits = g.op('Gemm', [last, unembed], { transB: 1 }); // [batch, d_vocab]
      if (options.logits === 'last') g.output(logits, 'logits', 'float32', ['batch', dVocab]);
      else g.output(g.op('ArgMax', [logits], { axis: 1, keepdims: 0 }), 'next_token', 'int64', ['batch']);
    } else {
      const flat = g.op('Reshape', [normalized, g.ints([-1, dModel])]);
      const logitsShape = g.op(
        'Concat',
        [g.op('Slice', [g.op('Shape', [normalized]), g.ints([0]), g.ints([2])]), g.ints([dVocab])],
        { axis: 0 },
      );
      g.output(g.op('Reshape', [g.op('Gemm', [flat, unembed], { transB: 1 }), logitsShape]), 'logits', 'float32', [
        'batch',
        'pos',
        dVocab,
      ]);
    }
  }
  for (const writeHook of hookOutputs.reverse()) writeHook();
  return g.graph('gpt2');
}

/** Attention for one layer: normalised residual [batch, pos, d_model] → heads mixed [batch, pos, d_model]. */
type AttentionLayer = (normalized: string, layer: number) => string;
type Weight = (name: string, dims: number[]) => string;

/** onnxruntime's fused GPT-2 attention (com.microsoft.Attention, unidirectional, 2-D padding mask, past/present). */
function fusedAttention(
  g: GraphWriter,
  w: Weight,
  config: Gpt2Config,
  attentionMask: string,
  kvCache: boolean,
): AttentionLayer {
  const { dModel, nHeads, dHead } = config;
  const maskIndex = g.op('Cast', [attentionMask], { to: 6 }); // int32 [batch, total]
  return (normalized, layer) => {
    const inputs = [
      normalized,
      w(`blocks.${layer}.attn.W_QKV`, [dModel, 3 * dModel]),
      w(`blocks.${layer}.attn.b_QKV`, [3 * dModel]),
      maskIndex,
      `past.${layer}`,
    ];
    const [mixed, present] = g.opMulti(
      'Attention',
      inputs,
      2,
      { num_heads: nHeads, unidirectional: 1 },
      'com.microsoft',
    );
    if (kvCache) g.output(present!, `present.${layer}`, 'float32', [2, 'batch', nHeads, 'total', dHead]);
    return mixed!;
  };
}

/** The same attention in standard ONNX ops: Q·Kᵀ/√d_head, causal and padding mask, softmax, ·V. */
function standardAttention(
  g: GraphWriter,
  w: Weight,
  config: Gpt2Config,
  inputIds: string,
  attentionMask: string,
  kvCache: boolean,
): AttentionLayer {
  const { nHeads, dHead } = config;
  // Mask shared by all layers: key j is visible to query i when j ≤ past + i and j is not padding.
  const total = dimension(g, attentionMask, 1);
  const pos = dimension(g, inputIds, 1);
  const causal = lowerTriangle(g, pos, total, g.op('Sub', [total, pos])); // [pos, total]
  const notPadding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, total]
  const visible = g.op('And', [causal, notPadding]); // [batch, 1, pos, total]
  const maskedScore = g.float(float32Min);
  const attentionScale = g.float(1 / Math.sqrt(dHead));
  const toHeads = (x: string) => splitHeads(g, config, x);
  return (normalized, layer) => {
    const [q, k, v] = projectQkv(g, w, config, normalized, layer);
    const keys = g.op('Concat', [`past.${layer}.key`, toHeads(k!)], { axis: 2 }); // [batch, n_heads, total, d_head]
    const values = g.op('Concat', [`past.${layer}.value`, toHeads(v!)], { axis: 2 });
    if (kvCache) {
      g.output(keys, `present.${layer}.key`, 'float32', ['batch', nHeads, 'total', dHead]);
      g.output(values, `present.${layer}.value`, 'float32', ['batch', nHeads, 'total', dHead]);
    }
    const scores = g.op('Mul', [
      g.op('MatMul', [toHeads(q!), g.op('Transpose', [keys], { perm: [0, 1, 3, 2] })]),
      attentionScale,
    ]); // [batch, n_heads, pos, total]
    const probabilities = g.op('Softmax', [g.op('Where', [visible, scores, maskedScore])], { axis: -1 });
    return mergeHeads(g, config, g.op('MatMul', [probabilities, values]));
  };
}

/** One dimension of a tensor's runtime shape, as an int64 scalar. */
function dimension(g: GraphWriter, tensor: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [tensor]), g.ints([axis], [])], { axis: 0 });
}

/** A boolean [rows, cols] mask, true where column j ≤ row i + diagonal (all int64 scalars). */
function lowerTriangle(g: GraphWriter, rows: string, cols: string, diagonal: string): string {
  const shape = g.op('Concat', [g.op('Unsqueeze', [rows, g.ints([0])]), g.op('Unsqueeze', [cols, g.ints([0])])], {
    axis: 0,
  });
  return g.op('Cast', [g.op('Trilu', [g.op('Expand', [g.float(1), shape]), diagonal], { upper: 0 })], { to: 9 });
}

/** The QKV projection split into queries, keys and values, each [batch, pos, d_model]. */
function projectQkv(g: GraphWriter, w: Weight, config: Gpt2Config, normalized: string, layer: number): string[] {
  const { dModel } = config;
  const qkv = g.op('Add', [
    g.op('MatMul', [normalized, w(`blocks.${layer}.attn.W_QKV`, [dModel, 3 * dModel])]),
    w(`blocks.${layer}.attn.b_QKV`, [3 * dModel]),
  ]); // [batch, pos, 3·d_model]
  return g.opMulti('Split', [qkv, g.ints([dModel, dModel, dModel])], 3, { axis: 2 });
}

/** Model width into heads: [batch, pos, d_model] → [batch, n_heads, pos, d_head]. */
function splitHeads(g: GraphWriter, config: Gpt2Config, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, config.nHeads, config.dHead])])], { perm: [0, 2, 1, 3] });
}

/** Heads back into the model width: [batch, n_heads, pos, d_head] → [batch, pos, d_model]. */
function mergeHeads(g: GraphWriter, config: Gpt2Config, heads: string): string {
  return g.op('Reshape', [g.op('Transpose', [heads], { perm: [0, 2, 1, 3] }), g.ints([0, 0, config.dModel])]);
}

/**
 * Attention over a fixed-capacity cache (see Gpt2GraphOptions.attention 'static'): the scores against the cached
 * slots (Q·K with the keys already transposed, so nothing is copied) and against this step's own keys are masked,
 * joined for one softmax, and split again to weigh the cached and the new values. Only the new keys and values
 * leave the graph; the session writes them into its cache.
 */
function staticCacheAttention(
  g: GraphWriter,
  w: Weight,
  config: Gpt2Config,
  inputIds: string,
  attentionMask: string,
  kvCache: boolean,
): AttentionLayer {
  const { nHeads, dHead } = config;
  const vector = (value: string) => g.op('Unsqueeze', [value, g.ints([0])]); // scalar → [1]
  const total = dimension(g, attentionMask, 1); // capacity + pos
  const pos = dimension(g, inputIds, 1);
  const capacity = g.op('Sub', [total, pos]);
  const maskBool = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, total]
  const slotVisible = g.op('Slice', [maskBool, g.ints([0]), vector(capacity), g.ints([3])]); // [batch, 1, 1, capacity]
  const newNotPadding = g.op('Slice', [maskBool, vector(capacity), vector(total), g.ints([3])]); // [batch, 1, 1, pos]
  const causal = lowerTriangle(g, pos, pos, g.ints([0], [])); // [pos, pos]: query i sees new key j ≤ i
  const newVisible = g.op('And', [causal, newNotPadding]); // [batch, 1, pos, pos]
  const splitSizes = g.op('Concat', [vector(capacity), vector(pos)], { axis: 0 });
  const maskedScore = g.float(float32Min);
  const attentionScale = g.float(1 / Math.sqrt(dHead));
  const toHeads = (x: string) => splitHeads(g, config, x);
  return (normalized, layer) => {
    const [q, k, v] = projectQkv(g, w, config, normalized, layer);
    const queries = toHeads(q!);
    const newKeysTransposed = g.op('Transpose', [toHeads(k!)], { perm: [0, 1, 3, 2] }); // [batch, n_heads, d_head, pos]
    const newValues = toHeads(v!);
    if (kvCache) {
      g.output(newKeysTransposed, `new.${layer}.key`, 'float32', ['batch', nHeads, dHead, 'pos']);
      g.output(newValues, `new.${layer}.value`, 'float32', ['batch', nHeads, 'pos', dHead]);
    }
    const slotScores = g.op('Mul', [g.op('MatMul', [queries, `cache.${layer}.key`]), attentionScale]); // [batch, n_heads, pos, capacity]
    const newScores = g.op('Mul', [g.op('MatMul', [queries, newKeysTransposed]), attentionScale]); // [batch, n_heads, pos, pos]
    const scores = g.op(
      'Concat',
      [g.op('Where', [slotVisible, slotScores, maskedScore]), g.op('Where', [newVisible, newScores, maskedScore])],
      { axis: -1 },
    );
    const [slotWeights, newWeights] = g.opMulti('Split', [g.op('Softmax', [scores], { axis: -1 }), splitSizes], 2, {
      axis: -1,
    });
    const mixed = g.op('Add', [
      g.op('MatMul', [slotWeights!, `cache.${layer}.value`]),
      g.op('MatMul', [newWeights!, newValues]),
    ]); // [batch, n_heads, pos, d_head]
    return mergeHeads(g, config, mixed);
  };
}
