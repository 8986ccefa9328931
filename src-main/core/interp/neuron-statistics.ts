// Static neuron quantities (spec dpo-neurons.md §3): each MLP neuron's value vector v (a row of GPT-2's W_out, a
// column of a gated MLP's down_proj) projected on
// the unit probe, s = v·ŵ, and its cosine with the probe; the toxic-neuron ranking (§3.3); the toxic-embedding
// direction (§2.3). `center` applies TransformerLens' row-centring of W_out (§3.4), needed to match published numbers.

import { raise, type WeightProcessing } from '../../shared/index.ts';
import { readMlpOutputBias, readUnembedding, readValueVectors } from '../models/decoder/weights.ts';
import type { LoadedModel } from '../models/load-model.ts';

export interface StaticNeuronQuantities {
  nLayers: number;
  dMlp: number;
  /** cos(v, w) per neuron, layer-major. */
  cos: Float64Array; // [n_layers · d_mlp]
  /** s = v·ŵ per neuron. */
  s: Float64Array; // [n_layers · d_mlp]
  /** b_out·ŵ per layer (centred with W_out under `center`). */
  biasProjection: Float64Array; // [n_layers]
}

/** s and cos for every neuron of a model against the unit probe direction ŵ [d_model]. */
export function staticNeuronQuantities(
  model: LoadedModel,
  unit: Float64Array,
  processing: WeightProcessing,
): StaticNeuronQuantities {
  const { nLayers, dMlp, dModel } = model.config;
  const cos = new Float64Array(nLayers * dMlp);
  const s = new Float64Array(nLayers * dMlp);
  const biasProjection = new Float64Array(nLayers);
  let unitSum = 0;
  for (const value of unit) unitSum += value;
  for (let layer = 0; layer < nLayers; layer++) {
    const wOut = readValueVectors(model.weights, model.config, layer); // [d_mlp, d_model]
    const bOut = readMlpOutputBias(model.weights, model.config, layer); // [d_model]
    for (let neuron = 0; neuron < dMlp; neuron++) {
      const row = neuron * dModel;
      let mean = 0;
      if (processing === 'center') {
        for (let d = 0; d < dModel; d++) mean += wOut[row + d]!;
        mean /= dModel;
      }
      let dot = 0;
      let squares = 0;
      for (let d = 0; d < dModel; d++) {
        const value = wOut[row + d]! - mean;
        dot += value * unit[d]!;
        squares += value * value;
      }
      s[layer * dMlp + neuron] = dot;
      cos[layer * dMlp + neuron] = squares > 0 ? dot / Math.sqrt(squares) : 0;
    }
    let biasMean = 0;
    if (processing === 'center') biasMean = bOut.reduce((sum, value) => sum + value, 0) / dModel;
    let projection = 0;
    for (let d = 0; d < dModel; d++) projection += bOut[d]! * unit[d]!;
    biasProjection[layer] = projection - biasMean * unitSum;
  }
  return { nLayers, dMlp, cos, s, biasProjection };
}

export const defaultToxicWords = ['fuck', 'shit', 'crap', 'damn', 'asshole'];
export const defaultNonToxicWords = ['hello', 'thanks', 'friend', 'peace', 'welcome'];

/**
 * §2.3: mean embedding of toxic seed words minus that of non-toxic ones (each word tokenised without a leading space
 * and averaged over its sub-tokens), from the unembedding: GPT-2's tied W_E, lm_head.weight elsewhere (§2.3).
 */
export async function toxicEmbeddingDirection(
  model: LoadedModel,
  toxicWords = defaultToxicWords,
  nonToxicWords = defaultNonToxicWords,
): Promise<Float64Array> {
  const { dModel } = model.config;
  const embedding = readUnembedding(model.weights, model.config); // [d_vocab, d_model]
  const tokenizer = model.tokenizer.tokenizer;
  const meanOfWords = async (words: string[]) => {
    const mean = new Float64Array(dModel);
    const encoded = await tokenizer.encodeBatch(words, { addSpecialTokens: false });
    words.forEach((word, index) => {
      const ids = encoded[index]!;
      if (ids.length === 0)
        raise('INPUT_INVALID', `The seed word "${word}" has no tokens.`, 'Use non-empty seed words.');
      for (const id of ids)
        for (let d = 0; d < dModel; d++) mean[d]! += embedding[id * dModel + d]! / ids.length / words.length;
    });
    return mean;
  };
  const toxic = await meanOfWords(toxicWords);
  const nonToxic = await meanOfWords(nonToxicWords);
  return toxic.map((value, d) => value - nonToxic[d]!);
}

/** cos(v, direction) for every neuron of a model, as the activation editing of §6.4(b) uses them. */
export function cosinesWith(model: LoadedModel, direction: Float64Array, processing: WeightProcessing): Float64Array {
  const norm = Math.sqrt(direction.reduce((sum, value) => sum + value * value, 0));
  return staticNeuronQuantities(
    model,
    direction.map((value) => value / norm),
    processing,
  ).cos;
}
