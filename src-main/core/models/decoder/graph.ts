// The decoder-only forward pass (GPT-2, Llama, Mistral, Qwen2, Gemma-2: one graph with per-family options) as an
// ONNX graph, with TransformerLens-named hook outputs on request, a KV cache, an attention mask for left-padded
// batches and, optionally, intervention inputs (so no intervention needs a rebuild). Shapes use TransformerLens'
// words: batch, pos (new positions), total (= past + pos), d_model, d_mlp, d_vocab, n_kv_heads.

import { decoderHookNames } from '../../../shared/index.ts';
import type { GraphSpec, InitializerSpec } from '../../onnx/graph-builder.ts';
import { GraphWriter } from '../../onnx/graph-writer.ts';
import type { DecoderConfig } from './config.ts';

export interface DecoderGraphOptions {
  /** Hook outputs to expose, by exact TransformerLens name (see decoderHookNames). */
  hooks: string[];
  /**
   * Hooks at every position [batch, pos, width], only at the last [batch, width] (all a generation step needs), or
   * the last position summed over the batch [width] (all running sums need: one small output per hook per step).
   */
  hookPositions: 'all' | 'last' | 'last-batch-sum';
  /**
   * Logits at every position (as rows, `logits_rows` [batch·pos, d_vocab], which runDecoderGraph shapes), at the last,
   * none, or only the greedy choice at the last position: `next_token` int64 [batch], the ArgMax of the last logits
   * (ties go to the lowest id, as `argmax` in logits-processors.ts).
   */
  logits: 'all' | 'last' | 'none' | 'next-token';
  /** Expose present.{L}.key/value outputs for incremental decoding. */
  kvCache: boolean;
  /** Add the intervention inputs (see decoderInterventionInputs). */
  interventions: boolean;
  /**
   * 'fused': onnxruntime's com.microsoft.Attention kernel (GPT-2 only: QKV projection, causal + padding mask, KV
   * cache in one op; cache inputs `past.{L}` [2, batch, n_heads, past, d_head]). 'standard': plain ONNX ops (any
   * execution provider; cache inputs `past.{L}.key` / `.value` [batch, n_kv_heads, past, d_head]). 'static': plain
   * ONNX ops over a cache the caller owns and updates in place (inputs `cache.{L}.key` and `cache.{L}.value`
   * [slots, batch, n_kv_heads, d_head]; attention_mask is [batch, slots + pos], its first slots columns saying which
   * slots hold a visible token; outputs only this step's `new.{L}.key` / `new.{L}.value` [pos, batch, n_kv_heads,
   * d_head]), so no step copies the whole cache. All match the reference to 1e-5.
   */
  attention: 'fused' | 'standard' | 'static';
  /**
   * Whether the session repacks the weights (SessionOptions.prepackWeights; left out: it does). Only a tied
   * unembedding at every position reads it: a repacking session multiplies by an alias of the embedding table, which
   * onnxruntime repacks apart from the lookup's table; one that does not multiplies by the table itself, mapped once.
   */
  repackedWeights?: boolean;
}

/**
 * Intervention inputs, all required and always fed (ones/zeros mean "none"):
 * - mlp_key_scale [n_layers, d_mlp]: multiplies x·k (the key-vector product, before b_in; for a gated MLP the gate
 *   product, before the activation) at every position (the "un-align" experiment scales key vectors).
 * - mlp_post_scale [n_layers, d_mlp]: multiplies mlp.hook_post at every position (ablation: 0).
 * - mlp_post_gain [n_layers, d_mlp]: multiplies mlp.hook_post at the intervention positions (activation editing).
 * - mlp_post_override_mask / _value [n_layers, d_mlp]: where mask = 1, hook_post := value (patching, editing).
 * - mlp_out_add [n_layers, d_model]: added to each layer's MLP output (Lee et al.'s subtraction of α·w).
 * - intervention_positions [batch, pos]: 1 where override and add apply (e.g. the last position only).
 */
