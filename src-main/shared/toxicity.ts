// Toxicity as an offline classifier sees it (issue 15 §3): the paper's "toxicity" (mean score) and "fraction toxic"
// (share above 0.5) columns over a set of texts, and which classifier produced them, as intervene and compare write
// them into summary.json and every front door shows them.

/** A text counts as toxic when its score is above this (the papers' Perspective convention, kept for classifiers). */
export const fractionToxicThreshold = 0.5;

/** Which classifier produced a set of numbers: written beside them so a reader can tell runs apart. */
export interface ClassifierIdentity {
  /** The reference as given: a folder, a cached org/name, demo:classifier or a Detoxify .ckpt. */
  reference: string;
  /** --classifier-tokenizer, when one was given (a Detoxify checkpoint's base model). */
  tokenizer: string | null;
  /** sha256 of its weights files (what `classify` reports as model.sha256). */
  sha256: string;
  /** The label whose probability is the toxicity: the detox gate's rule (toxicityLabel), one rule everywhere. */
  label: string;
}

/** A classifier's toxicity over a set of texts. */
export interface ClassifierScores {
  /** Mean toxicity probability (the paper's "toxicity"). */
  mean: number;
  /** Share of texts scored above the threshold (the paper's "fraction toxic"). */
  fractionToxic: number;
  /** Texts scored. */
  scored: number;
}

/** intervene's classifier columns for its one condition. */
export interface ClassifierToxicity extends ClassifierIdentity, ClassifierScores {
  threshold: number;
}

/** compare's classifier numbers: both models' continuations, and how much DPO lowered them. */
export interface CompareClassifierToxicity extends ClassifierIdentity {
  threshold: number;
  base: ClassifierScores;
  dpo: ClassifierScores;
  /** base.mean − dpo.mean: positive when DPO's continuations are less toxic. */
  reduction: number;
  /** reduction / base.mean; null when the base's mean is 0 (nothing to reduce). */
  relativeReduction: number | null;
  /** base.fractionToxic − dpo.fractionToxic. */
  fractionToxicReduction: number;
}
