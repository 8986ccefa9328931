// BART configuration (spec marco.md §7.1) in TransformerLens-style names, read from Hugging Face's config.json.

import { raise } from '../../../shared/index.ts';
import type { RawConfig } from '../architectures.ts';

export interface BartConfig {
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  dHead: number;
  /** MLP neurons per layer (encoder_ffn_dim = decoder_ffn_dim in BART checkpoints we accept). */
  dMlp: number;
  dVocab: number;
  /** Positions the learned tables cover (max_position_embeddings); the tables have 2 more rows (offset 2). */
  nCtx: number;
  /** √d_model when scale_embedding, else 1. */
  embedScale: number;
  layerNormEps: number;
  activation: 'gelu';
  bosTokenId: number;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
}

/** BART's learned position tables start at row 2 (fairseq's padding-offset legacy). */
export const bartPositionOffset = 2;

export function parseBartConfig(raw: RawConfig): BartConfig {
  const json = raw.json;
  const integer = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 0) {
      return raise(
        'WEIGHTS_INVALID',
        `${raw.path}: "${key}" must be a non-negative integer, got ${JSON.stringify(json[key])}.`,
        'Restore config.json from the original model.',
      );
    }
    return value as number;
  };
  const dModel = integer('d_model');
  const encoderHeads = integer('encoder_attention_heads');
  const decoderHeads = integer('decoder_attention_heads');
  if (dModel % encoderHeads !== 0 || encoderHeads !== decoderHeads) {
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: d_model ${dModel} with ${encoderHeads}/${decoderHeads} heads is not a BART shape ToxScope supports.`,
      'Use a BART checkpoint with equal encoder and decoder heads.',
    );
  }
  const encoderFfn = integer('encoder_ffn_dim');
  if (encoderFfn !== integer('decoder_ffn_dim'))
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: encoder_ffn_dim and decoder_ffn_dim differ.`,
      'ToxScope supports BART checkpoints with one MLP width.',
    );
  const activation = json.activation_function ?? 'gelu';
  if (activation !== 'gelu')
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: activation_function "${String(activation)}" is not BART's exact gelu.`,
      'ToxScope supports BART models with gelu.',
    );
  if (json.normalize_before === true || json.add_final_layer_norm === true) {
    raise(
      'WEIGHTS_INVALID',
      `${raw.path}: pre-LN BART variants (normalize_before/add_final_layer_norm) are not supported.`,
      'Use a bart-base-style (post-LN) checkpoint.',
    );
  }
  return {
    dModel,
    encoderLayers: integer('encoder_layers'),
    decoderLayers: integer('decoder_layers'),
    encoderHeads,
    decoderHeads,
    dHead: dModel / encoderHeads,
    dMlp: encoderFfn,
    dVocab: integer('vocab_size'),
    nCtx: integer('max_position_embeddings'),
    embedScale: json.scale_embedding === true ? Math.sqrt(dModel) : 1,
    layerNormEps: 1e-5,
    activation: 'gelu',
    bosTokenId: integer('bos_token_id', 0),
    padTokenId: integer('pad_token_id', 1),
    eosTokenId: integer('eos_token_id', 2),
    decoderStartTokenId: integer('decoder_start_token_id', 2),
  };
}
