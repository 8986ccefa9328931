// BertForSequenceClassification / RobertaForSequenceClassification as one ONNX graph (spec cli.md "Toxicity
// classifiers"): word + position + token-type embeddings and LayerNorm, post-LN encoder layers with exact GELU, the
// head on the first token, and probabilities (sigmoid or softmax). Inputs are right-padded rows with a mask.
// Shapes: batch, pos (padded length), d_model, d_mlp, n_outputs.

import type { GraphSpec } from '../../onnx/graph-builder.ts';
import { GraphWriter } from '../../onnx/graph-writer.ts';
import type { WeightInitializer } from '../decoder/graph.ts';
import type { ClassifierActivation, ClassifierConfig } from './config.ts';

const float32Min = -3.4028234663852886e38;

export interface ClassifierGraphOptions {
  /**
   * 'fused': onnxruntime's com.microsoft.Attention (Q, K and V in one product, masked softmax, one kernel), reading
   * the packed W_QKV / b_QKV of weights.ts's withPackedQkv. 'standard': plain ONNX ops, any execution provider, the
   * readable form. Both match the reference to 1e-5: the fused kernel adds −10000 to masked scores where Hugging Face
   * adds finfo(float32).min, and both give those keys a weight of exactly 0 in float32 (exp(−10000) underflows).
   */
  attention: 'fused' | 'standard';
  /** Also output `logits` [batch, n_outputs]. */
  logits: boolean;
  /** Also output the `position_ids` [batch, pos] the embeddings used (for tests and inspection). */
  positionIds: boolean;
}

interface Builder {
  g: GraphWriter;
  config: ClassifierConfig;
  w: (name: string, dims: number[]) => string;
}

/** x·Wᵀ + b for a PyTorch-layout weight [out, in] (onnxruntime folds the transpose once at load). */
function linear({ g, w }: Builder, x: string, prefix: string, out: number, inputs: number): string {
  return g.op('Add', [
    g.op('MatMul', [x, g.op('Transpose', [w(prefix, [out, inputs])], { perm: [1, 0] })]),
    w(prefix.replace(/W_(\w+)$/, 'b_$1'), [out]),
  ]);
}

function layerNorm({ g, w, config }: Builder, x: string, prefix: string): string {
  return g.op('LayerNormalization', [x, w(`${prefix}.w`, [config.dModel]), w(`${prefix}.b`, [config.dModel])], {
    axis: -1,
    epsilon: config.layerNormEps,
  });
}

/** [batch, pos, d_model] → [batch, n_heads, pos, d_head]. */
function toHeads({ g, config }: Builder, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, config.nHeads, config.dHead])])], {
    perm: [0, 2, 1, 3],
  });
}

/** Self-attention in standard ops: softmax(q·kᵀ/√d_head where the key is real)·v, heads merged (before W_O). */
function standardAttention(b: Builder, x: string, block: string, visible: string): string {
  const { g, config } = b;
  const head = (name: string) => toHeads(b, linear(b, x, `${block}.attn.W_${name}`, config.dModel, config.dModel)); // [batch, n_heads, pos, d_head]
  const scores = g.op('Mul', [
    g.op('MatMul', [head('Q'), g.op('Transpose', [head('K')], { perm: [0, 1, 3, 2] })]),
    g.float(1 / Math.sqrt(config.dHead)),
  ]); // [batch, n_heads, pos, pos]
  const probabilities = g.op('Softmax', [g.op('Where', [visible, scores, g.float(float32Min)])], { axis: -1 });
  return g.op('Reshape', [
    g.op('Transpose', [g.op('MatMul', [probabilities, head('V')])], { perm: [0, 2, 1, 3] }),
    g.ints([0, 0, config.dModel]),
  ]); // [batch, pos, d_model]
}

/** The same in one com.microsoft.Attention node; `maskIndex` is the int32 [batch, pos] raw padding mask. */
function fusedAttention({ g, w, config }: Builder, x: string, block: string, maskIndex: string): string {
  const { dModel, nHeads } = config;
  const [mixed] = g.opMulti(
    'Attention',
    [x, w(`${block}.attn.W_QKV`, [dModel, 3 * dModel]), w(`${block}.attn.b_QKV`, [3 * dModel]), maskIndex],
    1,
    { num_heads: nHeads, unidirectional: 0 },
    'com.microsoft',
  );
  return mixed!; // [batch, pos, d_model]
}

