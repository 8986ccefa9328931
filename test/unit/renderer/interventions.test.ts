// The lab's conditions become the intervene specs of cli.md §6, and the recovered fraction is computed as defined.

import { describe, expect, it } from 'vitest';
import {
  isWeightsFile,
  labCondition,
  recoveredFraction,
  type LabSettings,
} from '../../../src-renderer/src/lib/interventions.ts';

const settings: LabSettings = {
  topN: 128,
  groups: ['TP-', 'AN-'],
  picked: ['L3N17', 'L0N2'],
  alpha: 0.05,
  beta: 0.5,
  subtractAlpha: 20,
  compareFolder: '/runs/compare-1',
  target: 'base',
};

describe('lab conditions', () => {
  it('turns each condition into its intervene spec and model', () => {
    expect(labCondition('base', settings)).toMatchObject({ spec: 'none', model: 'base' });
    expect(labCondition('dpo', settings)).toMatchObject({ spec: 'none', model: 'dpo' });
    expect(labCondition('ablate', settings).spec).toBe('ablate:top=128');
    expect(labCondition('ablate-positive', settings).spec).toBe('ablate:top=128,positive=/runs/compare-1');
    expect(labCondition('patch-groups', settings).spec).toBe('patch:groups=TP-+AN-,from=/runs/compare-1');
    expect(labCondition('patch-picked', settings).spec).toBe('patch:neurons=L3N17+L0N2,from=/runs/compare-1');
    expect(labCondition('edit', settings).spec).toBe('edit:alpha=0.05,beta=0.5');
    expect(labCondition('subtract', settings).spec).toBe('subtract:alpha=20');
  });

  it('ablates, edits or subtracts on the DPO model when asked, and always patches into the base', () => {
    const onDpo = { ...settings, target: 'dpo' as const };
    expect(labCondition('ablate', onDpo)).toMatchObject({ model: 'dpo', label: 'DPO, top 128 toxic neurons ablated' });
    expect(labCondition('subtract', onDpo).model).toBe('dpo');
    expect(labCondition('patch-groups', onDpo).model).toBe('base');
  });

  it('says why a condition cannot run', () => {
    expect(() => labCondition('patch-groups', { ...settings, compareFolder: null })).toThrow(
      /needs a finished compare run/,
    );
    expect(() => labCondition('patch-picked', { ...settings, picked: [] })).toThrow(/picked in the Neurons table/);
    expect(() => labCondition('patch-groups', { ...settings, groups: [] })).toThrow(/at least one group/);
  });
});

describe('recovered fraction', () => {
  it('is the share of the base→DPO toxicity drop a condition achieves', () => {
    expect(recoveredFraction(2, 1, 1)).toBe(1);
    expect(recoveredFraction(2, 1, 2)).toBe(0);
    expect(recoveredFraction(2, 1, 1.75)).toBeCloseTo(0.25, 12);
    expect(recoveredFraction(2, 1, 2.5)).toBe(-0.5);
    expect(recoveredFraction(1, 1, 0.5)).toBeNull();
    expect(recoveredFraction(1, 2, 0.5)).toBeNull();
  });

  it('tells weights files from model references', () => {
    expect(isWeightsFile('/m/dpo.pt')).toBe(true);
    expect(isWeightsFile('C:\\m\\model.safetensors')).toBe(true);
    expect(isWeightsFile('demo:gpt2-dpo')).toBe(false);
    expect(isWeightsFile('/models/gpt2-medium')).toBe(false);
  });
});