export const decoderInterventionInputs = [
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

export function buildDecoderGraph(
  config: DecoderConfig,
  weight: WeightInitializer,
  options: DecoderGraphOptions,
): GraphSpec {
  const { nLayers, dModel, nHeads, nKvHeads, dHead, dMlp, dVocab, nCtx } = config;
  const gated = config.mlp.kind === 'gated';
  const available = new Set(decoderHookNames(nLayers, gated));
  for (const hook of options.hooks)
    if (!available.has(hook)) throw new RangeError(`unknown ${config.family} hook ${hook}`);
  if (options.hooks.length === 0 && options.logits === 'none' && !options.kvCache)
    throw new RangeError('a decoder graph needs at least one output');
  if (options.attention === 'fused' && config.family !== 'gpt2')
    throw new RangeError('fused attention is GPT-2 only (no rotary embeddings or grouped heads)');
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
        g.input(`past.${layer}.${part}`, 'float32', ['batch', nKvHeads, 'past', dHead]);
    else {
      g.input(`cache.${layer}.key`, 'float32', ['slots', 'batch', nKvHeads, dHead]);
      g.input(`cache.${layer}.value`, 'float32', ['slots', 'batch', nKvHeads, dHead]);
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
   * Hook outputs (at all positions, the last, or the last summed over the batch), written where the hooked value is
   * made, so the Gather and ReduceSum of a hook run right after its layer and free the layer's activations. Until graph
   * builder 11 they were written after the rest of the graph, which then (onnxruntime 1.30, optimized compare graphs)
   * ran them last: every layer's hooked activations stayed alive to the end of each run. Measured on the gpt2-medium
   * compare of issue 19 (both MLP hooks of all 24 layers, 8-row prefill groups, two models side by side on an AMD
   * EPYC, 2 threads): peak RSS 3888–3985 MiB instead of 4215–4313 MiB, with neurons.csv the same byte for byte.
   */
  const hook = (name: string, value: string, width: number) => {
    if (!wanted.has(name)) return;
    if (options.hookPositions === 'all') {
      g.output(value, name, 'float32', ['batch', 'pos', width]);
      return;
    }
    const last = g.op('Gather', [value, g.ints([-1], [])], { axis: 1 }); // [batch, width]
    if (options.hookPositions === 'last') g.output(last, name, 'float32', ['batch', width]);
    else g.output(g.op('ReduceSum', [last, g.ints([0])], { keepdims: 0 }), name, 'float32', [width]);
  };

  const norm = normLayer(g, w, config);
  const linear = linearLayer(g, w, config);
  const attention =
    options.attention === 'fused'
      ? fusedAttention(g, w, config, attentionMask, options.kvCache)
      : options.attention === 'standard'
        ? standardAttention(g, w, config, inputIds, attentionMask, positionIds, options.kvCache)
        : staticCacheAttention(g, w, config, inputIds, attentionMask, positionIds, options.kvCache);

  let residual: string; // [batch, pos, d_model]
  const tokenEmbedding = g.op('Gather', [w('embed.W_E', [dVocab, dModel]), inputIds]);
  if (config.positions.kind === 'learned')
    residual = g.op('Add', [tokenEmbedding, g.op('Gather', [w('pos_embed.W_pos', [nCtx, dModel]), positionIds])]);
  else {
    residual =
      config.embeddingScale === null ? tokenEmbedding : g.op('Mul', [tokenEmbedding, g.float(config.embeddingScale)]);
    hook('hook_embed', residual, dModel);
  }

  for (let layer = 0; layer < nLayers; layer++) {
    const block = `blocks.${layer}`;
    hook(`${block}.hook_resid_pre`, residual, dModel);

    const mixed = attention(norm(residual, `${block}.ln1`), layer); // [batch, pos, n_heads · d_head]
    let attnOut = linear(mixed, `${block}.attn.W_O`, nHeads * dHead, dModel, config.attention.outBias);
    if (config.sandwichNorms) attnOut = norm(attnOut, `${block}.ln1_post`);
    hook(`${block}.hook_attn_out`, attnOut, dModel);
    const residualMid = g.op('Add', [residual, attnOut]);
    hook(`${block}.hook_resid_mid`, residualMid, dModel);

    const normalized = norm(residualMid, `${block}.ln2`);
    const keyWeight = gated ? `${block}.mlp.W_gate` : `${block}.mlp.W_in`;
    let keyProducts = linear(normalized, keyWeight, dModel, dMlp, false); // [batch, pos, d_mlp]
    if (intervention) keyProducts = g.op('Mul', [keyProducts, layerRow(intervention.keyScale, layer)]);
    const keyBias = gated ? `${block}.mlp.b_gate` : `${block}.mlp.b_in`;
    const pre = config.mlp.bias ? g.op('Add', [keyProducts, w(keyBias, [dMlp])]) : keyProducts;
    hook(`${block}.mlp.hook_pre`, pre, dMlp);
    let post = activation(g, config, pre);
    if (gated) {
      const preLinear = linear(normalized, `${block}.mlp.W_in`, dModel, dMlp, config.mlp.bias); // up_proj
      hook(`${block}.mlp.hook_pre_linear`, preLinear, dMlp);
      post = g.op('Mul', [post, preLinear]);
    }
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
    let mlpOut = linear(post, `${block}.mlp.W_out`, dMlp, dModel, config.mlp.bias); // [batch, pos, d_model]
    if (config.sandwichNorms) mlpOut = norm(mlpOut, `${block}.ln2_post`);
    if (intervention)
      mlpOut = g.op('Add', [mlpOut, g.op('Mul', [layerRow(intervention.outAdd, layer), intervention.positions])]);
    hook(`${block}.hook_mlp_out`, mlpOut, dModel);
    residual = g.op('Add', [residualMid, mlpOut]);
    hook(`${block}.hook_resid_post`, residual, dModel);
  }

  const normalized = norm(residual, 'ln_final');
  hook('ln_final.hook_normalized', normalized, dModel);
  if (options.logits !== 'none') {
    // logits = normalized · W_Uᵀ; Gemm's transB reads the [d_vocab, d_model] matrix in place. A tied W_U is W_E: at
    // every position in a repacking session an alias of its bytes, which onnxruntime repacks apart from the lookup's
    // table (see GraphWriter.alias); elsewhere W_E itself (at one position per row never repacked: the left operand,
    // below), so the table is mapped once and its pages count once in RSS (Llama-3.2-1B shapes, greedy generation at
    // batch 16 on random prompts: the alias's mapping held another 157 MiB that the lookup's rows and readahead
    // touched).
    const unembed = !config.tiedEmbeddings
      ? w('unembed.W_U', [dVocab, dModel])
      : options.logits === 'all' && options.repackedWeights !== false
        ? g.alias('unembed.W_U', w('embed.W_E', [dVocab, dModel]))
        : w('embed.W_E', [dVocab, dModel]);
    const softcap = (logits: string) => {
      const cap = config.finalLogitSoftcap;
      return cap === null ? logits : g.op('Mul', [g.op('Tanh', [g.op('Div', [logits, g.float(cap)])]), g.float(cap)]);
    };
    if (options.logits === 'last' || options.logits === 'next-token') {
      // At one position per row the unembedding multiplies from the left, W_U · lastᵀ: onnxruntime repacks only a
      // MatMul's right-hand weights, so W_U is read where it lies (the checkpoint's mapped bytes) instead of from a
      // repacked copy that every session fills as fresh memory (1 GiB for Llama-3.2-1B shapes).
      const last = g.op('Gather', [normalized, g.ints([-1], [])], { axis: 1 }); // [batch, d_model]
      const columns = softcap(g.op('MatMul', [unembed, g.op('Transpose', [last], { perm: [1, 0] })])); // [d_vocab, batch]
      if (options.logits === 'last')
        g.output(g.op('Transpose', [columns], { perm: [1, 0] }), 'logits', 'float32', ['batch', dVocab]);
      else g.output(g.op('ArgMax', [columns], { axis: 0, keepdims: 0 }), 'next_token', 'int64', ['batch']);
    } else {
      // One row per position, [batch·pos, d_vocab], straight from the Gemm: onnxruntime copies a graph output that a
      // Reshape produces (0.5 GiB more at 8 × 128 on Llama shapes), so runDecoderGraph gives these rows their
      // [batch, pos, d_vocab] shape in JavaScript, without a copy.
      const flat = g.op('Reshape', [normalized, g.ints([-1, dModel])]);
      const logits = softcap(g.op('Gemm', [flat, unembed], { transB: 1 }));
      g.output(logits, 'logits_rows', 'float32', ['rows', dVocab]);
    }
  }
  return g.graph(config.family);
}

/** Attention for one layer: normalised residual [batch, pos, d_model] → heads mixed [batch, pos, n_heads · d_head]. */
type AttentionLayer = (normalized: string, layer: number) => string;
type Weight = (name: string, dims: number[]) => string;

/** A norm over d_model: LayerNorm with weight and bias, or RMSNorm x / √(mean(x²) + ε) · (w + offset). */
function normLayer(g: GraphWriter, w: Weight, config: DecoderConfig): (x: string, prefix: string) => string {
  const { dModel } = config;
  const { kind, eps, weightOffset } = config.norm;
  if (kind === 'layernorm')
    return (x, prefix) =>
      g.op('LayerNormalization', [x, w(`${prefix}.w`, [dModel]), w(`${prefix}.b`, [dModel])], {
        axis: -1,
        epsilon: eps,
      });
  // Written as Pow → ReduceMean → Add → Sqrt → Div → Mul, the pattern onnxruntime fuses into one
  // SimplifiedLayerNormalization kernel (computed in float32 throughout, as Hugging Face's RMSNorm upcasts).
  return (x, prefix) => {
    const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.float(2)]), g.ints([-1])], { keepdims: 1 }); // [batch, pos, 1]
    const normalized = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.float(eps)])])]);
    const weight = w(`${prefix}.w`, [dModel]);
    return g.op('Mul', [normalized, weightOffset ? g.op('Add', [weight, g.float(weightOffset)]) : weight]);
  };
}

