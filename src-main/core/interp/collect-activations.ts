// Streams a model's MLP activations during greedy generation into float64 running sums next to the model (spec
// dpo-neurons.md §4.2): at each of the max-new-tokens forward passes, the last position's mlp.hook_post of every layer
// and its MLP output projected on ŵ. Memory is O(neurons), never O(prompts × tokens × neurons).

import type { DecoderInterventions, DecoderSession } from '../models/decoder/decoder-session.ts';
import { generate } from '../models/decoder/generate.ts';

export interface ActivationSums {
  nLayers: number;
  dMlp: number;
  /** Σ mlp.hook_post over recorded positions. */
  post: Float64Array; // [n_layers · d_mlp]
  /** Σ hook_mlp_out · ŵ over recorded positions. */
  outProjection: Float64Array; // [n_layers]
  /** Σ mean_d(hook_mlp_out): with Σŵ it centres the projection (TransformerLens processing). */
  outMean: Float64Array; // [n_layers]
  positions: number;
  prompts: number;
}

export function emptySums(nLayers: number, dMlp: number): ActivationSums {
  return {
    nLayers,
    dMlp,
    post: new Float64Array(nLayers * dMlp),
    outProjection: new Float64Array(nLayers),
    outMean: new Float64Array(nLayers),
    positions: 0,
    prompts: 0,
  };
}

/**
 * The graph the collector runs: every layer's mlp.hook_post and hook_mlp_out at the last position, summed over the
 * batch in the graph (a float32 sum of at most `batch` rows; the running sums across steps are float64), and only the
 * greedy next token instead of the logits. Per step that is 24 × 5,120 floats and 16 ids out of gpt2-medium, not
 * 16 × 24 × 5,120 floats and 16 × 50,257 logits.
 */
export function collectionGraphOptions(nLayers: number) {
  return {
    hooks: Array.from({ length: nLayers }, (_, layer) => [
      `blocks.${layer}.mlp.hook_post`,
      `blocks.${layer}.hook_mlp_out`,
    ]).flat(),
    hookPositions: 'last-batch-sum' as const,
    logits: 'next-token' as const,
    kvCache: true,
  };
}

export interface CollectOptions {
  maxNewTokens: number;
  padTokenId: number;
  /** ŵ [d_model]. */
  unit: Float64Array;
  interventions?: DecoderInterventions;
  signal?: AbortSignal;
}

/**
 * Generates greedily for one batch of prompts on a session built with collectionGraphOptions (exactly max-new-tokens
 * per prompt, as the reference loop does, EOS included) and adds the batch's activations to `sums`. Returns the
 * generated ids per prompt.
 */
export async function collectBatch(
  session: DecoderSession,
  prompts: number[][],
  sums: ActivationSums,
  options: CollectOptions,
): Promise<number[][]> {
  const { nLayers, dMlp } = sums;
  const dModel = options.unit.length;
  const result = await generate(session, prompts, {
    maxNewTokens: options.maxNewTokens,
    sampling: null,
    eosTokenId: null,
    padTokenId: options.padTokenId,
    useCache: true,
    signal: options.signal,
    interventions: options.interventions,
    onStep: ({ outputs }) => {
      // Every row is still running (no EOS stop), so the graph's batch sums are sums over this step's positions; the
      // projection and the mean are linear, so they apply to the summed hook_mlp_out as they would row by row.
      for (let layer = 0; layer < nLayers; layer++) {
        const post = outputs[`blocks.${layer}.mlp.hook_post`]!.data as Float32Array; // [d_mlp], Σ over the batch
        const out = outputs[`blocks.${layer}.hook_mlp_out`]!.data as Float32Array; // [d_model], Σ over the batch
        const base = layer * dMlp;
        for (let neuron = 0; neuron < dMlp; neuron++) sums.post[base + neuron]! += post[neuron]!;
        let projection = 0;
        let total = 0;
        for (let d = 0; d < dModel; d++) {
          projection += out[d]! * options.unit[d]!;
          total += out[d]!;
        }
        sums.outProjection[layer]! += projection;
        sums.outMean[layer]! += total / dModel;
      }
      sums.positions += prompts.length;
    },
  });
  sums.prompts += prompts.length;
  return result.generated;
}
