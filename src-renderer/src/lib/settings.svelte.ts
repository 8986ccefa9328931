// What the app remembers between starts, kept by the engine in the user data folder (a browser's own storage would
// be forgotten: the server's port, and so the page's origin, changes every start): the user's models and device.

import type { AppError, DeviceChoice } from '../../../src-main/shared/index.ts';
import { api } from './api.ts';
import { readStoredSettings } from './stored-settings.ts';

class Settings {
  models = $state<string[]>([]);
  device = $state<DeviceChoice>('auto');
  loaded = $state(false);
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
    const written = await api.writeStore('settings', { models: [...this.models], device: this.device });
    this.error = written.ok ? null : written.error;
  }

  async addModel(reference: string): Promise<void> {
    if (!this.models.includes(reference)) this.models = [...this.models, reference];
    await this.#save();
  }

  async removeModel(reference: string): Promise<void> {
    this.models = this.models.filter((model) => model !== reference);
    await this.#save();
  }

  async setDevice(device: DeviceChoice): Promise<void> {
    this.device = device;
    await this.#save();
  }
}

export const settings = new Settings();