/**
 * y = x·W (+ b) for a weight as stored: [in, out] (GPT-2's Conv1D) multiplies as it is; [out, in] (nn.Linear) through
 * Gemm's transB on x flattened to [rows, in], so onnxruntime prepacks the weight straight from its stored layout.
 * (Measured on six 2048 × 8192 layer pairs: MatMul with a Transpose that onnxruntime folds at load held one more copy
 * of the weights, peak RSS 3.32 GB against 2.54 GB, and created the session in 26 s against 15 s; runs were as fast.)
 */
function linearLayer(
  g: GraphWriter,
  w: Weight,
  config: DecoderConfig,
): (x: string, name: string, inDim: number, outDim: number, bias: boolean) => string {
  return (x, name, inDim, outDim, bias) => {
    const biasName = name.replace('.W_', '.b_');
    if (config.linearLayout === 'in-out') {
      const product = g.op('MatMul', [x, w(name, [inDim, outDim])]);
      return bias ? g.op('Add', [product, w(biasName, [outDim])]) : product;
    }
    const flat = g.op('Reshape', [x, g.ints([-1, inDim])]); // [batch · pos, in]
    const inputs = [flat, w(name, [outDim, inDim]), ...(bias ? [w(biasName, [outDim])] : [])];
    const outShape = g.op(
      'Concat',
      [g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([-1])]), g.ints([outDim])],
      {
        axis: 0,
      },
    ); // [batch, pos, out]
    return g.op('Reshape', [g.op('Gemm', inputs, { transB: 1 }), outShape]);
  };
}

