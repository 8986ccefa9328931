// Results of the base-vs-DPO comparison (spec dpo-neurons.md §4–5) as every front door and the renderer see them.

import type { CompareClassifierToxicity } from './toxicity.ts';

/** none: the checkpoint's own W_out; center: TransformerLens' row-centred W_out (spec §3.4, the published numbers). */
export type WeightProcessing = 'none' | 'center';

/** Prompts are cut to their first 32 tokens before generation (spec dpo-neurons.md), in every front door. */
export const defaultMaxPromptTokens = 32;

/**
 * The CLI's compare prompts per batch when --batch is not given (the app's form starts at 8). 32 rather than 16 since
 * a static-cache prefill runs in groups of rows of similar length (DecoderSession.step): on issue 19's job
 * (gpt2-medium, 32 prompts, Intel Xeon, 2 threads) the command took 14.4–17.3 s at 32 against 16.9–19.7 s at 16
 * (three interleaved pairs), peaking 0.1 GiB higher.
 */
export const defaultCompareBatch = 32;

/** v1 groups (activation-change based, §5.1): the four reduction groups, then their mirrors. */
export const groupsV1 = ['TP-', 'TN+', 'AP+', 'AN-', 'TP+', 'TN-', 'AP-', 'AN+'] as const;
export type GroupV1 = (typeof groupsV1)[number];
export const reductionGroupsV1: readonly GroupV1[] = ['TP-', 'TN+', 'AP+', 'AN-'];
/** v3 groups (projection-change based): neurons with Δ > 0 by sign of cos and m̄_pre. */
export const groupsV3 = ['TP↓', 'TN↓', 'AP↓', 'AN↓'] as const;
export type GroupV3 = (typeof groupsV3)[number];

export interface GroupStatistics {
  count: number;
  sumDelta: number;
  share: number;
}

export interface CompareSummary {
  prompts: number;
  positions: number;
  grossReduction: number;
  netReduction: number;
  groups: Record<GroupV1, GroupStatistics>;
  groupsV3: Record<GroupV3, GroupStatistics>;
  toxicNeuronShare: { topN: number; count: number; sumDelta: number; share: number };
  layers: {
    layer: number;
    reduced: number;
    increased: number;
    byGroup: Record<GroupV1, number>;
    byGroupV3: Record<GroupV3, number>;
  }[];
  weightProcessing: WeightProcessing;
  neuronsReducing: number;
  /** Σ_{Δ>0}Δ share of each v3 group in 50-neuron chunks of the neurons ranked by Δ (top 10,000). */
  chunks: { chunkSize: number; byGroup: Record<GroupV3, number[]> };
  /** Σ Δ over neurons ranked by Δ (descending), sampled at up to 1,000 ranks, and where it peaks. */
  cumulative: { ranks: number[]; values: number[]; peakRank: number; peakValue: number };
  relativeActivationChange: {
    /** Δm / m̄_pre in percent, clipped to its 10th–90th percentile (neurons with m̄_pre = 0 dropped). */
    clip: [number, number];
    mean: number;
    sd: number;
    /**
     * 40 bins over the clip range; countsByGroupV3 splits each bin's neurons by v3 group (the rest have Δ ≤ 0); it is
     * absent from summaries written before it existed.
     */
    histogram: { edges: number[]; counts: number[]; countsByGroupV3?: Record<GroupV3, number[]> };
    byGroupV3: Record<GroupV3, { mean: number; sd: number; count: number }>;
  };
  correlations: { deltaActVsCos: number; deltaActVsMeanPre: number };
  activationSign: { positivePre: number; negativePre: number };
  layerProjection: {
    layer: number;
    base: number;
    dpo: number;
    biasBase: number;
    biasDpo: number;
    neuronSumBase: number;
    neuronSumDpo: number;
  }[];
  /** max over layers and models of |Σ_i P_i + b_out·ŵ − L| (§4.1): float round-off when neuronContribution is exact. */
  layerProjectionCheck: number;
  /**
   * What m·v·ŵ is: 'exact', the neuron's share of what the MLP adds to the residual stream (GPT-2, Llama, Mistral,
   * Qwen2); 'before-post-feedforward-norm' for Gemma-2, whose post-feed-forward RMSNorm rescales the MLP output
   * before it joins the residual stream, so m·v·ŵ is computed as the reference code computes it (value vector = the
   * down_proj column, no norm) and layerProjectionCheck measures that norm, not round-off. Absent from summaries
   * written before it existed (all 'exact').
   */
  neuronContribution?: NeuronContribution;
  /**
   * Both models' continuations scored by a toxicity classifier (compare --classifier): null when none was asked for;
   * absent from summaries written before it existed and from the partial summaries streamed while a run goes on.
   */
  classifier?: CompareClassifierToxicity | null;
}

export type NeuronContribution = 'exact' | 'before-post-feedforward-norm';
