// The MaRCo settings as the detox forms edit them: which preset a set of values is, and what is wrong with a value.

import { presets, type DetoxSettings, type PresetName } from '../../../src-main/shared/index.ts';

export const presetLabels: Record<PresetName, string> = { magr: 'MAgr', sbf: 'SBF', dynahate: 'DynaHate' };

/** The preset these settings equal, or 'custom'. */
export function presetOf(settings: DetoxSettings): PresetName | 'custom' {
  const same = (name: PresetName) => JSON.stringify(presets[name]) === JSON.stringify(settings);
  return (Object.keys(presets) as PresetName[]).find(same) ?? 'custom';
}

export type NumericSetting =
  'threshold' | 'alphaBase' | 'alphaExpert' | 'alphaAnti' | 'temperature' | 'repetitionPenalty';

/** What is wrong with one numeric setting, or null. */
export function settingProblem(key: NumericSetting, value: number): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.';
  if ((key === 'temperature' || key === 'repetitionPenalty') && value <= 0) return 'Must be above 0.';
  if (key === 'threshold' && value <= 0) return 'Must be above 0 (1 = the sentence mean).';
  return null;
}

export const numericSettings: { key: NumericSetting; label: string; step: string }[] = [
  { key: 'threshold', label: 'Threshold τ', step: '0.05' },
  { key: 'alphaBase', label: 'α base', step: '0.25' },
  { key: 'alphaExpert', label: 'α expert', step: '0.25' },
  { key: 'alphaAnti', label: 'α anti-expert', step: '0.25' },
  { key: 'temperature', label: 'Temperature T', step: '0.1' },
  { key: 'repetitionPenalty', label: 'Repetition penalty ρ', step: '0.1' },
];

export function settingsValid(settings: DetoxSettings): boolean {
  return numericSettings.every(({ key }) => settingProblem(key, settings[key]) === null);
}
