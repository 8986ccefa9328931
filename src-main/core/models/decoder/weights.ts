// Decoder weight mapping: each family's Hugging Face checkpoint keys → our canonical names, with every shape asserted
// against config.json. Two layouts: GPT-2's Conv1D stores weights [in, out], exactly what `x @ W` needs (c_attn,
// c_proj, c_fc used as stored); every other family stores nn.Linear weights [out, in], used as stored too (the graph
// multiplies by their transpose). The value vector of neuron i is row i of GPT-2's W_out and column i of down_proj.

import { mapStateDict } from '../../weights/map-weights.ts';
import type { StateDict, StateDictTensor } from '../../weights/state-dict.ts';
import type { DecoderConfig } from './config.ts';

/** Canonical name → tensor, e.g. `blocks.3.mlp.W_out` ([d_mlp, d_model] for GPT-2, [d_model, d_mlp] otherwise). */
export type DecoderWeights = Map<string, StateDictTensor>;

/** Canonical names and stored shapes for a config, in a stable order. */
export function decoderWeightShapes(config: DecoderConfig): Map<string, number[]> {
  const { dModel: d, dMlp, dVocab, nCtx, nHeads, nKvHeads, dHead } = config;
  const shapes = new Map<string, number[]>([['embed.W_E', [dVocab, d]]]);
  if (config.positions.kind === 'learned') shapes.set('pos_embed.W_pos', [nCtx, d]);
  const withBias = config.norm.kind === 'layernorm';
  const norm = (name: string) => {
    shapes.set(`${name}.w`, [d]);
    if (withBias) shapes.set(`${name}.b`, [d]);
  };
  for (let layer = 0; layer < config.nLayers; layer++) {
    const block = `blocks.${layer}`;
    norm(`${block}.ln1`);
    if (config.linearLayout === 'in-out') {
      shapes.set(`${block}.attn.W_QKV`, [d, 3 * d]).set(`${block}.attn.b_QKV`, [3 * d]);
      shapes.set(`${block}.attn.W_O`, [d, d]).set(`${block}.attn.b_O`, [d]);
      norm(`${block}.ln2`);
      shapes.set(`${block}.mlp.W_in`, [d, dMlp]).set(`${block}.mlp.b_in`, [dMlp]);
      shapes.set(`${block}.mlp.W_out`, [dMlp, d]).set(`${block}.mlp.b_out`, [d]);
      continue;
    }
    shapes.set(`${block}.attn.W_Q`, [nHeads * dHead, d]);
    shapes.set(`${block}.attn.W_K`, [nKvHeads * dHead, d]);
    shapes.set(`${block}.attn.W_V`, [nKvHeads * dHead, d]);
    if (config.attention.qkvBias) {
      shapes.set(`${block}.attn.b_Q`, [nHeads * dHead]);
      shapes.set(`${block}.attn.b_K`, [nKvHeads * dHead]);
      shapes.set(`${block}.attn.b_V`, [nKvHeads * dHead]);
    }
    shapes.set(`${block}.attn.W_O`, [d, nHeads * dHead]);
    if (config.attention.outBias) shapes.set(`${block}.attn.b_O`, [d]);
    if (config.sandwichNorms) norm(`${block}.ln1_post`);
    norm(`${block}.ln2`);
    shapes.set(`${block}.mlp.W_gate`, [dMlp, d]).set(`${block}.mlp.W_in`, [dMlp, d]);
    shapes.set(`${block}.mlp.W_out`, [d, dMlp]);
    if (config.mlp.bias)
      shapes.set(`${block}.mlp.b_gate`, [dMlp]).set(`${block}.mlp.b_in`, [dMlp]).set(`${block}.mlp.b_out`, [d]);
    if (config.sandwichNorms) norm(`${block}.ln2_post`);
  }
  norm('ln_final');
  if (!config.tiedEmbeddings) shapes.set('unembed.W_U', [dVocab, d]);
  return shapes;
}

