// Static neuron quantities (spec dpo-neurons.md §3): each MLP neuron's value vector v (a row of GPT-2's W_out, a
// column of a gated MLP's down_proj) projected on
// the unit probe, s = v·ŵ, and its cosine with the probe; the toxic-neuron ranking (§3.3); the toxic-embedding
// direction (§2.3). `center` applies TransformerLens' row-centring of W_out (§3.4), needed to match published numbers.

import { raise, type WeightProcessing } from '../../shared/index.ts';
import { readMlpOutputBias, readUnembedding } from '../models/decoder/weights.ts';
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

/**
 * Per neuron of one layer: Σ_d v_d·ŵ_d and Σ_d v_d² over its value vector v, each v_d less v's mean under `center`.
 * W_out is read in the order it is stored (a gated MLP's down_proj [d_model, d_mlp] row by row, GPT-2's [d_mlp,
 * d_model] neuron by neuron); either way each neuron's sums run over d in ascending order, so they are the same
 * bits as summing its value vector on its own. (Gathering the value vectors first strided through 64 MB per layer
 * of a 1B Llama: 3.4 s per model; in stored order 1.7 s; with the sums four at a time, below, 0.55–1.0 s here.)
 */
function valueVectorProducts(
  stored: Float32Array,
  layout: 'in-out' | 'out-in',
  dMlp: number,
  dModel: number,
  unit: Float64Array,
  center: boolean,
): { dot: Float64Array; squares: Float64Array } {
  const dot = new Float64Array(dMlp);
  const squares = new Float64Array(dMlp);
  if (layout === 'in-out') {
    // Four neurons at a time: each sum is a chain of dependent float64 additions, so four chains side by side run
    // about as fast as one (gpt2-medium's W_out: 255 → 145 ms a model, centred 400 → 245 ms), each still summed in
    // ascending d. The last group repeats the last neuron where dMlp is not a multiple of four (the same sums again).
    for (let first = 0; first < dMlp; first += 4) {
      const [n0, n1, n2, n3] = [0, 1, 2, 3].map((k) => Math.min(first + k, dMlp - 1)) as [
        number,
        number,
        number,
        number,
      ];
      const [row0, row1, row2, row3] = [n0 * dModel, n1 * dModel, n2 * dModel, n3 * dModel];
      let mean0 = 0;
      let mean1 = 0;
      let mean2 = 0;
      let mean3 = 0;
      if (center) {
        for (let d = 0; d < dModel; d++) {
          mean0 += stored[row0 + d]!;
          mean1 += stored[row1 + d]!;
          mean2 += stored[row2 + d]!;
          mean3 += stored[row3 + d]!;
        }
        mean0 /= dModel;
        mean1 /= dModel;
        mean2 /= dModel;
        mean3 /= dModel;
      }
      let dot0 = 0;
      let dot1 = 0;
      let dot2 = 0;
      let dot3 = 0;
      let squares0 = 0;
      let squares1 = 0;
      let squares2 = 0;
      let squares3 = 0;
      for (let d = 0; d < dModel; d++) {
        const direction = unit[d]!;
        const value0 = stored[row0 + d]! - mean0;
        const value1 = stored[row1 + d]! - mean1;
        const value2 = stored[row2 + d]! - mean2;
        const value3 = stored[row3 + d]! - mean3;
        dot0 += value0 * direction;
        dot1 += value1 * direction;
        dot2 += value2 * direction;
        dot3 += value3 * direction;
        squares0 += value0 * value0;
        squares1 += value1 * value1;
        squares2 += value2 * value2;
        squares3 += value3 * value3;
      }
      [dot[n0], dot[n1], dot[n2], dot[n3]] = [dot0, dot1, dot2, dot3];
      [squares[n0], squares[n1], squares[n2], squares[n3]] = [squares0, squares1, squares2, squares3];
    }
    return { dot, squares };
  }
  const mean = new Float64Array(dMlp);
  // Four rows of d at a time, each neuron's running sums held in locals across them: a quarter of the loads and
  // stores of the sums, added in the same order (Llama-3.2-1B's down_proj, old and new interleaved in one process:
  // 1.5–2.4 → 0.55–1.0 s a model, centred 2.3–3.9 → 1.0–1.6 s).
  if (center) {
    let d = 0;
    for (; d + 4 <= dModel; d += 4) {
      const row0 = d * dMlp;
      for (let neuron = 0; neuron < dMlp; neuron++) {
        let sum = mean[neuron]!;
        sum += stored[row0 + neuron]!;
        sum += stored[row0 + dMlp + neuron]!;
        sum += stored[row0 + 2 * dMlp + neuron]!;
        sum += stored[row0 + 3 * dMlp + neuron]!;
        mean[neuron] = sum;
      }
    }
    for (; d < dModel; d++) for (let neuron = 0; neuron < dMlp; neuron++) mean[neuron]! += stored[d * dMlp + neuron]!;
    for (let neuron = 0; neuron < dMlp; neuron++) mean[neuron]! /= dModel;
  }
  let d = 0;
  for (; d + 4 <= dModel; d += 4) {
    const [u0, u1, u2, u3] = [unit[d]!, unit[d + 1]!, unit[d + 2]!, unit[d + 3]!];
    const row0 = d * dMlp;
    const row1 = row0 + dMlp;
    const row2 = row1 + dMlp;
    const row3 = row2 + dMlp;
    for (let neuron = 0; neuron < dMlp; neuron++) {
      const neuronMean = mean[neuron]!;
      const value0 = stored[row0 + neuron]! - neuronMean;
      const value1 = stored[row1 + neuron]! - neuronMean;
      const value2 = stored[row2 + neuron]! - neuronMean;
      const value3 = stored[row3 + neuron]! - neuronMean;
      let neuronDot = dot[neuron]!;
      neuronDot += value0 * u0;
      neuronDot += value1 * u1;
      neuronDot += value2 * u2;
      neuronDot += value3 * u3;
      dot[neuron] = neuronDot;
      let neuronSquares = squares[neuron]!;
      neuronSquares += value0 * value0;
      neuronSquares += value1 * value1;
      neuronSquares += value2 * value2;
      neuronSquares += value3 * value3;
      squares[neuron] = neuronSquares;
    }
  }
  for (; d < dModel; d++) {
    const direction = unit[d]!;
    const row = d * dMlp;
    for (let neuron = 0; neuron < dMlp; neuron++) {
      const value = stored[row + neuron]! - mean[neuron]!;
      dot[neuron]! += value * direction;
      squares[neuron]! += value * value;
    }
  }
  return { dot, squares };
}

