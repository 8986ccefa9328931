// MaRCo's settings in one typed, commented object (part of the contract: the renderer offers the presets) (spec marco.md §3.6, §4.6), with the paper's per-dataset presets.

export type Divergence = 'symmetric-kl' | 'jsd';

export interface DetoxSettings {
  /** τ: a word is masked when its divergence is at least τ times the sentence mean (§3.4). */
  threshold: number;
  /** α_b, α_e, α_a: weights of base, expert and anti-expert logits in the product of experts (§4.2). */
  alphaBase: number;
  alphaExpert: number;
  alphaAnti: number;
  /** T: temperature applied to the base logits only. */
  temperature: number;
  /** ρ: CTRL-style repetition penalty on the combined logits (1 = off). */
  repetitionPenalty: number;
  /** Decoder prefix included: generation stops after max-length − 2 new tokens (§4.4). */
  maxLength: number;
  /**
   * The reference code's "JS divergence" is ½KL(A‖E) + ½KL(E‖A) (symmetric KL); the true Jensen–Shannon divergence
   * uses the mixture. Default: the reference's, so thresholds mean what the paper's mean.
   */
  divergence: Divergence;
  /** Reproduce the reference code's word-index mapping bug (§3.4) for bit-exact comparisons. */
  indexQuirk: boolean;
  /** null = greedy (the paper); else seeded sampling with top-k/top-p on the combined logits. */
  sampling: { seed: number; topK: number; topP: number } | null;
}

export type PresetName = 'magr' | 'sbf' | 'dynahate';

const shared = {
  threshold: 1.2,
  alphaBase: 1,
  alphaAnti: 1.5,
  maxLength: 128,
  divergence: 'symmetric-kl' as const,
  indexQuirk: false,
  sampling: null,
};

/**
 * MAgr from the repository README; SBF and DynaHate from the reproduction's tables. DynaHate's repetition penalty
 * is 1.5 in the reproduction's table and 1.0 in another re-implementation: we follow the table.
 */
export const presets: Record<PresetName, DetoxSettings> = {
  magr: { ...shared, alphaExpert: 4.25, temperature: 2.5, repetitionPenalty: 1.0 },
  sbf: { ...shared, alphaExpert: 5.0, temperature: 2.9, repetitionPenalty: 1.5 },
  dynahate: { ...shared, alphaExpert: 4.75, temperature: 2.5, repetitionPenalty: 1.5 },
};

/**
 * The toxicity gate's defaults (cli.md "Detox safety"; not from the paper): the threshold, and a few re-samples
 * before a rewrite is refused. Shared so the CLI and the app start from the same numbers.
 */
export const detoxGateDefaults = { toxicityThreshold: 0.5, maxResamples: 3 } as const;

/** The classifier the gate and the app's classifier settings start from when the user has named none. */
export const defaultToxicityClassifier = 'demo:classifier';
