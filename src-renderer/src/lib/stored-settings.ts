// The shape of the remembered settings, and how a stored copy is read back safely.

import {
  defaultToxicityClassifier,
  deviceChoices,
  isRecord,
  type DeviceChoice,
} from '../../../src-main/shared/index.ts';

export interface StoredSettings {
  /** Model folders, weights files and `org/name` references the user added, in the order added. */
  models: string[];
  /** Toxicity classifiers the user added (folders, `org/name`, Detoxify .ckpt files), listed apart from models. */
  classifiers: string[];
  /** The classifier the detox gate starts with ("Default toxicity classifier" on the Settings page). */
  defaultClassifier: string;
  /** The execution device every run asks for. */
  device: DeviceChoice;
  /** The reviewer's name, written with each decision in detox change logs; '' = none. */
  reviewer: string;
  /** Names the user gave their models (reference → name), shown beside the path in lists and suggestions. */
  aliases: Record<string, string>;
}

const defaults: StoredSettings = {
  models: [],
  classifiers: [],
  defaultClassifier: defaultToxicityClassifier,
  device: 'auto',
  reviewer: '',
  aliases: {},
};

/** The longest reviewer name kept (a name, not a document). */
export const maxReviewerLength = 200;

/** A reviewer name as stored: trimmed, one line, at most maxReviewerLength characters. */
export function cleanReviewer(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value.replace(/\s+/g, ' ').trim().slice(0, maxReviewerLength);
}

/** The longest model name kept. */
export const maxAliasLength = 80;

/** A model's name as stored: one line, trimmed, at most maxAliasLength characters ('' = no name). */
export function cleanAlias(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value.replace(/\s+/g, ' ').trim().slice(0, maxAliasLength);
}

/** The stored names of models that are still listed; anything malformed is dropped. */
function aliasesOf(value: unknown, models: string[]): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([reference, name]) => {
      const alias = cleanAlias(name);
      return models.includes(reference) && alias !== '' ? [[reference, alias]] : [];
    }),
  );
}

/** Distinct non-empty strings of a stored list, in order; anything else is the default list. */
function references(value: unknown, fallback: string[]): string[] {
  if (!Array.isArray(value)) return [...fallback];
  return [...new Set(value.filter((item): item is string => typeof item === 'string' && item.trim() !== ''))];
}

/** The stored value if it has the right shape (the file may have been edited by hand), field by field. */
export function readStoredSettings(value: unknown): StoredSettings {
  if (!isRecord(value)) return { ...defaults, models: [], classifiers: [], aliases: {} };
  const device = deviceChoices.includes(value.device as DeviceChoice)
    ? (value.device as DeviceChoice)
    : defaults.device;
  const defaultClassifier =
    typeof value.defaultClassifier === 'string' && value.defaultClassifier.trim() !== ''
      ? value.defaultClassifier.trim()
      : defaults.defaultClassifier;
  const models = references(value.models, defaults.models);
  return {
    models,
    classifiers: references(value.classifiers, defaults.classifiers),
    defaultClassifier,
    device,
    reviewer: cleanReviewer(value.reviewer),
    aliases: aliasesOf(value.aliases, models),
  };
}
