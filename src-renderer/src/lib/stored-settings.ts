// The shape of the remembered settings, and how a stored copy is read back safely.

import { deviceChoices, isRecord, type DeviceChoice } from '../../../src-main/shared/index.ts';

export interface StoredSettings {
  /** Model folders, weights files and `org/name` references the user added, in the order added. */
  models: string[];
  /** The execution device every run asks for. */
  device: DeviceChoice;
}

const defaults: StoredSettings = { models: [], device: 'auto' };

/** The stored value if it has the right shape (the file may have been edited by hand), field by field. */
export function readStoredSettings(value: unknown): StoredSettings {
  if (!isRecord(value)) return { ...defaults };
  const models = Array.isArray(value.models)
    ? value.models.filter((model): model is string => typeof model === 'string' && model.trim() !== '')
    : defaults.models;
  const device = deviceChoices.includes(value.device as DeviceChoice)
    ? (value.device as DeviceChoice)
    : defaults.device;
  return { models: [...new Set(models)], device };
}
