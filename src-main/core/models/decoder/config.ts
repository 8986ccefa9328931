// One decoder-only transformer configuration in TransformerLens' vocabulary, with the per-family options that set
// GPT-2, Llama, Mistral, Qwen2 and Gemma-2 apart (norm, positions, attention, MLP), read from Hugging Face's
// config.json. Spec: dpo-neurons.md §1.3–1.4, §3.1; cli.md "Decoder LLMs".

import { raise } from '../../../shared/index.ts';
import type { RawConfig } from '../architectures.ts';

export const decoderFamilies = ['gpt2', 'llama', 'mistral', 'qwen2', 'gemma2'] as const;
export type DecoderFamily = (typeof decoderFamilies)[number];

/** rope_scaling types ToxScope computes exactly (Hugging Face's modeling_rope_utils). */
export const supportedRopeTypes = ['default', 'linear', 'llama3'] as const;

export interface DecoderConfig {
  family: DecoderFamily;
  nLayers: number;
  dModel: number;
  /** Query heads. */
  nHeads: number;
  /** Key/value heads (grouped-query attention: query head h reads key/value head h / (nHeads / nKvHeads)). */
  nKvHeads: number;
  dHead: number;
  /** MLP neurons per layer (GPT-2 n_inner; the intermediate size of a gated MLP). */
  dMlp: number;
  /** Context length (n_positions / max_position_embeddings). */
  nCtx: number;
  dVocab: number;
  /** GPT-2's LayerNorm (weight and bias) or RMSNorm; Gemma-2's RMSNorm multiplies by (1 + w), so offset 1. */
  norm: { kind: 'layernorm' | 'rmsnorm'; eps: number; weightOffset: 0 | 1 };
  /**
   * Learned absolute positions (GPT-2) or rotate-half rotary embeddings with one inverse frequency per pair of
   * head dimensions, rope_scaling already applied ([d_head / 2]).
   */
  positions: { kind: 'learned' } | { kind: 'rotary'; inverseFrequencies: Float64Array; ropeType: string };
  /**
   * 'dense': act(x·W_in + b_in)·W_out (GPT-2). 'gated': down(act(gate(x)) · up(x)) (SwiGLU/GeGLU); the neurons are
   * the input of down_proj.
   */
  mlp: { kind: 'dense' | 'gated'; activation: 'gelu_new' | 'silu' | 'gelu_tanh'; bias: boolean };
  attention: {
    /** Biases on the Q, K, V projections (GPT-2's fused c_attn, Qwen2) and on the output projection. */
    qkvBias: boolean;
    outBias: boolean;
    /** Multiplies Q·Kᵀ: 1/√d_head, or Gemma-2's query_pre_attn_scalar^-½. */
    scale: number;
    /** Gemma-2: scores := tanh(scores / cap) · cap before the mask. */
    logitSoftcap: number | null;
    /** Per layer: keys further back than this many positions are invisible (null = full causal attention). */
    slidingWindow: (number | null)[];
  };
  /** Gemma-2 multiplies the embeddings by √d_model. */
  embeddingScale: number | null;
  /** Gemma-2's extra norms on what attention and the MLP add to the residual stream. */
  sandwichNorms: boolean;
  finalLogitSoftcap: number | null;
  /** Weights as stored: GPT-2's Conv1D [in, out], or nn.Linear's [out, in] (every other family). */
  linearLayout: 'in-out' | 'out-in';
  /** The unembedding is the token embedding (GPT-2, Qwen2-small, Gemma-2) or its own lm_head.weight. */
  tiedEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

type Json = Record<string, unknown>;

function configReader(raw: RawConfig) {
  const json = raw.json;
  const bad = (key: string, what: string): never =>
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: "${key}" must be ${what}, got ${JSON.stringify(json[key])}.`,
      'Restore config.json from the original model.',
    );
  const integer = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) <= 0) return bad(key, 'a positive integer');
    return value as number;
  };
  const number = (key: string, fallback: number): number => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) return bad(key, 'a number');
    return value;
  };
  /** A number, or null where config.json says null; a missing key takes `missing`, the family's transformers default. */
  const optionalNumber = (key: string, missing: number | null = null): number | null => {
    const value = json[key] === undefined ? missing : json[key];
    if (value === null) return null;
    if (typeof value !== 'number' || !(value > 0)) return bad(key, 'a positive number or null');
    return value;
  };
  const boolean = (key: string, fallback: boolean): boolean => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'boolean') return bad(key, 'true or false');
    return value;
  };
  /** bos/eos ids: an integer, or a list whose first id is used (Llama-3.1 lists three end-of-turn ids). */
  const tokenId = (key: string): number | null => {
    const value = json[key];
    const first = Array.isArray(value) ? value[0] : value;
    return Number.isInteger(first) ? (first as number) : null;
  };
  return { json, integer, number, optionalNumber, boolean, tokenId };
}

export function parseDecoderConfig(raw: RawConfig): DecoderConfig {
  if (raw.architecture === 'gpt2') return parseGpt2Config(raw);
  if (raw.architecture === 'llama' || raw.architecture === 'mistral' || raw.architecture === 'qwen2')
    return parseLlamaLikeConfig(raw, raw.architecture);
  if (raw.architecture === 'gemma2') return parseGemma2Config(raw);
  return raise('INPUT_INVALID', `${raw.path} is not a decoder-only model.`, 'Pass a causal language model.');
}

export function parseGpt2Config(raw: RawConfig): DecoderConfig {
  const { json, integer, number, tokenId } = configReader(raw);
  const dModel = integer('n_embd');
  const nHeads = integer('n_head');
  if (dModel % nHeads !== 0)
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: n_embd ${dModel} is not divisible by n_head ${nHeads}.`,
      'Restore config.json.',
    );
  const activation = json.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new') {
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: activation_function "${String(activation)}" is not GPT-2's gelu_new.`,
      'ToxScope supports GPT-2 models with gelu_new.',
    );
  }
  const nLayers = integer('n_layer');
  const dHead = dModel / nHeads;
  return {
    family: 'gpt2',
    nLayers,
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead,
    dMlp: json.n_inner === null || json.n_inner === undefined ? 4 * dModel : integer('n_inner'),
    nCtx: integer('n_positions', integer('n_ctx', 1024)),
    dVocab: integer('vocab_size'),
    norm: { kind: 'layernorm', eps: number('layer_norm_epsilon', 1e-5), weightOffset: 0 },
    positions: { kind: 'learned' },
    mlp: { kind: 'dense', activation: 'gelu_new', bias: true },
    attention: {
      qkvBias: true,
      outBias: true,
      scale: 1 / Math.sqrt(dHead),
      logitSoftcap: null,
      slidingWindow: Array<null>(nLayers).fill(null),
    },
    embeddingScale: null,
    sandwichNorms: false,
    finalLogitSoftcap: null,
    linearLayout: 'in-out',
    tiedEmbeddings: true,
    bosTokenId: tokenId('bos_token_id'),
    eosTokenId: tokenId('eos_token_id'),
  };
}

