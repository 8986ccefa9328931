// The toxic-neuron ranking (spec dpo-neurons.md §3.3), shared by the engine (top-N ablation, the toxic-neuron share)
// and the renderer (the explorer's rank column, the "base with top-N ablated" line).

export interface RankedNeuron {
  layer: number;
  neuron: number;
  cos: number;
}

/**
 * The toxic-neuron ranking of Lee et al.: the top `perLayer` neurons by cosine within each layer, pooled and sorted
 * by cosine, highest first; the first `count` of them (optionally only those `eligible`).
 */
export function rankToxicNeurons(
  quantities: { nLayers: number; dMlp: number; cos: ArrayLike<number> },
  count: number,
  perLayer = 100,
  eligible?: (index: number) => boolean,
): RankedNeuron[] {
  const pooled: RankedNeuron[] = [];
  const { nLayers, dMlp, cos } = quantities;
  for (let layer = 0; layer < nLayers; layer++) {
    const indices: number[] = [];
    for (let neuron = 0; neuron < dMlp; neuron++)
      if (!eligible || eligible(layer * dMlp + neuron)) indices.push(neuron);
    indices.sort((a, b) => cos[layer * dMlp + b]! - cos[layer * dMlp + a]! || a - b);
    for (const neuron of indices.slice(0, perLayer)) pooled.push({ layer, neuron, cos: cos[layer * dMlp + neuron]! });
  }
  pooled.sort((a, b) => b.cos - a.cos || a.layer - b.layer || a.neuron - b.neuron);
  return pooled.slice(0, count);
}
