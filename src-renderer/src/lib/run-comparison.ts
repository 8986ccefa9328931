// Two compare runs side by side (the Results page's "Compare the two"): their headline numbers, the groups' shares in
// both notations, and how many of their top neurons by Δ are the same neurons.

import { groupsV3, reductionGroupsV1, type CompareSummary, type NeuronTable } from '../../../src-main/shared/index.ts';
import { groupLabel } from './neuron-table.ts';

/** One line of the side-by-side table: a number of each run (null where a run has none) and how it is written. */
export interface ComparedNumber {
  label: string;
  a: number | null;
  b: number | null;
  unit: 'count' | 'number' | 'percent';
}

/** The numbers two runs are compared on, in the order the table shows them (shares as percentages). */
export function comparedNumbers(a: CompareSummary, b: CompareSummary): ComparedNumber[] {
  const line = (label: string, unit: ComparedNumber['unit'], of: (summary: CompareSummary) => number | null) => ({
    label,
    unit,
    a: of(a),
    b: of(b),
  });
  const classifier = (summary: CompareSummary, model: 'base' | 'dpo') => summary.classifier?.[model]?.mean ?? null;
  return [
    line('prompts', 'count', (summary) => summary.prompts),
    line('positions', 'count', (summary) => summary.positions),
    line('gross reduction Σ Δ⁺', 'number', (summary) => summary.grossReduction),
    line('net reduction Σ Δ', 'number', (summary) => summary.netReduction),
    ...reductionGroupsV1.map((group) =>
      line(`share of ${groupLabel(group)} (v1)`, 'percent', (summary) => 100 * summary.groups[group].share),
    ),
    ...groupsV3.map((group) =>
      line(`share of ${group} (v3)`, 'percent', (summary) => 100 * summary.groupsV3[group].share),
    ),
    line('toxic-neuron share (top 128 by cosine)', 'percent', (summary) => 100 * summary.toxicNeuronShare.share),
    line('classifier toxicity, base', 'number', (summary) => classifier(summary, 'base')),
    line('classifier toxicity, DPO', 'number', (summary) => classifier(summary, 'dpo')),
  ];
}

/** Row indices of the `count` neurons with the largest Δ (ties in table order). */
function topByDelta(table: NeuronTable, count: number): number[] {
  return Array.from({ length: table.count }, (_, row) => row)
    .sort((first, second) => table.delta[second]! - table.delta[first]! || first - second)
    .slice(0, count);
}

/**
 * How many of each run's top `count` neurons by Δ are the same neuron (layer and index), or null when the runs'
 * models have different neurons (their tables differ in size, so a neuron of one is not a neuron of the other).
 */
export function topNeuronOverlap(a: NeuronTable, b: NeuronTable, count: number): number | null {
  if (a.count !== b.count) return null;
  const key = (table: NeuronTable, row: number) => `${table.layer[row]}:${table.neuron[row]}`;
  const ofA = new Set(topByDelta(a, count).map((row) => key(a, row)));
  return topByDelta(b, count).filter((row) => ofA.has(key(b, row))).length;
}
