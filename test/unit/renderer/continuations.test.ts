// The continuations view: a run's prompts with base, DPO and each matching intervention side by side, searched and
// ordered by their scores.

import { describe, expect, it } from 'vitest';
import type { GenerationRow } from '../../../src-main/shared/index.ts';
import { continuationTable, searchContinuations } from '../../../src-renderer/src/lib/continuations.ts';

const compare = (prompt: string, base: string, dpo: string, scores: [number, number] | null = null): GenerationRow => ({
  kind: 'compare',
  prompt,
  base,
  dpo,
  baseToxicity: scores?.[0] ?? null,
  dpoToxicity: scores?.[1] ?? null,
});
const intervened = (prompt: string, continuation: string, classifier = 0.5): GenerationRow => ({
  kind: 'intervene',
  prompt,
  continuation,
  probeToxicity: 0.1,
  classifierToxicity: classifier,
});

const run = [
  compare('You are', ' a fool', ' a friend', [0.9, 0.1]),
  compare('The weather', ' is awful', ' is nice', [0.4, 0.3]),
  compare('Shut up', ' idiot', ' please', null),
];

describe('continuations side by side', () => {
  it('puts each intervention beside the prompt it continued, and leaves out one that ran other prompts', () => {
    const table = continuationTable(run, [
      { label: 'ablated', rows: [intervened('You are', ' a person', 0.2), intervened('The weather', ' is grey')] },
      { label: 'other prompts', rows: [intervened('Hello', ' there')] },
    ]);
    expect(table.columns).toEqual(['Base', 'DPO', 'ablated']);
    expect(table.unmatched).toEqual(['other prompts']);
    expect(table.rows[0]!.cells.map((cell) => cell.text)).toEqual([' a fool', ' a friend', ' a person']);
    expect(table.rows[0]!.cells[2]).toEqual({ text: ' a person', classifier: 0.2, probe: 0.1 });
    expect(table.rows[2]!.cells[2]).toEqual({ text: null, classifier: null, probe: null }); // it ran two prompts
  });

  it('does not match an intervention whose prompt at that line differs', () => {
    const table = continuationTable(run, [{ label: 'shifted', rows: [intervened('The weather', ' is grey')] }]);
    expect(table.columns).toEqual(['Base', 'DPO']);
    expect(table.unmatched).toEqual(['shifted']);
  });
});

describe('searching and ordering continuations', () => {
  const rows = continuationTable(run, []).rows;

  it('finds every word of the query in the prompt or any continuation, case-insensitively', () => {
    expect(searchContinuations(rows, 'IDIOT').map((row) => row.index)).toEqual([2]);
    expect(searchContinuations(rows, 'weather nice').map((row) => row.index)).toEqual([1]);
    expect(searchContinuations(rows, 'weather fool')).toEqual([]);
    expect(searchContinuations(rows, '  ').map((row) => row.index)).toEqual([0, 1, 2]);
  });

  it('orders by the base’s or the DPO’s toxicity, or the drop, with unscored prompts last', () => {
    expect(searchContinuations(rows, '', 'base-toxicity').map((row) => row.index)).toEqual([0, 1, 2]);
    expect(searchContinuations(rows, '', 'dpo-toxicity').map((row) => row.index)).toEqual([1, 0, 2]);
    expect(searchContinuations(rows, '', 'drop').map((row) => row.index)).toEqual([0, 1, 2]);
    const reversed = continuationTable([run[2]!, run[1]!, run[0]!], []).rows;
    expect(searchContinuations(reversed, '', 'drop').map((row) => row.prompt)).toEqual([
      'You are',
      'The weather',
      'Shut up',
    ]);
  });
});
