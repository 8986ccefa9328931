// The Results page's search, kind filter, order and duplicate-label check.

import { describe, expect, it } from 'vitest';
import type { ResultEntry } from '../../../src-main/shared/index.ts';
import { runNamed, visibleResults } from '../../../src-renderer/src/lib/results-view.ts';

const entry = (name: string, kind: ResultEntry['kind'], createdAt: string, description = ''): ResultEntry => ({
  path: `/data/results/${name.replaceAll(' ', '-')}`,
  kind,
  name,
  createdAt,
  complete: true,
  resume: null,
  running: false,
  description,
  sizeBytes: 1,
});

const runs = [
  entry('run 2', 'compare', '2026-12-02T10:00:00Z', 'demo:gpt2-base vs demo:gpt2-dpo · 40 prompts'),
  entry('run 10', 'intervene', '2026-12-03T10:00:00Z', 'ablate:top=128 on demo:gpt2-base'),
  entry('Llama pair', 'compare', '2026-12-01T10:00:00Z', 'demo:llama-base vs demo:llama-dpo'),
];
const names = (shown: ResultEntry[]) => shown.map((run) => run.name);

describe('the Results view', () => {
  it('finds runs whose name, description or path hold every word, in any case', () => {
    expect(names(visibleResults(runs, { query: 'GPT2 dpo', kind: 'all', order: 'newest' }))).toEqual(['run 2']);
    expect(names(visibleResults(runs, { query: 'results/llama', kind: 'all', order: 'newest' }))).toEqual([
      'Llama pair',
    ]);
    expect(names(visibleResults(runs, { query: '', kind: 'all', order: 'newest' }))).toHaveLength(3);
  });

  it('filters by kind and sorts newest, oldest or by name with numbers in order', () => {
    expect(names(visibleResults(runs, { query: '', kind: 'compare', order: 'newest' }))).toEqual([
      'run 2',
      'Llama pair',
    ]);
    expect(names(visibleResults(runs, { query: '', kind: 'all', order: 'oldest' }))).toEqual([
      'Llama pair',
      'run 2',
      'run 10',
    ]);
    expect(names(visibleResults(runs, { query: '', kind: 'all', order: 'name' }))).toEqual([
      'Llama pair',
      'run 2',
      'run 10',
    ]);
  });

  it('names the other run a new label repeats, ignoring case, spaces around it and the run itself', () => {
    expect(runNamed(runs, '  LLAMA pair ', runs[0]!.path)?.name).toBe('Llama pair');
    expect(runNamed(runs, 'Llama pair', runs[2]!.path)).toBeNull();
    expect(runNamed(runs, '   ', runs[0]!.path)).toBeNull();
  });
});