/** s and cos for every neuron of a model against the unit probe direction ŵ [d_model]. */
export function staticNeuronQuantities(
  model: LoadedModel,
  unit: Float64Array,
  processing: WeightProcessing,
): StaticNeuronQuantities {
  const { nLayers, dMlp, dModel, linearLayout } = model.config;
  const cos = new Float64Array(nLayers * dMlp);
  const s = new Float64Array(nLayers * dMlp);
  const biasProjection = new Float64Array(nLayers);
  let unitSum = 0;
  for (const value of unit) unitSum += value;
  // One layer's W_out at a time, read into the same memory: fresh memory for each was most of this function's time
  // on the project's VM (Llama-3.2-1B shapes: 0.8–1.1 s a model against 0.2–0.3 s for the reads into one buffer).
  const scratch = new ArrayBuffer(4 * dMlp * dModel);
  for (let layer = 0; layer < nLayers; layer++) {
    const stored = model.weights.get(`blocks.${layer}.mlp.W_out`)!.read(scratch);
    const { dot, squares } = valueVectorProducts(stored, linearLayout, dMlp, dModel, unit, processing === 'center');
    for (let neuron = 0; neuron < dMlp; neuron++) {
      s[layer * dMlp + neuron] = dot[neuron]!;
      cos[layer * dMlp + neuron] = squares[neuron]! > 0 ? dot[neuron]! / Math.sqrt(squares[neuron]!) : 0;
    }
    const bOut = readMlpOutputBias(model.weights, model.config, layer); // [d_model]
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