/** The default rope's inverse frequencies 1/θ^(2i/d), one per pair of head dimensions. */
export function defaultInverseFrequencies(dHead: number, theta: number): Float64Array {
  return Float64Array.from({ length: dHead / 2 }, (_, i) => 1 / theta ** ((2 * i) / dHead));
}

/**
 * Rotary inverse frequencies as Hugging Face's modeling_rope_utils computes them: 1 / θ^(2i/d) for the default
 * rope, divided by `factor` for 'linear', and Llama-3's piecewise rescaling by wavelength for 'llama3'.
 */
export function rotaryInverseFrequencies(raw: RawConfig, dHead: number): { values: Float64Array; ropeType: string } {
  const json = raw.json;
  // transformers ≥ 5 keeps θ and the scaling together in rope_parameters; older configs use rope_theta + rope_scaling.
  const parameters = (json.rope_parameters ?? json.rope_scaling ?? null) as Json | null;
  const theta = Number(parameters?.rope_theta ?? json.rope_theta ?? 10000);
  const ropeType = String(parameters?.rope_type ?? parameters?.type ?? 'default');
  if (!(supportedRopeTypes as readonly string[]).includes(ropeType)) {
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: rope_scaling type "${ropeType}" is not supported.`,
      `Supported rope_scaling types: ${supportedRopeTypes.join(', ')} (or none).`,
    );
  }
  const values = defaultInverseFrequencies(dHead, theta);
  const factor = (key: string, fallback?: number): number => {
    const value = parameters?.[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0))
      raise(
        'WEIGHTS_INVALID',
        `${raw.path}: rope_scaling.${key} must be a positive number for "${ropeType}", got ${JSON.stringify(value)}.`,
        'Restore config.json from the original model.',
      );
    return value as number;
  };
  if (ropeType === 'linear') {
    const scale = factor('factor');
    for (let i = 0; i < values.length; i++) values[i]! /= scale;
  } else if (ropeType === 'llama3') {
    const scale = factor('factor');
    const low = factor('low_freq_factor');
    const high = factor('high_freq_factor');
    const original = factor('original_max_position_embeddings');
    const lowFreqWavelength = original / low;
    const highFreqWavelength = original / high;
    for (let i = 0; i < values.length; i++) {
      const frequency = values[i]!;
      const wavelength = (2 * Math.PI) / frequency;
      if (wavelength > lowFreqWavelength) values[i] = frequency / scale;
      else if (wavelength >= highFreqWavelength) {
        // Between the two wavelengths: interpolate between the scaled and the original frequency.
        const smooth = (original / wavelength - low) / (high - low);
        values[i] = (1 - smooth) * (frequency / scale) + smooth * frequency;
      }
    }
  }
  return { values, ropeType };
}

/**
 * Per layer: sliding window or null, from layer_types when present, else each family's rule. A missing sliding_window
 * is transformers' default, 4096 (Mistral, Qwen2, Gemma-2); null turns the window off.
 */
function slidingWindows(raw: RawConfig, family: DecoderFamily, nLayers: number): (number | null)[] {
  const { json, optionalNumber, boolean, integer } = configReader(raw);
  const window = optionalNumber('sliding_window', 4096);
  const layerTypes = json.layer_types;
  if (Array.isArray(layerTypes) && layerTypes.length === nLayers)
    return layerTypes.map((type) => (type === 'sliding_attention' ? window : null));
  return Array.from({ length: nLayers }, (_, layer) => {
    if (window === null) return null;
    if (family === 'mistral') return window;
    // Qwen2 slides only with use_sliding_window, from max_window_layers on (transformers' default layer_types).
    if (family === 'qwen2')
      return boolean('use_sliding_window', false) && layer >= integer('max_window_layers', 28) ? window : null;
    // Gemma-2 alternates: even layers slide, odd layers attend to everything.
    if (family === 'gemma2') return layer % 2 === 0 ? window : null;
    return null;
  });
}

/** transformers' max_position_embeddings where config.json leaves it out. */
const defaultPositions = { llama: 2048, mistral: 4096 * 32, qwen2: 32768 };

function parseLlamaLikeConfig(raw: RawConfig, family: 'llama' | 'mistral' | 'qwen2'): DecoderConfig {
  const { json, integer, number, boolean, tokenId } = configReader(raw);
  const dModel = integer('hidden_size');
  const nHeads = integer('num_attention_heads');
  const nKvHeads = integer('num_key_value_heads', nHeads);
  checkHeads(raw, nHeads, nKvHeads);
  const dHead = json.head_dim === null || json.head_dim === undefined ? dModel / nHeads : integer('head_dim');
  if (!Number.isInteger(dHead) || dHead % 2 !== 0)
    raise('WEIGHTS_INVALID', `${raw.path}: the head size ${dHead} must be an even integer.`, 'Restore config.json.');
  const activation = json.hidden_act ?? 'silu';
  if (activation !== 'silu')
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: hidden_act "${String(activation)}" is not supported for ${family}.`,
      'ToxScope supports SiLU-gated MLPs (hidden_act "silu") for Llama, Mistral and Qwen2.',
    );
  const nLayers = integer('num_hidden_layers');
  const rotary = rotaryInverseFrequencies(raw, dHead);
  const attentionBias = family === 'qwen2' || boolean('attention_bias', false);
  return {
    family,
    nLayers,
    dModel,
    nHeads,
    nKvHeads,
    dHead,
    dMlp: integer('intermediate_size'),
    nCtx: integer('max_position_embeddings', defaultPositions[family]),
    dVocab: integer('vocab_size'),
    norm: { kind: 'rmsnorm', eps: number('rms_norm_eps', 1e-6), weightOffset: 0 },
    positions: { kind: 'rotary', inverseFrequencies: rotary.values, ropeType: rotary.ropeType },
    mlp: { kind: 'gated', activation: 'silu', bias: family !== 'qwen2' && boolean('mlp_bias', false) },
    attention: {
      qkvBias: attentionBias,
      outBias: family !== 'qwen2' && attentionBias,
      scale: 1 / Math.sqrt(dHead),
      logitSoftcap: null,
      slidingWindow: slidingWindows(raw, family, nLayers),
    },
    embeddingScale: null,
    sandwichNorms: false,
    finalLogitSoftcap: null,
    linearLayout: 'out-in',
    tiedEmbeddings: boolean('tie_word_embeddings', false),
    bosTokenId: tokenId('bos_token_id'),
    eosTokenId: tokenId('eos_token_id'),
  };
}