const gpt2LayerKeys: Record<string, string> = {
  'ln_1.weight': 'ln1.w',
  'ln_1.bias': 'ln1.b',
  'attn.c_attn.weight': 'attn.W_QKV',
  'attn.c_attn.bias': 'attn.b_QKV',
  'attn.c_proj.weight': 'attn.W_O',
  'attn.c_proj.bias': 'attn.b_O',
  'ln_2.weight': 'ln2.w',
  'ln_2.bias': 'ln2.b',
  'mlp.c_fc.weight': 'mlp.W_in',
  'mlp.c_fc.bias': 'mlp.b_in',
  'mlp.c_proj.weight': 'mlp.W_out',
  'mlp.c_proj.bias': 'mlp.b_out',
};

const gpt2TopKeys: Record<string, string> = {
  'wte.weight': 'embed.W_E',
  'wpe.weight': 'pos_embed.W_pos',
  'ln_f.weight': 'ln_final.w',
  'ln_f.bias': 'ln_final.b',
};

/** Checkpoint key → canonical name; null for keys that are not weights (buffers, the tied lm_head). */
export function canonicalGpt2Key(key: string): string | null | undefined {
  const stripped = key.replace(/^(transformer\.|model\.)/, '');
  if (stripped === 'lm_head.weight' || key === 'lm_head.weight') return null;
  if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(stripped)) return null; // causal-mask buffers of old transformers
  if (stripped in gpt2TopKeys) return gpt2TopKeys[stripped];
  const match = /^h\.(\d+)\.(.+)$/.exec(stripped);
  if (match && match[2]! in gpt2LayerKeys) return `blocks.${match[1]}.${gpt2LayerKeys[match[2]!]}`;
  return undefined;
}

/** Llama, Mistral, Qwen2 and Gemma-2 keys inside a layer (`model.layers.{L}.…`). */
const llamaLayerKeys: Record<string, string> = {
  'input_layernorm.weight': 'ln1.w',
  'self_attn.q_proj.weight': 'attn.W_Q',
  'self_attn.k_proj.weight': 'attn.W_K',
  'self_attn.v_proj.weight': 'attn.W_V',
  'self_attn.q_proj.bias': 'attn.b_Q',
  'self_attn.k_proj.bias': 'attn.b_K',
  'self_attn.v_proj.bias': 'attn.b_V',
  'self_attn.o_proj.weight': 'attn.W_O',
  'self_attn.o_proj.bias': 'attn.b_O',
  'mlp.gate_proj.weight': 'mlp.W_gate',
  'mlp.up_proj.weight': 'mlp.W_in',
  'mlp.down_proj.weight': 'mlp.W_out',
  'mlp.gate_proj.bias': 'mlp.b_gate',
  'mlp.up_proj.bias': 'mlp.b_in',
  'mlp.down_proj.bias': 'mlp.b_out',
};

/** Gemma-2's four norms per layer: post_attention_layernorm is a sandwich norm there, the pre-MLP norm elsewhere. */
const gemma2NormKeys: Record<string, string> = {
  'post_attention_layernorm.weight': 'ln1_post.w',
  'pre_feedforward_layernorm.weight': 'ln2.w',
  'post_feedforward_layernorm.weight': 'ln2_post.w',
};

/** Checkpoint key → canonical name for the Llama-style families (`model.` prefix optional, as in DPO trainer files). */
export function canonicalLlamaKey(key: string, config: DecoderConfig): string | null | undefined {
  if (key === 'lm_head.weight') return config.tiedEmbeddings ? null : 'unembed.W_U';
  const stripped = key.replace(/^model\./, '');
  if (stripped === 'embed_tokens.weight') return 'embed.W_E';
  if (stripped === 'norm.weight') return 'ln_final.w';
  const match = /^layers\.(\d+)\.(.+)$/.exec(stripped);
  if (!match) return undefined;
  const [, layer, rest] = match as unknown as [string, string, string];
  if (rest === 'self_attn.rotary_emb.inv_freq') return null; // a buffer older transformers saved
  const name = config.sandwichNorms
    ? (gemma2NormKeys[rest] ?? llamaLayerKeys[rest])
    : rest === 'post_attention_layernorm.weight'
      ? 'ln2.w'
      : llamaLayerKeys[rest];
  return name === undefined ? undefined : `blocks.${layer}.${name}`;
}

