// The addresses of runs and neurons people link and reload, and the per-run picks remembered across reloads.

import { describe, expect, it } from 'vitest';
import { compareHref, neuronsHref, parseRoute, runName } from '../../../src-renderer/src/lib/neuron-route.ts';
import { readStoredPicks, rememberedRuns, withPicks } from '../../../src-renderer/src/lib/stored-picks.ts';

describe('run and neuron addresses', () => {
  it('reads the page, the run, the neuron and the options of a hash', () => {
    expect(parseRoute('#/neurons/compare-2026-12-06/3/17?layer=3&group=TP-')).toEqual({
      page: 'neurons',
      run: 'compare-2026-12-06',
      layer: 3,
      neuron: 17,
      options: { layer: '3', group: 'TP-' },
    });
    expect(parseRoute('#/detox?examples')).toEqual({
      page: 'detox',
      run: null,
      layer: null,
      neuron: null,
      options: { examples: '' },
    });
    expect(parseRoute('')).toMatchObject({ page: '', run: null });
  });

  it('leaves out a layer or neuron that is not a whole number, and a run whose escape is malformed', () => {
    expect(parseRoute('#/neurons/run/x/17')).toMatchObject({ run: 'run', layer: null, neuron: null });
    expect(parseRoute('#/neurons/run/3/-1')).toMatchObject({ layer: 3, neuron: null });
    expect(parseRoute('#/neurons/%E0%A4%A/3/1')).toMatchObject({ run: null, layer: 3 });
  });

  it('writes addresses that read back to the same run and neuron, whatever the folder name holds', () => {
    const name = 'Demo pair #2 / 24 prompts?&';
    expect(parseRoute(neuronsHref(name, { layer: 19, neuron: 770 }))).toMatchObject({
      page: 'neurons',
      run: name,
      layer: 19,
      neuron: 770,
    });
    expect(neuronsHref('run', null, { layer: 2, group: 'TP-' })).toBe('#/neurons/run?layer=2&group=TP-');
    expect(parseRoute(neuronsHref('run', null, { group: 'AN+' })).options).toEqual({ group: 'AN+' });
    expect(parseRoute(compareHref(name))).toMatchObject({ page: 'compare', run: name, layer: null });
  });

  it('names a run by the last part of its folder, on any platform', () => {
    expect(runName('/home/a/.toxscope/results/compare-1')).toBe('compare-1');
    expect(runName('C:\\\\data\\\\results\\\\compare-2\\\\')).toBe('compare-2');
  });
});

describe('picks remembered per run', () => {
  it('reads back only whole, non-negative row numbers of well-formed entries', () => {
    expect(readStoredPicks({ '/a': [3, 3, 1.5, -1, 'x', 7], '/b': 'nope' })).toEqual({ '/a': [3, 7] });
    expect(readStoredPicks(null)).toEqual({});
    expect(readStoredPicks([1, 2])).toEqual({});
  });

  it('replaces one run’s picks, forgets a run with none, and keeps only the most recently changed runs', () => {
    expect(withPicks({ '/a': [1], '/b': [2] }, '/a', [4, 5])).toEqual({ '/b': [2], '/a': [4, 5] });
    expect(Object.keys(withPicks({ '/a': [1], '/b': [2] }, '/a', [4]))).toEqual(['/b', '/a']);
    expect(withPicks({ '/a': [1] }, '/a', [])).toEqual({});
    let stored = {};
    for (let run = 0; run < rememberedRuns + 5; run++) stored = withPicks(stored, `/run-${run}`, [run]);
    expect(Object.keys(stored)).toHaveLength(rememberedRuns);
    expect(Object.keys(stored)[0]).toBe('/run-5');
  });
});
