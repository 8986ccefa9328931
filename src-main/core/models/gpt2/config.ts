// GPT-2 configuration in TransformerLens' vocabulary, read from Hugging Face's config.json.

import { raise } from '../../../shared/index.ts';
import type { RawConfig } from '../architectures.ts';

export interface Gpt2Config {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dHead: number;
  /** MLP neurons per layer (HF n_inner, default 4·d_model). */
  dMlp: number;
  /** Context length (n_positions). */
  nCtx: number;
  dVocab: number;
  layerNormEps: number;
  /** GPT-2 uses GELU with the tanh approximation ("gelu_new"). */
  activation: 'gelu_new';
  bosTokenId: number | null;
  eosTokenId: number | null;
}

export function parseGpt2Config(raw: RawConfig): Gpt2Config {
  const json = raw.json;
  const integer = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) <= 0) {
      return raise(
        'WEIGHTS_INVALID',
        `${raw.path}: "${key}" must be a positive integer, got ${JSON.stringify(json[key])}.`,
        'Restore config.json from the original model.',
      );
    }
    return value as number;
  };
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
  const optionalId = (key: string) => (Number.isInteger(json[key]) ? (json[key] as number) : null);
  return {
    nLayers: integer('n_layer'),
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    dMlp: json.n_inner === null || json.n_inner === undefined ? 4 * dModel : integer('n_inner'),
    nCtx: integer('n_positions', integer('n_ctx', 1024)),
    dVocab: integer('vocab_size'),
    layerNormEps: typeof json.layer_norm_epsilon === 'number' ? json.layer_norm_epsilon : 1e-5,
    activation: 'gelu_new',
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId: optionalId('eos_token_id'),
  };
}
