// The interventions lab's conditions as intervene specs (cli.md §6), and how much of DPO's toxicity reduction each
// recovers: (toxicity_base − toxicity_condition) / (toxicity_base − toxicity_DPO).

import { groupLabel } from './neuron-table.ts';

/** Every condition the lab runs, in the table's order. */
export const conditionKinds = [
  'base',
  'dpo',
  'ablate',
  'ablate-positive',
  'patch-groups',
  'patch-picked',
  'edit',
  'subtract',
] as const;
export type ConditionKind = (typeof conditionKinds)[number];

export interface LabSettings {
  topN: number;
  groups: string[];
  /** Neuron addresses like L19N770, from the explorer's picks. */
  picked: string[];
  alpha: number;
  beta: number;
  subtractAlpha: number;
  /** The compare run whose groups, means and activation signs patching and positive-only ablation read. */
  compareFolder: string | null;
  /** Which model ablation, editing and subtraction change (patching always writes DPO's means into the base). */
  target: 'base' | 'dpo';
}

export interface LabCondition {
  kind: ConditionKind;
  /** What the table shows. */
  label: string;
  /** The intervene spec; base and DPO run with `none`. */
  spec: string;
  /** Which model runs: the base (interventions emulate DPO on it) or the DPO model itself. */
  model: 'base' | 'dpo';
}

/** The condition for each kind under the settings; throws with a reason people can act on when one cannot run. */
export function labCondition(kind: ConditionKind, settings: LabSettings): LabCondition {
  const target = settings.target;
  const on = target === 'base' ? 'base' : 'DPO';
  const from = () => {
    if (!settings.compareFolder) throw new Error('needs a finished compare run: run one, or open one from Results');
    return settings.compareFolder;
  };
  switch (kind) {
    case 'base':
      return { kind, label: 'base, unmodified', spec: 'none', model: 'base' };
    case 'dpo':
      return { kind, label: 'DPO, unmodified', spec: 'none', model: 'dpo' };
    case 'ablate':
      return {
        kind,
        label: `${on}, top ${settings.topN} toxic neurons ablated`,
        spec: `ablate:top=${settings.topN}`,
        model: target,
      };
    case 'ablate-positive':
      return {
        kind,
        label: `${on}, top ${settings.topN} positively active toxic neurons ablated`,
        spec: `ablate:top=${settings.topN},positive=${from()}`,
        model: target,
      };
    case 'patch-groups':
      if (settings.groups.length === 0) throw new Error('needs at least one group to patch');
      return {
        kind,
        label: `base, ${settings.groups.map(groupLabel).join(' + ')} patched to DPO means`,
        spec: `patch:groups=${settings.groups.join('+')},from=${from()}`,
        model: 'base',
      };
    case 'patch-picked':
      if (settings.picked.length === 0) throw new Error('needs neurons picked in the Neurons table');
      return {
        kind,
        label: `base, ${settings.picked.length} picked neurons patched to DPO means`,
        spec: `patch:neurons=${settings.picked.join('+')},from=${from()}`,
        model: 'base',
      };
    case 'edit':
      return {
        kind,
        label: `${on}, activations edited (α ${settings.alpha}, β ${settings.beta})`,
        spec: `edit:alpha=${settings.alpha},beta=${settings.beta}`,
        model: target,
      };
    case 'subtract':
      return {
        kind,
        label: `${on}, ${settings.subtractAlpha}·ŵ subtracted from the last MLP`,
        spec: `subtract:alpha=${settings.subtractAlpha}`,
        model: target,
      };
  }
}

/**
 * The fraction of DPO's reduction of probe toxicity that a condition recovers: 1 = all of it, 0 = none, negative =
 * more toxic than the base. null when DPO did not reduce toxicity (nothing to recover).
 */
export function recoveredFraction(base: number, dpo: number, condition: number): number | null {
  const reduction = base - dpo;
  if (!(Math.abs(reduction) > 1e-12) || reduction < 0) return null;
  return (base - condition) / reduction;
}

/** A weights file (rather than a model folder or name) by its extension: loaded onto the base's architecture. */
export function isWeightsFile(reference: string): boolean {
  return /\.(pt|bin|safetensors|pth)$/i.test(reference.trim());
}