/** The MLP's activation of the key (gate) products: gelu_new / gelu_pytorch_tanh (the same tanh form), or SiLU. */
function activation(g: GraphWriter, config: DecoderConfig, pre: string): string {
  if (config.mlp.activation === 'silu') return g.op('Mul', [pre, g.op('Sigmoid', [pre])]);
  return g.op('Gelu', [pre], { approximate: 'tanh' });
}

/** onnxruntime's fused GPT-2 attention (com.microsoft.Attention, unidirectional, 2-D padding mask, past/present). */
function fusedAttention(
  g: GraphWriter,
  w: Weight,
  config: DecoderConfig,
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

/**
 * What every attention layer of the standard and static graphs shares: the Q/K/V projections (GPT-2's fused c_attn,
 * or separate q/k/v projections with grouped key/value heads), rotary embeddings, and the score transform (scale,
 * Gemma-2's soft-cap). Masks are built once per distinct sliding window.
 */
class AttentionParts {
  readonly #g: GraphWriter;
  readonly #w: Weight;
  readonly #config: DecoderConfig;
  readonly #rotary: { cos: string; sin: string } | null;
  readonly #attentionMask: string;
  readonly #positionIds: string;
  /** Query and key positions, made on first use (only sliding windows need them). */
  #positions: { queries: string; keys: string } | null = null;

  constructor(g: GraphWriter, w: Weight, config: DecoderConfig, attentionMask: string, positionIds: string) {
    this.#g = g;
    this.#w = w;
    this.#config = config;
    this.#attentionMask = attentionMask;
    this.#positionIds = positionIds;
    if (config.positions.kind === 'rotary') {
      // angles[b, p, i] = position · inv_freq[i], duplicated for the two halves that rotate together.
      const inverse = g.initializer({
        name: 'rotary.inv_freq',
        type: 'float32',
        dims: [config.dHead / 2],
        data: Float32Array.from(config.positions.inverseFrequencies),
      });
      const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: 1 }), g.ints([2])]); // float [batch, pos, 1]
      const angles = g.op('Mul', [positions, inverse]); // [batch, pos, d_head / 2]
      const both = g.op('Unsqueeze', [g.op('Concat', [angles, angles], { axis: -1 }), g.ints([1])]); // [batch, 1, pos, d_head]
      this.#rotary = { cos: g.op('Cos', [both]), sin: g.op('Sin', [both]) };
    } else this.#rotary = null;
  }

  /**
   * Query positions float [batch, 1, pos, 1] from position_ids, and each key's position float [batch, 1, 1, total]
   * as cumsum(mask) − 1: windows count positions as position_ids do (real tokens before), so left padding changes
   * nothing.
   */
  #windowPositions(): { queries: string; keys: string } {
    if (this.#positions) return this.#positions;
    const g = this.#g;
    const queries = g.op('Unsqueeze', [g.op('Cast', [this.#positionIds], { to: 1 }), g.ints([1, 3])]);
    const mask = g.op('Cast', [this.#attentionMask], { to: 1 }); // float [batch, total]
    const keys = g.op('Sub', [g.op('CumSum', [mask, g.ints([1], [])]), g.float(1)]);
    this.#positions = { queries, keys: g.op('Unsqueeze', [keys, g.ints([1, 2])]) };
    return this.#positions;
  }

  /** Queries [batch, n_heads, pos, d_head], keys and values [batch, n_kv_heads, pos, d_head], rotated. */
  project(normalized: string, layer: number): { queries: string; keys: string; values: string } {
    const g = this.#g;
    const { dModel, nHeads, nKvHeads, dHead } = this.#config;
    const attn = `blocks.${layer}.attn`;
    let q: string, k: string, v: string;
    if (this.#config.linearLayout === 'in-out') {
      const qkv = g.op('Add', [
        g.op('MatMul', [normalized, this.#w(`${attn}.W_QKV`, [dModel, 3 * dModel])]),
        this.#w(`${attn}.b_QKV`, [3 * dModel]),
      ]); // [batch, pos, 3·d_model]
      [q, k, v] = g.opMulti('Split', [qkv, g.ints([dModel, dModel, dModel])], 3, { axis: 2 }) as [
        string,
        string,
        string,
      ];
    } else {
      const linear = linearLayer(g, this.#w, this.#config);
      const bias = this.#config.attention.qkvBias;
      q = linear(normalized, `${attn}.W_Q`, dModel, nHeads * dHead, bias);
      k = linear(normalized, `${attn}.W_K`, dModel, nKvHeads * dHead, bias);
      v = linear(normalized, `${attn}.W_V`, dModel, nKvHeads * dHead, bias);
    }
    const queries = this.#rotate(splitHeads(g, nHeads, dHead, q));
    const keys = this.#rotate(splitHeads(g, nKvHeads, dHead, k));
    return { queries, keys, values: splitHeads(g, nKvHeads, dHead, v) };
  }

  /** Rotate-half RoPE: x·cos + rotate_half(x)·sin with rotate_half([x1, x2]) = [−x2, x1]; identity without rotary. */
  #rotate(x: string): string {
    if (!this.#rotary) return x;
    const g = this.#g;
    const half = this.#config.dHead / 2;
    const [x1, x2] = g.opMulti('Split', [x, g.ints([half, half])], 2, { axis: -1 });
    const rotated = g.op('Concat', [g.op('Neg', [x2!]), x1!], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, this.#rotary.cos]), g.op('Mul', [rotated, this.#rotary.sin])]);
  }

  /**
   * Q·Kᵀ for grouped heads without copying keys: queries [batch, n_heads, pos, d_head] are viewed as [batch,
   * n_kv_heads, group · pos, d_head] (query head h reads key head h / group, as Hugging Face's repeat_kv), multiplied
   * by keysTransposed [batch, n_kv_heads, d_head, keys], viewed back as [batch, n_heads, pos, keys]; then scaled and
   * soft-capped.
   */
  scores(queries: string, keysTransposed: string): string {
    const g = this.#g;
    const { attention } = this.#config;
    const raw = this.#grouped((grouped) => g.op('MatMul', [grouped, keysTransposed]), queries);
    const scaled = g.op('Mul', [raw, g.float(attention.scale)]);
    const cap = attention.logitSoftcap;
    return cap === null ? scaled : g.op('Mul', [g.op('Tanh', [g.op('Div', [scaled, g.float(cap)])]), g.float(cap)]);
  }

  /** weights [batch, n_heads, pos, keys] · values [batch, n_kv_heads, keys, d_head] → [batch, n_heads, pos, d_head]. */
  mix(weights: string, values: string): string {
    return this.#grouped((grouped) => this.#g.op('MatMul', [grouped, values]), weights);
  }

  #grouped(apply: (grouped: string) => string, perHead: string): string {
    const { nHeads, nKvHeads } = this.#config;
    if (nKvHeads === nHeads) return apply(perHead);
    const g = this.#g;
    const group = nHeads / nKvHeads;
    // Shapes from arithmetic on the runtime shape, not Reshape's −1, which cannot infer a size when a static cache
    // has no slots yet (a zero-size tensor): [b, n_heads, rows, x] → [b, n_kv_heads, group · rows, x] and back.
    const toGroups = g.op('Add', [
      g.op('Mul', [g.op('Shape', [perHead]), g.ints([1, 0, group, 1])]),
      g.ints([0, nKvHeads, 0, 0]),
    ]);
    const result = apply(g.op('Reshape', [perHead, toGroups]));
    const fromGroups = g.op('Add', [
      g.op('Div', [g.op('Mul', [g.op('Shape', [result]), g.ints([1, 0, 1, 1])]), g.ints([1, 1, group, 1])]),
      g.ints([0, nHeads, 0, 0]),
    ]);
    return g.op('Reshape', [result, fromGroups]);
  }

  /** visible [batch, 1, pos, keys] narrowed to the layer's sliding window (keys at most window − 1 positions back). */
  window(visible: string, layer: number, keyPositions: (all: string) => string): string {
    const size = this.#config.attention.slidingWindow[layer] ?? null;
    if (size === null) return visible;
    const g = this.#g;
    const positions = this.#windowPositions();
    const distance = g.op('Sub', [positions.queries, keyPositions(positions.keys)]); // [batch, 1, pos, keys]
    return g.op('And', [visible, g.op('Less', [distance, g.float(size)])]);
  }

  merge(heads: string): string {
    const { nHeads, dHead } = this.#config;
    return this.#g.op('Reshape', [
      this.#g.op('Transpose', [heads], { perm: [0, 2, 1, 3] }),
      this.#g.ints([0, 0, nHeads * dHead]),
    ]);
  }
}

/** The same attention in standard ONNX ops: Q·Kᵀ·scale, causal, padding and window mask, softmax, ·V. */
function standardAttention(
  g: GraphWriter,
  w: Weight,
  config: DecoderConfig,
  inputIds: string,
  attentionMask: string,
  positionIds: string,
  kvCache: boolean,
): AttentionLayer {
  const { nKvHeads, dHead } = config;
  const parts = new AttentionParts(g, w, config, attentionMask, positionIds);
  // Mask shared by all layers: key j is visible to query i when j ≤ past + i and j is not padding.
  const total = dimension(g, attentionMask, 1);
  const pos = dimension(g, inputIds, 1);
  const causal = lowerTriangle(g, pos, total, g.op('Sub', [total, pos])); // [pos, total]
  const notPadding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, total]
  const visible = g.op('And', [causal, notPadding]); // [batch, 1, pos, total]
  const maskedScore = g.float(float32Min);
  return (normalized, layer) => {
    const { queries, keys: newKeys, values: newValues } = parts.project(normalized, layer);
    const keys = g.op('Concat', [`past.${layer}.key`, newKeys], { axis: 2 }); // [batch, n_kv_heads, total, d_head]
    const values = g.op('Concat', [`past.${layer}.value`, newValues], { axis: 2 });
    if (kvCache) {
      g.output(keys, `present.${layer}.key`, 'float32', ['batch', nKvHeads, 'total', dHead]);
      g.output(values, `present.${layer}.value`, 'float32', ['batch', nKvHeads, 'total', dHead]);
    }
    const scores = parts.scores(queries, g.op('Transpose', [keys], { perm: [0, 1, 3, 2] })); // [batch, n_heads, pos, total]
    const layerVisible = parts.window(visible, layer, (all) => all);
    const probabilities = g.op('Softmax', [g.op('Where', [layerVisible, scores, maskedScore])], { axis: -1 });
    return parts.merge(parts.mix(probabilities, values));
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

/** Width into heads: [batch, pos, heads · d_head] → [batch, heads, pos, d_head]. */
function splitHeads(g: GraphWriter, heads: number, dHead: number, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, dHead])])], { perm: [0, 2, 1, 3] });
}

/**
 * Attention over a cache the session keeps (see DecoderGraphOptions.attention 'static'): the scores against the
 * cached slots and against this step's own keys are masked, joined for one softmax, and split again to weigh the
 * cached and the new values. Only the new keys and values leave the graph, slot-major like the cache, and the session
 * writes them into it (StaticKvCache). The cache is read slot-major, [slots, batch, n_kv_heads, d_head], through
 * Transposes that onnxruntime folds into the MatMuls (FusedMatMul's transBatchB and transB), which copy nothing.
 */
function staticCacheAttention(
  g: GraphWriter,
  w: Weight,
  config: DecoderConfig,
  inputIds: string,
  attentionMask: string,
  positionIds: string,
  kvCache: boolean,
): AttentionLayer {
  const { nKvHeads, dHead } = config;
  const parts = new AttentionParts(g, w, config, attentionMask, positionIds);
  const vector = (value: string) => g.op('Unsqueeze', [value, g.ints([0])]); // scalar → [1]
  const total = dimension(g, attentionMask, 1); // slots + pos
  const pos = dimension(g, inputIds, 1);
  const slotCount = g.op('Sub', [total, pos]);
  const slots = (all: string) => g.op('Slice', [all, g.ints([0]), vector(slotCount), g.ints([3])]); // [..., slots]
  const fresh = (all: string) => g.op('Slice', [all, vector(slotCount), vector(total), g.ints([3])]); // [..., pos]
  const maskBool = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, total]
  const slotVisible = slots(maskBool); // [batch, 1, 1, slots]
  const causal = lowerTriangle(g, pos, pos, g.ints([0], [])); // [pos, pos]: query i sees new key j ≤ i
  const newVisible = g.op('And', [causal, fresh(maskBool)]); // [batch, 1, pos, pos]
  const splitSizes = g.op('Concat', [vector(slotCount), vector(pos)], { axis: 0 });
  const maskedScore = g.float(float32Min);
  return (normalized, layer) => {
    const { queries, keys, values: newValues } = parts.project(normalized, layer);
    if (kvCache) {
      const slotMajor = (heads: string) => g.op('Transpose', [heads], { perm: [2, 0, 1, 3] }); // [pos, batch, …]
      g.output(slotMajor(keys), `new.${layer}.key`, 'float32', ['pos', 'batch', nKvHeads, dHead]);
      g.output(slotMajor(newValues), `new.${layer}.value`, 'float32', ['pos', 'batch', nKvHeads, dHead]);
    }
    // Cached keys as [batch, n_kv_heads, d_head, slots], cached values as [batch, n_kv_heads, slots, d_head].
    const cachedKeys = g.op('Transpose', [`cache.${layer}.key`], { perm: [1, 2, 3, 0] });
    const cachedValues = g.op('Transpose', [`cache.${layer}.value`], { perm: [1, 2, 0, 3] });
    const slotScores = parts.scores(queries, cachedKeys); // [batch, n_heads, pos, slots]
    const newKeys = g.op('Transpose', [keys], { perm: [0, 1, 3, 2] }); // [batch, n_kv_heads, d_head, pos]
    const newScores = parts.scores(queries, newKeys); // [batch, n_heads, pos, pos]
    const scores = g.op(
      'Concat',
      [
        g.op('Where', [parts.window(slotVisible, layer, slots), slotScores, maskedScore]),
        g.op('Where', [parts.window(newVisible, layer, fresh), newScores, maskedScore]),
      ],
      { axis: -1 },
    );
    const [slotWeights, newWeights] = g.opMulti('Split', [g.op('Softmax', [scores], { axis: -1 }), splitSizes], 2, {
      axis: -1,
    });
    const mixed = g.op('Add', [parts.mix(slotWeights!, cachedValues), parts.mix(newWeights!, newValues)]); // [batch, n_heads, pos, d_head]
    return parts.merge(mixed);
  };
}
