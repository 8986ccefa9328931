// Parsing of intervention specs (cli.md §6) and the token F1 metric.

import { describe, expect, it } from 'vitest';
import { parseInterventionSpec } from '../../../src-main/core/interp/intervention-spec.ts';
import { tokenF1 } from '../../../src-main/core/interp/metrics.ts';
import { toAppError } from '../../../src-main/shared/index.ts';

function parseError(spec: string): string {
  try {
    parseInterventionSpec(spec);
  } catch (thrown) {
    return toAppError(thrown).message;
  }
  return 'parsed';
}

describe('intervention specs', () => {
  it('parses every kind of the contract', () => {
    expect(parseInterventionSpec('none')).toEqual({ kind: 'none' });
    expect(parseInterventionSpec('ablate:top=128')).toEqual({ kind: 'ablate', top: 128, positiveFrom: undefined });
    expect(parseInterventionSpec('ablate:top=100,positive=/runs/a')).toEqual({
      kind: 'ablate',
      top: 100,
      positiveFrom: '/runs/a',
    });
    expect(parseInterventionSpec('patch:csv=p.csv')).toEqual({ kind: 'patch-csv', csv: 'p.csv' });
    expect(parseInterventionSpec('patch:groups=TP-+AN-,from=/runs/a')).toEqual({
      kind: 'patch-groups',
      groups: ['TP-', 'AN-'],
      from: '/runs/a',
    });
    expect(parseInterventionSpec('patch:groups=TP↓,from=d')).toMatchObject({ groups: ['TP↓'] });
    expect(parseInterventionSpec('patch:neurons=L19N770+l3n2,from=d')).toEqual({
      kind: 'patch-neurons',
      neurons: [
        { layer: 19, neuron: 770 },
        { layer: 3, neuron: 2 },
      ],
      from: 'd',
    });
    expect(parseInterventionSpec('edit:alpha=0.01,beta=0.55')).toEqual({
      kind: 'edit',
      alpha: 0.01,
      beta: 0.55,
      mode: 'scale',
      from: undefined,
    });
    expect(parseInterventionSpec('edit:alpha=0.05,beta=0.5,mode=mean,from=d')).toMatchObject({
      mode: 'mean',
      from: 'd',
    });
    expect(parseInterventionSpec('edit:alpha=0.05,beta=0.5,toxic=idiot+moron,nontoxic=kind')).toMatchObject({
      toxicWords: ['idiot', 'moron'],
      nonToxicWords: ['kind'],
    });
    expect(parseInterventionSpec('subtract:alpha=50')).toEqual({ kind: 'subtract', alpha: 50, layer: undefined });
    expect(parseInterventionSpec('subtract:alpha=20,layer=23')).toEqual({ kind: 'subtract', alpha: 20, layer: 23 });
    expect(parseInterventionSpec('scale-keys:top=7,factor=10')).toEqual({ kind: 'scale-keys', top: 7, factor: 10 });
  });

  it('says what is wrong with a bad spec', () => {
    expect(parseError('ablate:top=0')).toMatch(/needs top to be a positive integer, got "0"/);
    expect(parseError('ablate:count=5')).toMatch(/unknown setting "count"/);
    expect(parseError('patch:groups=XX,from=d')).toMatch(/unknown group "XX"/);
    expect(parseError('patch:neurons=19.770,from=d')).toMatch(/names "19\.770" where a neuron like L19N770/);
    expect(parseError('patch:neurons=L1N2')).toMatch(/needs from=DIR/);
    expect(parseError('edit:alpha=2,beta=0.5')).toMatch(/alpha to be in \[0, 1\]/);
    expect(parseError('zap:x=1')).toMatch(/unknown kind "zap"/);
    expect(parseError('ablate')).toMatch(/has no kind/);
  });
});

describe('token F1', () => {
  it('counts multiset overlap between prediction and gold', () => {
    expect(tokenF1([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(tokenF1([1, 1, 2], [1, 3])).toBeCloseTo((2 * (1 / 3) * (1 / 2)) / (1 / 3 + 1 / 2), 12);
    expect(tokenF1([4, 5], [1, 2])).toBe(0);
  });
});
