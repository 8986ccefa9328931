// What the app remembers between starts, kept by the engine in the user data folder (a browser's own storage would
// be forgotten: the server's port, and so the page's origin, changes every start): the user's models and toxicity
// classifiers (and the names given to models), the default classifier of the detox gate, the device, and the reviewer
// name of detox change logs.

import { defaultToxicityClassifier, type AppError, type DeviceChoice } from '../../../src-main/shared/index.ts';
import { api } from './api.ts';
import { cleanAlias, cleanReviewer, readStoredSettings, type StoredSettings } from './stored-settings.ts';

class Settings {
  /** Language models the user added on the Models page. */
  models = $state<string[]>([]);
  /** Toxicity classifiers the user added on the Models page. */
  classifiers = $state<string[]>([]);
  /** The classifier the detox gate starts with. */
  defaultClassifier = $state(defaultToxicityClassifier);
  /** The execution device every run asks for. */
  device = $state<DeviceChoice>('auto');
  /** The reviewer's name, stamped on detox review decisions and written in change logs; '' = none. */
  reviewer = $state('');
  /** Names the user gave their models (reference → name). */
  aliases = $state<Record<string, string>>({});
  /** Whether the stored copy has been read. */
  loaded = $state(false);
  /** Why the last read or write failed. */
  error = $state<AppError | null>(null);
  #loading: Promise<void> | null = null;

  /** Reads the stored settings once; later calls wait for the same read. */
  load(): Promise<void> {
    this.#loading ??= (async () => {
      const stored = await api.readStore('settings');
      if (stored.ok) Object.assign(this, readStoredSettings(stored.value.value));
      else this.error = stored.error;
      this.loaded = true;
    })();
    return this.#loading;
  }

  async #save(): Promise<void> {
    const value: StoredSettings = {
      models: [...this.models],
      classifiers: [...this.classifiers],
      defaultClassifier: this.defaultClassifier,
      device: this.device,
      reviewer: this.reviewer,
      aliases: { ...this.aliases },
    };
    const written = await api.writeStore('settings', value);
    this.error = written.ok ? null : written.error;
  }

  async addModel(reference: string): Promise<void> {
    if (!this.models.includes(reference)) this.models = [...this.models, reference];
    await this.#save();
  }

  async removeModel(reference: string): Promise<void> {
    this.models = this.models.filter((model) => model !== reference);
    this.aliases = Object.fromEntries(Object.entries(this.aliases).filter(([model]) => model !== reference));
    await this.#save();
  }

  /** Names one of the user's models; an empty name removes it. */
  async setAlias(reference: string, name: string): Promise<void> {
    const alias = cleanAlias(name);
    const others = Object.entries(this.aliases).filter(([model]) => model !== reference);
    this.aliases = Object.fromEntries(alias === '' ? others : [...others, [reference, alias]]);
    await this.#save();
  }

  async addClassifier(reference: string): Promise<void> {
    if (!this.classifiers.includes(reference)) this.classifiers = [...this.classifiers, reference];
    await this.#save();
  }

  /** Removing the default classifier makes the demo classifier the default again. */
  async removeClassifier(reference: string): Promise<void> {
    this.classifiers = this.classifiers.filter((classifier) => classifier !== reference);
    if (this.defaultClassifier === reference) this.defaultClassifier = defaultToxicityClassifier;
    await this.#save();
  }

  async setDefaultClassifier(reference: string): Promise<void> {
    this.defaultClassifier = reference.trim() || defaultToxicityClassifier;
    await this.#save();
  }

  async setReviewer(name: string): Promise<void> {
    this.reviewer = cleanReviewer(name);
    await this.#save();
  }

  async setDevice(device: DeviceChoice): Promise<void> {
    this.device = device;
    await this.#save();
  }
}

export const settings = new Settings();
