// The explorer's search, filter and sort, and the figures' derivations from the per-neuron table.

import { describe, expect, it } from 'vitest';
import type { NeuronTable } from '../../../src-main/shared/index.ts';
import { neuronsCsvHeader } from '../../../src-main/core/interp/compare-job.ts';
import {
  ablatedLayerProjection,
  filterNeurons,
  groupLabel,
  neuronsCsvRows,
  rowOf,
  sortRowsByValue,
  parseNeuronQuery,
  toxicNeuronArrows,
  toxicNeuronRows,
} from '../../../src-renderer/src/lib/neuron-table.ts';

/** 2 layers × 3 neurons with hand-picked numbers. */
function table(): NeuronTable {
  return {
    count: 6,
    layer: [0, 0, 0, 1, 1, 1],
    neuron: [0, 1, 2, 0, 1, 2],
    cosPre: [0.9, -0.2, 0.1, 0.5, 0.95, -0.7],
    cosDpo: [0.8, -0.2, 0.1, 0.5, 0.9, -0.7],
    sPre: [0.9, -0.2, 0.1, 0.5, 0.95, -0.7],
    sDpo: [0.8, -0.2, 0.1, 0.5, 0.9, -0.7],
    meanPre: [1, 2, -1, 0.5, 3, -2],
    meanDpo: [0.5, 2, -1, 0.4, 1, -2.5],
    projPre: [0.9, -0.4, -0.1, 0.25, 2.85, 1.4],
    projDpo: [0.4, -0.4, -0.1, 0.2, 0.9, 1.75],
    delta: [0.5, 0, 0, 0.05, 1.95, -0.35],
    deltaAct: [0.5, 0, 0, 0.1, 2, 0.5],
    group: ['TP-', '', '', 'TP-', 'TP-', 'AN+'],
    groupV3: ['TP↓', '', '', 'TP↓', 'TP↓', ''],
  };
}

describe('neuron search', () => {
  it('reads the address forms people type', () => {
    for (const text of ['L19 N770', 'l19n770', '19 770', '19.770', 'L19:N770', ' L 19 N 770 '])
      expect(parseNeuronQuery(text), text).toEqual({ layer: 19, neuron: 770 });
    expect(parseNeuronQuery('L3')).toEqual({ layer: 3, neuron: null });
    expect(parseNeuronQuery('n42')).toEqual({ layer: null, neuron: 42 });
    expect(parseNeuronQuery('')).toEqual({ layer: null, neuron: null });
    expect(parseNeuronQuery('toxic')).toBeNull();
  });

  it('filters by layer, group (v1 or v3) and address, and sorts with stable ties', () => {
    const all = { layer: null, group: '', query: '', sort: 'index', descending: false } as const;
    expect([...filterNeurons(table(), all)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...filterNeurons(table(), { ...all, layer: 1 })]).toEqual([3, 4, 5]);
    expect([...filterNeurons(table(), { ...all, group: 'TP-' })]).toEqual([0, 3, 4]);
    expect([...filterNeurons(table(), { ...all, group: 'TP↓', layer: 0 })]).toEqual([0]);
    expect([...filterNeurons(table(), { ...all, query: 'L1 N2' })]).toEqual([5]);
    expect([...filterNeurons(table(), { ...all, query: 'N0' })]).toEqual([0, 3]);
    expect([...filterNeurons(table(), { ...all, query: 'nonsense' })]).toEqual([]);
    expect([...filterNeurons(table(), { ...all, sort: 'delta', descending: true })]).toEqual([4, 0, 3, 1, 2, 5]);
    expect([...filterNeurons(table(), { ...all, sort: 'cosPre', descending: false })]).toEqual([5, 1, 2, 3, 0, 4]);
  });
});

describe('figures from the neuron table', () => {
  it('ranks toxic neurons by pre-DPO cosine and draws them as arrows before → after', () => {
    expect(toxicNeuronRows(table(), 3)).toEqual([4, 0, 3]);
    expect(toxicNeuronArrows(table(), 1)).toEqual([
      { row: 4, label: 'L1 N1', from: { x: 0.95, y: 2.85 }, to: { x: 0.9, y: 0.9 } },
    ]);
  });

  it("removes the top-N toxic neurons' direct writes from each layer's base projection", () => {
    const layers = [
      { layer: 0, base: 1.0, dpo: 0.5, biasBase: 0.6, biasDpo: 0.6, neuronSumBase: 0.4, neuronSumDpo: -0.1 },
      { layer: 1, base: 5.0, dpo: 3.0, biasBase: 0.5, biasDpo: 0.5, neuronSumBase: 4.5, neuronSumDpo: 2.85 },
    ];
    expect(ablatedLayerProjection(table(), layers, 2)).toEqual([1.0 - 0.9, 5.0 - 2.85]);
  });
});

describe('sorting rows by a column (radix)', () => {
  it('orders as a comparator sort does, ties by row, ascending and descending, with negatives, zeros and ties', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const values = Array.from({ length: 5000 }, (_, index) =>
      index % 7 === 0 ? 0.25 : index % 11 === 0 ? -0 : index % 13 === 0 ? 0 : random() * 10 ** ((index % 9) - 4),
    );
    const rows = Int32Array.from({ length: 3000 }, (_, index) => index + 1000);
    for (const descending of [false, true]) {
      const sign = descending ? -1 : 1;
      const expected = [...rows].sort((a, b) => sign * (values[a]! - values[b]!) || a - b);
      expect([...sortRowsByValue(rows, values, descending)]).toEqual(expected);
    }
  });
});

describe('neurons.csv from the table', () => {
  it('writes the header compare writes and every column of every row, or only the rows asked for', () => {
    const rows = neuronsCsvRows(table());
    expect(rows[0]).toEqual(neuronsCsvHeader);
    expect(rows).toHaveLength(7);
    expect(rows[5]).toEqual([1, 1, 0.95, 0.9, 0.95, 0.9, 3, 1, 2.85, 0.9, 1.95, 2, 'TP-', 'TP↓']);
    expect(neuronsCsvRows(table(), [5, 0]).map((row) => row[1])).toEqual(['neuron', 2, 0]);
  });
});

describe('neuron addresses and group names', () => {
  it('finds the row of a neuron, and none for a neuron the run does not have', () => {
    expect(rowOf(table(), 1, 2)).toBe(5);
    expect(rowOf(table(), 0, 0)).toBe(0);
    expect(rowOf(table(), 2, 0)).toBeNull();
    expect(rowOf(table(), 0, 3)).toBeNull();
  });

  it('writes v1 groups with a true minus and leaves v3 and plus groups as they are', () => {
    expect(['TP-', 'AN-', 'TN+', 'TP↓', ''].map(groupLabel)).toEqual(['TP−', 'AN−', 'TN+', 'TP↓', '']);
  });
});