/** Position ids [batch, pos] (BERT: 0…pos−1; RoBERTa: pad + running count of non-pad tokens, pads at pad). */
function positionIds({ g, config }: Builder, ids: string): string {
  if (config.architecture === 'bert') {
    const length = g.op('Gather', [g.op('Shape', [ids]), g.ints([1], [])], { axis: 0 });
    return g.op('Expand', [g.op('Range', [g.ints([0], []), length, g.ints([1], [])]), g.op('Shape', [ids])]);
  }
  const pad = g.ints([config.padTokenId], []);
  const real = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, pad])])], { to: 7 }); // int64 [batch, pos], 1 = non-pad
  return g.op('Add', [g.op('Mul', [g.op('CumSum', [real, g.ints([1], [])]), real]), pad]);
}

/**
 * Inputs: input_ids, attention_mask int64 [batch, pos] (right-padded rows, 1 = real token).
 * Outputs: probabilities [batch, n_outputs], and on request logits and position_ids.
 */
export function buildClassifierGraph(
  config: ClassifierConfig,
  activation: ClassifierActivation,
  weight: WeightInitializer,
  options: ClassifierGraphOptions,
): GraphSpec {
  const g = new GraphWriter();
  const placed = new Set<string>();
  const w = (name: string, dims: number[]) => {
    if (!placed.has(name)) g.initializer(weight(name, dims));
    placed.add(name);
    return name;
  };
  const b: Builder = { g, config, w };
  const { dModel, dMlp, dVocab, nCtx, nTokenTypes, nOutputs } = config;

  const ids = g.input('input_ids', 'int64', ['batch', 'pos']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'pos']);
  const positions = positionIds(b, ids);
  if (options.positionIds) g.output(positions, 'position_ids', 'int64', ['batch', 'pos']);

  // Embeddings: (word + token type 0) + position, then LayerNorm — BertEmbeddings' order of additions.
  const typeRow = g.op('Gather', [w('embed.W_type', [nTokenTypes, dModel]), g.ints([0], [])], { axis: 0 }); // [d_model]
  const words = g.op('Gather', [w('embed.W_E', [dVocab, dModel]), ids]); // [batch, pos, d_model]
  const embedded = g.op('Add', [
    g.op('Add', [words, typeRow]),
    g.op('Gather', [w('embed.W_pos', [nCtx, dModel]), positions]),
  ]);
  let x = layerNorm(b, embedded, 'embed.ln'); // [batch, pos, d_model]

  // The padding mask as each attention reads it, shared by all layers.
  const fused = options.attention === 'fused';
  const keyMask = fused
    ? g.op('Cast', [mask], { to: 6 }) // int32 [batch, pos]
    : g.op('Unsqueeze', [g.op('Cast', [mask], { to: 9 }), g.ints([1, 2])]); // bool [batch, 1, 1, pos]
  for (let layer = 0; layer < config.nLayers; layer++) {
    const block = `blocks.${layer}`;
    const mixed = fused ? fusedAttention(b, x, block, keyMask) : standardAttention(b, x, block, keyMask);
    x = layerNorm(b, g.op('Add', [x, linear(b, mixed, `${block}.attn.W_O`, dModel, dModel)]), `${block}.ln_attn`);
    const post = g.op('Gelu', [linear(b, x, `${block}.mlp.W_in`, dMlp, dModel)], { approximate: 'none' }); // [batch, pos, d_mlp]
    x = layerNorm(b, g.op('Add', [x, linear(b, post, `${block}.mlp.W_out`, dModel, dMlp)]), `${block}.ln_mlp`);
  }

  // Head on the first token: tanh(dense(h[CLS])) then the output projection.
  const first = g.op('Gather', [x, g.ints([0], [])], { axis: 1 }); // [batch, d_model]
  const pooled = g.op('Tanh', [linear(b, first, 'head.W_dense', dModel, dModel)]);
  const logits = linear(b, pooled, 'head.W_out', nOutputs, dModel); // [batch, n_outputs]
  const probabilities = activation === 'sigmoid' ? g.op('Sigmoid', [logits]) : g.op('Softmax', [logits], { axis: -1 });
  g.output(probabilities, 'probabilities', 'float32', ['batch', nOutputs]);
  if (options.logits) g.output(logits, 'logits', 'float32', ['batch', nOutputs]);
  return g.graph(`${config.architecture}_classifier`);
}
