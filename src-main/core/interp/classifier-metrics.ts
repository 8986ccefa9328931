// The paper's "toxicity" and "fraction toxic" columns from classifier scores (issue 15 §3): a set of texts' mean
// score and share above 0.5, and how much DPO lowered both. Pure arithmetic; the scoring is toxicity-scorer.ts's.

import {
  fractionToxicThreshold,
  type ClassifierIdentity,
  type ClassifierScores,
  type ClassifierToxicity,
  type CompareClassifierToxicity,
} from '../../shared/index.ts';

/** Mean and share above the threshold (strictly above, as "fraction toxic" counts a score of 0.5 as not toxic). */
export function summariseClassifierScores(
  scores: readonly number[],
  threshold: number = fractionToxicThreshold,
): ClassifierScores {
  const scored = scores.length;
  if (scored === 0) return { mean: 0, fractionToxic: 0, scored };
  let sum = 0;
  let above = 0;
  for (const score of scores) {
    sum += score;
    if (score > threshold) above++;
  }
  return { mean: sum / scored, fractionToxic: above / scored, scored };
}

/** intervene's classifier columns: which classifier, and its mean and fraction toxic over the continuations. */
export function classifierToxicity(identity: ClassifierIdentity, scores: readonly number[]): ClassifierToxicity {
  return { ...identity, threshold: fractionToxicThreshold, ...summariseClassifierScores(scores) };
}

/** compare's classifier numbers: each model's mean and fraction toxic, and the base → DPO reductions. */
export function compareClassifierToxicity(
  identity: ClassifierIdentity,
  baseScores: readonly number[],
  dpoScores: readonly number[],
): CompareClassifierToxicity {
  const base = summariseClassifierScores(baseScores);
  const dpo = summariseClassifierScores(dpoScores);
  const reduction = base.mean - dpo.mean;
  return {
    ...identity,
    threshold: fractionToxicThreshold,
    base,
    dpo,
    reduction,
    relativeReduction: base.mean > 0 ? reduction / base.mean : null,
    fractionToxicReduction: base.fractionToxic - dpo.fractionToxic,
  };
}
