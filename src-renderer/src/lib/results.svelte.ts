// The results history as the pages share it: the run folders listed from the engine, the compare run being
// explored (opened from the history or just finished), and the neurons picked in the explorer for patching.

import { SvelteSet } from 'svelte/reactivity';
import type { AppError, ResultBundle, ResultEntry } from '../../../src-main/shared/index.ts';
import { api } from './api.ts';
import { jobs } from './jobs.svelte.ts';

export type CompareBundle = Extract<ResultBundle, { kind: 'compare' }>;

class ResultsState {
  /** The folder runs started from this window write to (the data folder's results/). */
  folder = $state<string | null>(null);
  /** Newest first; null until first listed. */
  entries = $state.raw<ResultEntry[] | null>(null);
  error = $state<AppError | null>(null);
  /** The compare run the explorer, the lab and the compare figures show. */
  current = $state.raw<CompareBundle | null>(null);
  /** When the user last chose a run in Results (ms since epoch), so Compare shows it instead of an older run. */
  chosenAt = $state(0);
  /** Flat neuron indices (layer · d_mlp + neuron) picked in the explorer. */
  readonly selection = new SvelteSet<number>();

  async refresh(): Promise<void> {
    if (!this.folder) {
      const info = await api.appInfo();
      if (!info.ok) return void (this.error = info.error);
      this.folder = info.value.resultsFolder;
    }
    const listed = await jobs.run('results:list', { folder: this.folder });
    if (listed.ok) {
      this.entries = listed.value.results;
      this.error = null;
    } else this.error = listed.error;
  }

  /** Opens a run; a compare run becomes the current one. `chosen`: the user picked it in Results. */
  async open(path: string, chosen = false): Promise<ResultBundle | null> {
    const opened = await jobs.run('results:open', { path });
    if (!opened.ok) {
      this.error = opened.error;
      return null;
    }
    this.error = null;
    if (opened.value.kind === 'compare') {
      if (this.current?.entry.path !== path) this.selection.clear();
      this.current = opened.value;
      if (chosen) this.chosenAt = Date.now();
    }
    return opened.value;
  }

  async rename(path: string, name: string): Promise<void> {
    const renamed = await jobs.run('results:rename', { path, name });
    if (!renamed.ok) return void (this.error = renamed.error);
    if (this.current?.entry.path === path) this.current = { ...this.current, entry: renamed.value };
    await this.refresh();
  }

  async remove(path: string): Promise<void> {
    const deleted = await jobs.run('results:delete', { path });
    if (!deleted.ok) return void (this.error = deleted.error);
    if (this.current?.entry.path === path) this.current = null;
    await this.refresh();
  }
}

export const results = new ResultsState();
