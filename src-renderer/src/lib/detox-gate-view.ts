// What the Detox review shows of the toxicity gate (issue 15 §5): a sentence's classifier scores before → after with
// the label breakdown, what the gate decided and why, the sentences it kept by outcome, and the document's score.

import type { DetoxGateCounts, DetoxSegmentGate } from '../../../src-main/shared/index.ts';
import type { DetoxReview, ReviewSentence } from './detox-review.ts';

/** A probability as the review prints it. */
export const formatToxicity = (value: number): string => value.toFixed(2);

/** The kept rewrite's label scores (the attempt the gate did not refuse); null when the original was kept. */
export function keptLabelScores(gate: DetoxSegmentGate): Record<string, number> | null {
  if (gate.after === null) return null;
  return gate.attempts.find((attempt) => attempt.refused === null)?.labelScores ?? null;
}

/** One line per label, in the classifier's order, e.g. "toxicity 0.93 → 0.12"; empty when the record has none. */
export function labelBreakdown(gate: DetoxSegmentGate): string[] {
  const before = gate.labelScores;
  if (!before) return [];
  const after = keptLabelScores(gate);
  return Object.entries(before).map(([label, value]) => {
    const then = after?.[label];
    return `${label} ${formatToxicity(value)}${then === undefined ? '' : ` → ${formatToxicity(then)}`}`;
  });
}

/** The gate's decision in words, for a sentence card. */
export function outcomeText(gate: DetoxSegmentGate): string {
  if (gate.outcome === 'rewritten') return 'Rewritten: less toxic, no blocklisted word added';
  if (gate.outcome === 'clean') return 'Left clean';
  return 'Rewrite refused, original kept';
}

/** Distinct sentences by the gate's outcome (a sentence's occurrences share one decision). */
export function gateCounts(review: DetoxReview): DetoxGateCounts | null {
  const gated = review.sentences.flatMap((sentence) => (sentence.gate ? [sentence.gate] : []));
  if (gated.length === 0) return null;
  const count = (outcome: DetoxSegmentGate['outcome']) => gated.filter((gate) => gate.outcome === outcome).length;
  return { rewritten: count('rewritten'), clean: count('clean'), refused: count('refused') };
}

/** Sentences the gate kept as written, by outcome, in document order. */
export function keptSentences(review: DetoxReview, outcome: 'clean' | 'refused'): ReviewSentence[] {
  return review.sentences.filter(
    (sentence) => sentence.gate?.outcome === outcome && sentence.rewrite === sentence.text,
  );
}

export interface DocumentToxicity {
  /** The classifier label the scores are of. */
  label: string;
  /** Sentences scored, every occurrence counted (as the CLI's documentBefore/After). */
  sentences: number;
  /** Mean toxicity of the source's sentences. */
  before: number;
  /** Mean toxicity with every proposed rewrite (a kept original counts its own score). */
  after: number;
  /** Mean toxicity of the reviewed document: accepted rewrites scored, the rest as before; null with a hand edit. */
  reviewed: number | null;
}

/** The document's mean toxicity before → after (null when no sentence was scored). */
export function documentToxicity(review: DetoxReview): DocumentToxicity | null {
  const scored = review.sentences.filter((sentence) => sentence.gate);
  if (scored.length === 0) return null;
  let weight = 0;
  let before = 0;
  let after = 0;
  let reviewed = 0;
  let handEdited = false;
  for (const sentence of scored) {
    const gate = sentence.gate!;
    const times = sentence.occurrences.length;
    const proposed = gate.after ?? gate.before;
    weight += times;
    before += times * gate.before;
    after += times * proposed;
    if (sentence.decision === 'accepted' && sentence.edited !== null) handEdited = true;
    reviewed += times * (sentence.decision === 'accepted' ? proposed : gate.before);
  }
  return {
    label: scored[0]!.gate!.label,
    sentences: weight,
    before: before / weight,
    after: after / weight,
    reviewed: handEdited ? null : reviewed / weight,
  };
}

/** A sentence's hover text in the document view: its score and what the gate did; undefined without a gate. */
export function sentenceTitle(gate: DetoxSegmentGate | undefined): string | undefined {
  if (!gate) return undefined;
  const score = `${gate.label} ${formatToxicity(gate.before)}`;
  if (gate.outcome === 'clean') return `${score}: left clean`;
  if (gate.outcome === 'refused') return `${score}: rewrite refused, original kept`;
  return gate.after === null ? score : `${score} → ${formatToxicity(gate.after)}`;
}