function parseGemma2Config(raw: RawConfig): DecoderConfig {
  const { json, integer, number, optionalNumber, boolean, tokenId } = configReader(raw);
  const dModel = integer('hidden_size');
  const nHeads = integer('num_attention_heads');
  const nKvHeads = integer('num_key_value_heads', nHeads);
  checkHeads(raw, nHeads, nKvHeads);
  const dHead = integer('head_dim', 256);
  // Gemma2Config reads hidden_activation; a hidden_act beside it is ignored by transformers' Gemma-2 MLP.
  const activation = json.hidden_activation ?? 'gelu_pytorch_tanh';
  if (activation !== 'gelu_pytorch_tanh')
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: hidden_activation "${String(activation)}" is not Gemma-2's gelu_pytorch_tanh.`,
      'Restore config.json from the original model.',
    );
  const nLayers = integer('num_hidden_layers');
  const rotary = rotaryInverseFrequencies(raw, dHead);
  return {
    family: 'gemma2',
    nLayers,
    dModel,
    nHeads,
    nKvHeads,
    dHead,
    dMlp: integer('intermediate_size'),
    nCtx: integer('max_position_embeddings', 8192),
    dVocab: integer('vocab_size'),
    norm: { kind: 'rmsnorm', eps: number('rms_norm_eps', 1e-6), weightOffset: 1 },
    positions: { kind: 'rotary', inverseFrequencies: rotary.values, ropeType: rotary.ropeType },
    mlp: { kind: 'gated', activation: 'gelu_tanh', bias: false },
    attention: {
      qkvBias: boolean('attention_bias', false),
      outBias: boolean('attention_bias', false),
      // Missing keys take Gemma2Config's defaults (query_pre_attn_scalar 256, soft-caps 50 and 30); null turns a cap off.
      scale: 1 / Math.sqrt(number('query_pre_attn_scalar', 256)),
      logitSoftcap: optionalNumber('attn_logit_softcapping', 50),
      slidingWindow: slidingWindows(raw, 'gemma2', nLayers),
    },
    embeddingScale: Math.fround(Math.sqrt(dModel)),
    sandwichNorms: true,
    finalLogitSoftcap: optionalNumber('final_logit_softcapping', 30),
    linearLayout: 'out-in',
    tiedEmbeddings: boolean('tie_word_embeddings', true),
    bosTokenId: tokenId('bos_token_id'),
    eosTokenId: tokenId('eos_token_id'),
  };
}

function checkHeads(raw: RawConfig, nHeads: number, nKvHeads: number): void {
  if (nHeads % nKvHeads !== 0)
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKvHeads}.`,
      'Restore config.json from the original model.',
    );
}
