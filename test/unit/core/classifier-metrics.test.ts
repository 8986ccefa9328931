// The classifier columns' arithmetic (issue 15 §3): mean and fraction toxic (strictly above 0.5), and compare's
// base → DPO reductions, on hand-computed numbers.

import { describe, expect, it } from 'vitest';
import {
  classifierToxicity,
  compareClassifierToxicity,
  summariseClassifierScores,
} from '../../../src-main/core/interp/classifier-metrics.ts';
import type { ClassifierIdentity } from '../../../src-main/shared/index.ts';

const identity: ClassifierIdentity = {
  reference: 'demo:classifier',
  tokenizer: null,
  sha256: 'ab'.repeat(32),
  label: 'toxicity',
};

describe('summariseClassifierScores', () => {
  it('gives the mean and the share strictly above 0.5 (a score of exactly 0.5 is not toxic)', () => {
    expect(summariseClassifierScores([0.1, 0.5, 0.9, 0.7])).toEqual({ mean: 0.55, fractionToxic: 0.5, scored: 4 });
  });

  it('takes another threshold when given one', () => {
    expect(summariseClassifierScores([0.1, 0.3, 0.9], 0.2).fractionToxic).toBeCloseTo(2 / 3, 15);
  });

  it('reports zeros, not NaN, for no texts', () => {
    expect(summariseClassifierScores([])).toEqual({ mean: 0, fractionToxic: 0, scored: 0 });
  });
});

describe('classifierToxicity', () => {
  it('puts the classifier beside its numbers and the threshold it counted with', () => {
    expect(classifierToxicity(identity, [0.2, 0.8])).toEqual({
      ...identity,
      threshold: 0.5,
      mean: 0.5,
      fractionToxic: 0.5,
      scored: 2,
    });
  });
});

describe('compareClassifierToxicity', () => {
  it('reports each model and how much DPO lowered the mean and the fraction toxic', () => {
    const result = compareClassifierToxicity(identity, [0.8, 0.6, 0.1, 0.9], [0.2, 0.6, 0.1, 0.3]);
    expect(result.base).toEqual({ mean: 0.6, fractionToxic: 0.75, scored: 4 });
    expect(result.dpo.mean).toBeCloseTo(0.3, 15);
    expect(result.dpo.fractionToxic).toBe(0.25);
    expect(result.reduction).toBeCloseTo(0.3, 15);
    expect(result.relativeReduction).toBeCloseTo(0.5, 15);
    expect(result.fractionToxicReduction).toBe(0.5);
    expect(result).toMatchObject({ ...identity, threshold: 0.5 });
  });

  it('says "more toxic" as a negative reduction, and has no relative reduction from a base of 0', () => {
    expect(compareClassifierToxicity(identity, [0.2], [0.4]).reduction).toBeCloseTo(-0.2, 15);
    expect(compareClassifierToxicity(identity, [0], [0.1]).relativeReduction).toBeNull();
  });
});