/** Canonical name → the Hugging Face checkpoint key of the Llama-style families (for errors), inverse of the above. */
export function llamaCheckpointKey(canonical: string, config: DecoderConfig): string {
  if (canonical === 'unembed.W_U') return 'lm_head.weight';
  if (canonical === 'embed.W_E') return 'model.embed_tokens.weight';
  if (canonical === 'ln_final.w') return 'model.norm.weight';
  const match = /^blocks\.(\d+)\.(.+)$/.exec(canonical);
  if (!match) return canonical;
  const layerKeys: Record<string, string> = config.sandwichNorms
    ? { ...llamaLayerKeys, ...gemma2NormKeys }
    : { ...llamaLayerKeys, 'post_attention_layernorm.weight': 'ln2.w' };
  const key = Object.keys(layerKeys).find((name) => layerKeys[name] === match[2]);
  return key === undefined ? canonical : `model.layers.${match[1]}.${key}`;
}

const familyNames: Record<DecoderConfig['family'], string> = {
  gpt2: 'GPT-2',
  llama: 'Llama',
  mistral: 'Mistral',
  qwen2: 'Qwen2',
  gemma2: 'Gemma-2',
};

export function mapDecoderWeights(stateDict: StateDict, config: DecoderConfig): DecoderWeights {
  const architecture = familyNames[config.family];
  return mapStateDict(stateDict, {
    architecture,
    canonicalKey: config.family === 'gpt2' ? canonicalGpt2Key : (key) => canonicalLlamaKey(key, config),
    expected: decoderWeightShapes(config),
    foreignHint: `Check that these are ${architecture} weights of the model in config.json (a ${config.family} state dict).`,
    ...(config.family === 'gpt2' ? {} : { checkpointKey: (name: string) => llamaCheckpointKey(name, config) }),
    missingHint: (missing) =>
      missing.includes('unembed.W_U')
        ? 'config.json says tie_word_embeddings is false, but the weights have no lm_head.weight. If this model reads its logits from the token embedding, set tie_word_embeddings to true; otherwise the checkpoint is incomplete.'
        : undefined,
  });
}

/** The vectors each neuron writes to the residual stream, [d_mlp, d_model] row by row, whatever the stored layout. */
export function readValueVectors(weights: DecoderWeights, config: DecoderConfig, layer: number): Float32Array {
  const stored = weights.get(`blocks.${layer}.mlp.W_out`)!.read();
  if (config.linearLayout === 'in-out') return stored; // [d_mlp, d_model]
  const { dModel, dMlp } = config;
  const rows = new Float32Array(dMlp * dModel); // stored [d_model, d_mlp]: column i is neuron i's value vector
  for (let d = 0; d < dModel; d++)
    for (let neuron = 0; neuron < dMlp; neuron++) rows[neuron * dModel + d] = stored[d * dMlp + neuron]!;
  return rows;
}

/** The MLP output bias of a layer [d_model] (zeros for families without one). */
export function readMlpOutputBias(weights: DecoderWeights, config: DecoderConfig, layer: number): Float32Array {
  return weights.get(`blocks.${layer}.mlp.b_out`)?.read() ?? new Float32Array(config.dModel);
}

/** The unembedding [d_vocab, d_model]: lm_head.weight, or the token embedding when they are tied. */
export function readUnembedding(weights: DecoderWeights, config: DecoderConfig): Float32Array {
  return weights.get(config.tiedEmbeddings ? 'embed.W_E' : 'unembed.W_U')!.read();
}
