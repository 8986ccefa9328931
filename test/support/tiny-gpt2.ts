// Tiny seeded GPT-2 models for graph-vs-reference tests: a config and canonical weights, generated in milliseconds.

import type { Gpt2Config } from '../../src-main/core/models/gpt2/config.ts';
import { gpt2WeightShapes } from '../../src-main/core/models/gpt2/weights.ts';
import { randomNormal, seededRandom } from './random.ts';

export function tinyGpt2Config(overrides: Partial<Gpt2Config> = {}): Gpt2Config {
  return {
    nLayers: 2,
    dModel: 16,
    nHeads: 2,
    dHead: 8,
    dMlp: 64,
    nCtx: 32,
    dVocab: 50,
    layerNormEps: 1e-5,
    activation: 'gelu_new',
    bosTokenId: null,
    eosTokenId: null,
    ...overrides,
  };
}

/** Canonical weights with GPT-2-like scales; layer-norm weights near 1 so activations stay in a healthy range. */
export function tinyGpt2Weights(config: Gpt2Config, seed = 1): Map<string, Float32Array> {
  const random = seededRandom(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of gpt2WeightShapes(config)) {
    const count = shape.reduce((product, dim) => product * dim, 1);
    const values = randomNormal(random, count, name.endsWith('.b') || name.includes('.b_') ? 0.1 : 0.3);
    if (/ln\d?\.w$|ln_final\.w$/.test(name))
      for (let index = 0; index < count; index++) values[index] = 1 + values[index]! * 0.3;
    weights.set(name, values);
  }
  return weights;
}
