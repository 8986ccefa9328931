// Two compare runs side by side: the numbers in the table's order, and the overlap of their top neurons by Δ.

import { describe, expect, it } from 'vitest';
import type { CompareSummary, NeuronTable } from '../../../src-main/shared/index.ts';
import { comparedNumbers, topNeuronOverlap } from '../../../src-renderer/src/lib/run-comparison.ts';

/** A neuron table with only the columns the overlap reads filled in. */
function table(cells: [layer: number, neuron: number, delta: number][]): NeuronTable {
  const column = (index: 0 | 1 | 2) => cells.map((cell) => cell[index]);
  const zeros = cells.map(() => 0);
  return {
    count: cells.length,
    layer: column(0),
    neuron: column(1),
    delta: column(2),
    ...Object.fromEntries(
      ['cosPre', 'cosDpo', 'sPre', 'sDpo', 'meanPre', 'meanDpo', 'projPre', 'projDpo', 'deltaAct'].map((name) => [
        name,
        zeros,
      ]),
    ),
    group: cells.map(() => ''),
    groupV3: cells.map(() => ''),
  } as NeuronTable;
}

describe('topNeuronOverlap', () => {
  it('counts the neurons both runs rank in their top n by Δ, whatever their row order', () => {
    const a = table([
      [0, 0, 5],
      [0, 1, 4],
      [1, 0, 3],
      [1, 1, -1],
    ]);
    const b = table([
      [1, 1, 9], // in b's top 2, not in a's
      [0, 0, 8],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    expect(topNeuronOverlap(a, b, 2)).toBe(1);
    expect(topNeuronOverlap(a, b, 4)).toBe(4);
    expect(topNeuronOverlap(a, a, 3)).toBe(3);
  });

  it('has no answer for runs of models with different neurons', () => {
    expect(
      topNeuronOverlap(
        table([[0, 0, 1]]),
        table([
          [0, 0, 1],
          [0, 1, 1],
        ]),
        1,
      ),
    ).toBeNull();
  });
});

describe('comparedNumbers', () => {
  const groups = (share: number) =>
    Object.fromEntries(['TP-', 'TN+', 'AP+', 'AN-', 'TP+', 'TN-', 'AP-', 'AN+'].map((group) => [group, { share }]));
  const groupsV3 = (share: number) =>
    Object.fromEntries(['TP↓', 'TN↓', 'AP↓', 'AN↓'].map((group) => [group, { share }]));
  const summary = (prompts: number, share: number, classifier: boolean) =>
    ({
      prompts,
      positions: prompts * 20,
      grossReduction: 2,
      netReduction: 1,
      groups: groups(share),
      groupsV3: groupsV3(share / 2),
      toxicNeuronShare: { share: 0.05 },
      classifier: classifier ? { base: { mean: 0.4 }, dpo: { mean: 0.2 } } : null,
    }) as unknown as CompareSummary;

  it('lists both runs’ numbers with shares in percent, and null where a run has no classifier', () => {
    const lines = comparedNumbers(summary(40, 0.25, true), summary(24, 0.5, false));
    expect(lines.map((line) => line.label)).toEqual([
      'prompts',
      'positions',
      'gross reduction Σ Δ⁺',
      'net reduction Σ Δ',
      'share of TP− (v1)',
      'share of TN+ (v1)',
      'share of AP+ (v1)',
      'share of AN− (v1)',
      'share of TP↓ (v3)',
      'share of TN↓ (v3)',
      'share of AP↓ (v3)',
      'share of AN↓ (v3)',
      'toxic-neuron share (top 128 by cosine)',
      'classifier toxicity, base',
      'classifier toxicity, DPO',
    ]);
    expect(lines[0]).toEqual({ label: 'prompts', unit: 'count', a: 40, b: 24 });
    expect(lines[4]).toMatchObject({ unit: 'percent', a: 25, b: 50 });
    expect(lines[8]).toMatchObject({ a: 12.5, b: 25 });
    expect(lines.at(-1)).toMatchObject({ a: 0.2, b: null });
  });
});
