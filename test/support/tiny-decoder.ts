// Tiny seeded decoders (GPT-2, Llama, Mistral, Qwen2, Gemma-2) for graph-vs-reference tests: a config with every
// family option that matters switched on, and canonical weights, generated in milliseconds.

import { decoderWeightShapes } from '../../src-main/core/models/decoder/weights.ts';
import {
  defaultInverseFrequencies,
  parseGpt2Config,
  type DecoderConfig,
  type DecoderFamily,
} from '../../src-main/core/models/decoder/config.ts';
import { randomNormal, seededRandom } from './random.ts';

/** A tiny GPT-2 as config.json would describe it (parsed by the real parser), with any field overridden after. */
export function tinyGpt2Config(overrides: Partial<DecoderConfig> = {}): DecoderConfig {
  const json = {
    model_type: 'gpt2',
    n_layer: overrides.nLayers ?? 2,
    n_embd: overrides.dModel ?? 16,
    n_head: overrides.nHeads ?? 2,
    n_inner: 64,
    n_positions: 32,
    vocab_size: 50,
  };
  return { ...parseGpt2Config({ path: 'tiny GPT-2 config', architecture: 'gpt2', json }), ...overrides };
}

/**
 * A tiny member of a rotary family with its distinguishing options on: grouped heads everywhere, Mistral's window
 * (3, shorter than the test sequences), Qwen2's Q/K/V biases and tied embeddings, Gemma-2's (1 + w) norms, sandwich
 * norms, soft-caps, √d embedding scale and alternating windows.
 */
export function tinyDecoderConfig(
  family: Exclude<DecoderFamily, 'gpt2'>,
  overrides: Partial<DecoderConfig> = {},
): DecoderConfig {
  const nLayers = overrides.nLayers ?? 2;
  const dHead = overrides.dHead ?? 8;
  const gemma = family === 'gemma2';
  return {
    family,
    nLayers,
    dModel: 16,
    nHeads: 4,
    nKvHeads: 2,
    dHead,
    dMlp: 24,
    nCtx: 64,
    dVocab: 50,
    norm: { kind: 'rmsnorm', eps: 1e-6, weightOffset: gemma ? 1 : 0 },
    positions: { kind: 'rotary', inverseFrequencies: defaultInverseFrequencies(dHead, 10000), ropeType: 'default' },
    mlp: { kind: 'gated', activation: gemma ? 'gelu_tanh' : 'silu', bias: false },
    attention: {
      qkvBias: family === 'qwen2',
      outBias: false,
      scale: gemma ? 1 / Math.sqrt(6) : 1 / Math.sqrt(dHead),
      logitSoftcap: gemma ? 2 : null,
      slidingWindow: Array.from({ length: nLayers }, (_, layer) =>
        family === 'mistral' || (gemma && layer % 2 === 0) ? 3 : null,
      ),
    },
    embeddingScale: gemma ? Math.fround(Math.SQRT2) : null, // smaller than √d_model, so values stay where 1e-5 is float32 round-off
    sandwichNorms: gemma,
    finalLogitSoftcap: gemma ? 3 : null,
    linearLayout: 'out-in',
    tiedEmbeddings: family === 'qwen2' || gemma,
    bosTokenId: null,
    eosTokenId: null,
    ...overrides,
  };
}

/** Canonical weights with GPT-2-like scales; norm weights near 1 (near 0 under Gemma's 1 + w) so activations stay healthy. */
export function tinyDecoderWeights(config: DecoderConfig, seed = 1): Map<string, Float32Array> {
  const random = seededRandom(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of decoderWeightShapes(config)) {
    const count = shape.reduce((product, dim) => product * dim, 1);
    const values = randomNormal(random, count, name.endsWith('.b') || name.includes('.b_') ? 0.1 : 0.3);
    if (/ln\d?(_post)?\.w$|ln_final\.w$/.test(name))
      for (let index = 0; index < count; index++) values[index] = 1 - config.norm.weightOffset + values[index]! * 0.3;
    weights.set(name, values);
  }
  return weights;
}
