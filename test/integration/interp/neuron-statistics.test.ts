// Static neuron quantities (s = v·ŵ, cos(v, ŵ)) read from W_out in its stored order, against each neuron's value
// vector taken on its own, for GPT-2's [d_mlp, d_model] and a gated MLP's down_proj [d_model, d_mlp], on the tiny
// models and on shapes that are not multiples of the four rows or neurons the sums run side by side.

import { describe, expect, it } from 'vitest';
import { staticNeuronQuantities } from '../../../src-main/core/interp/neuron-statistics.ts';
import { readValueVectors } from '../../../src-main/core/models/decoder/weights.ts';
import { loadModel, type LoadedDecoderModel, type LoadedModel } from '../../../src-main/core/models/load-model.ts';
import { tinyDecoderFolder } from '../../support/decoder-fixtures.ts';
import { tinyGpt2Folder } from '../../support/gpt2-fixtures.ts';

/** s and cos of one neuron from its value vector, the definition written out. */
function fromValueVector(vector: Float32Array, unit: Float64Array, center: boolean): { s: number; cos: number } {
  let mean = 0;
  if (center) {
    for (const value of vector) mean += value;
    mean /= vector.length;
  }
  let s = 0;
  let squares = 0;
  vector.forEach((value, d) => {
    s += (value - mean) * unit[d]!;
    squares += (value - mean) ** 2;
  });
  return { s, cos: squares > 0 ? s / Math.sqrt(squares) : 0 };
}

describe('staticNeuronQuantities', () => {
  it.each([
    ['GPT-2 (W_out [d_mlp, d_model])', () => loadModel(tinyGpt2Folder('hub'))],
    ['Llama (down_proj [d_model, d_mlp])', () => loadModel(tinyDecoderFolder('llama3'))],
  ])('%s: every neuron as its own value vector gives, bit for bit', (_, load) => {
    const model = load() as LoadedDecoderModel;
    const { nLayers, dMlp, dModel } = model.config;
    const direction = Float64Array.from({ length: dModel }, (_, d) => Math.sin(1.7 * d) + 0.3);
    const norm = Math.hypot(...direction);
    const unit = direction.map((value) => value / norm);
    for (const processing of ['none', 'center'] as const) {
      const quantities = staticNeuronQuantities(model, unit, processing);
      for (let layer = 0; layer < nLayers; layer++) {
        const vectors = readValueVectors(model.weights, model.config, layer); // [d_mlp, d_model]
        for (let neuron = 0; neuron < dMlp; neuron++) {
          const expected = fromValueVector(
            vectors.subarray(neuron * dModel, (neuron + 1) * dModel),
            unit,
            processing === 'center',
          );
          expect(quantities.s[layer * dMlp + neuron]).toBe(expected.s);
          expect(quantities.cos[layer * dMlp + neuron]).toBe(expected.cos);
        }
      }
    }
  });

  it.each(['in-out', 'out-in'] as const)(
    'W_out stored %s, d_model 7 and d_mlp 6: the rows and neurons left over after the fours, bit for bit',
    (layout) => {
      const [nLayers, dModel, dMlp] = [2, 7, 6];
      const stored = Array.from({ length: nLayers }, (_, layer) =>
        Float32Array.from({ length: dModel * dMlp }, (_, i) => Math.sin(0.7 * i + layer) + 0.1 * layer),
      );
      // Only what staticNeuronQuantities reads of a model: its shape and each layer's W_out (no b_out: zeros).
      const model = {
        config: { nLayers, dModel, dMlp, linearLayout: layout },
        weights: new Map(stored.map((data, layer) => [`blocks.${layer}.mlp.W_out`, { read: () => data }])),
      } as unknown as LoadedModel;
      const unit = Float64Array.from({ length: dModel }, (_, d) => Math.cos(d + 0.5) / Math.sqrt(dModel / 2));
      for (const processing of ['none', 'center'] as const) {
        const quantities = staticNeuronQuantities(model, unit, processing);
        stored.forEach((data, layer) => {
          for (let neuron = 0; neuron < dMlp; neuron++) {
            const vector = Float32Array.from({ length: dModel }, (_, d) =>
              layout === 'in-out' ? data[neuron * dModel + d]! : data[d * dMlp + neuron]!,
            );
            const expected = fromValueVector(vector, unit, processing === 'center');
            expect(quantities.s[layer * dMlp + neuron]).toBe(expected.s);
            expect(quantities.cos[layer * dMlp + neuron]).toBe(expected.cos);
          }
        });
      }
    },
  );
});
