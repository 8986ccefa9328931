// The masker's expert/anti-expert divergence against its textbook definitions, computed the slow readable way.

import { describe, expect, it } from 'vitest';
import { divergenceOf } from '../../../src-main/core/detox/masker.ts';
import { seededRandom } from '../../support/random.ts';

/** log-softmax in float64, one exponential per term of the log-partition. */
function logSoftmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const logPartition = max + Math.log(logits.reduce((sum, value) => sum + Math.exp(value - max), 0));
  return Array.from(logits, (value) => value - logPartition);
}

/** KL(P‖Q) = Σ p (log p − log q), terms with p = 0 left out. */
function kl(logP: number[], logQ: number[]): number {
  return logP.reduce((sum, value, v) => (Math.exp(value) > 0 ? sum + Math.exp(value) * (value - logQ[v]!) : sum), 0);
}

function readableDivergence(expert: Float32Array, anti: Float32Array, kind: 'symmetric-kl' | 'jsd'): number {
  const logE = logSoftmax(expert);
  const logA = logSoftmax(anti);
  if (kind === 'symmetric-kl') return 0.5 * kl(logA, logE) + 0.5 * kl(logE, logA);
  const logM = logE.map((value, v) => Math.log(0.5 * (Math.exp(value) + Math.exp(logA[v]!))));
  return 0.5 * kl(logE, logM) + 0.5 * kl(logA, logM);
}

describe('divergenceOf', () => {
  const random = seededRandom(7);
  const row = (vocab: number, spread: number) => Float32Array.from({ length: vocab }, () => (random() - 0.5) * spread);

  it.each(['symmetric-kl', 'jsd'] as const)('matches the definition of %s to 1e-12 relative', (kind) => {
    // A long row, then shorter ones (the scratch rows are reused), peaked ones (exp underflows to 0) included.
    for (const [vocab, spread] of [
      [50265, 8],
      [17, 2],
      [1000, 400],
      [3, 0],
    ] as const) {
      const expert = row(vocab, spread);
      const anti = row(vocab, spread);
      const expected = readableDivergence(expert, anti, kind);
      const got = divergenceOf(expert, anti, kind);
      expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
    }
  });

  it('is zero for the same distribution (logits shifted by a constant) and symmetric in its two models', () => {
    // Logits on a grid of 1/1024, so that adding 3 is exact in float32.
    const expert = Float32Array.from(row(500, 6), (value) => Math.round(value * 1024) / 1024);
    const anti = row(500, 6);
    expect(divergenceOf(expert, expert, 'symmetric-kl')).toBe(0);
    expect(
      divergenceOf(
        expert,
        Float32Array.from(expert, (value) => value + 3),
        'jsd',
      ),
    ).toBeLessThan(1e-15);
    expect(divergenceOf(expert, anti, 'jsd')).toBeCloseTo(divergenceOf(anti, expert, 'jsd'), 15);
  });
});
