// One toxicity number per text from any classifier (issue 15 §3–4): the classifier opened for text, the label that is
// "the" toxicity (toxicityLabel) and the sha256 of its weights. The detox gate, intervene, compare and eval:marco all
// score through this, so a sentence gets the same number, by the same rule, wherever it is measured.

import type { ClassifierIdentity, DeviceReport } from '../../../shared/index.ts';
import { openTextClassifier, toxicityLabel } from './classifier-text.ts';
import { loadClassifier, type LoadedClassifier } from './load-classifier.ts';

/** A classifier checked and fingerprinted, its session not open yet (a long run loads it first to fail early). */
export interface ToxicityClassifier {
  model: LoadedClassifier;
  identity: ClassifierIdentity;
}

/** A text's toxicity (the probability of identity.label) and every label's probability (its breakdown). */
export interface ToxicityScore {
  toxicity: number;
  labelScores: Record<string, number>;
}

/** An open classifier that gives each text's toxicity. */
export interface ToxicityScorer extends ToxicityClassifier {
  /** Toxicity of each text, in order. */
  score(texts: readonly string[]): Promise<number[]>;
  /** Toxicity and label breakdown of each text, in order. */
  scoreWithLabels(texts: readonly string[]): Promise<ToxicityScore[]>;
  release(): Promise<void>;
}

/** Loads and checks a classifier (exit 3 for a bad one) and hashes its weights; no session is opened. */
export function loadToxicityClassifier(reference: string, tokenizer?: string): ToxicityClassifier {
  const model = loadClassifier(reference, { tokenizerFolder: tokenizer });
  return {
    model,
    identity: {
      reference,
      tokenizer: tokenizer ?? null,
      sha256: model.fingerprint(),
      label: toxicityLabel(model.labels),
    },
  };
}

export async function openToxicityScorer(
  classifier: ToxicityClassifier,
  options: { device: DeviceReport; threads?: number },
): Promise<ToxicityScorer> {
  const text = await openTextClassifier(classifier.model, options);
  const { label } = classifier.identity;
  const scoreWithLabels = async (texts: readonly string[]) =>
    (await text.classify(texts)).map((result) => ({ toxicity: result.scores[label]!, labelScores: result.scores }));
  return {
    ...classifier,
    scoreWithLabels,
    score: async (texts) => (await scoreWithLabels(texts)).map((scored) => scored.toxicity),
    release: () => text.release(),
  };
}

/** The classifier's manifest entry: what it is, where its weights are, and which label was read. */
export function classifierManifestEntry(classifier: ToxicityClassifier) {
  const { model, identity } = classifier;
  return {
    ...identity,
    format: model.format,
    weightsFiles: model.stateDict.files,
    labels: model.labels,
    activation: model.activation,
  };
}
