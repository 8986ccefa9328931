// The results history as the pages share it: the run folders listed from the engine, the compare run being
// explored (opened from the history or just finished), and the neurons picked in the explorer for patching. The run
// shown last and each run's picks are remembered in localStorage, so a reload comes back to them.

import { SvelteSet } from 'svelte/reactivity';
import type { AppError, MergeResult, ResultBundle, ResultEntry, ShardGroup } from '../../../src-main/shared/index.ts';
import { api } from './api.ts';
import { jobs } from './jobs.svelte.ts';
import { lab } from './lab.svelte.ts';
import { joinPath } from './paths.ts';
import { readStoredPicks, withPicks } from './stored-picks.ts';

const lastRunKey = 'toxscope.lastRun';
const picksKey = 'toxscope.picks';

function storedPicks() {
  try {
    return readStoredPicks(JSON.parse(localStorage.getItem(picksKey) ?? '{}'));
  } catch (error) {
    console.warn('Forgetting unreadable stored picks:', error);
    return {};
  }
}

export type CompareBundle = Extract<ResultBundle, { kind: 'compare' }>;

class ResultsState {
  /** The folder runs started from this window write to (the data folder's results/). */
  folder = $state<string | null>(null);
  /** Newest first; null until first listed. */
  entries = $state.raw<ResultEntry[] | null>(null);
  /** Shard folders of sharded runs (`--shard K/N`) found in the results folder, by run: what "Merge shards" merges. */
  shardGroups = $state.raw<ShardGroup[]>([]);
  error = $state<AppError | null>(null);
  /** The compare run the explorer, the lab and the compare figures show. */
  current = $state.raw<CompareBundle | null>(null);
  /** When the user last chose a run in Results (ms since epoch), so Compare shows it instead of an older run. */
  chosenAt = $state(0);
  /** Flat neuron indices (layer · d_mlp + neuron) picked in the explorer. */
  readonly selection = new SvelteSet<number>();
  /** The run whose picks `selection` holds (set once they are restored, so restoring never overwrites them). */
  #picksOf: string | null = null;

  constructor() {
    // Every change of the picks is remembered for the run they belong to.
    $effect.root(() => {
      $effect(() => {
        const rows = [...this.selection];
        const path = this.current?.entry.path;
        if (!path || path !== this.#picksOf) return;
        localStorage.setItem(picksKey, JSON.stringify(withPicks(storedPicks(), path, rows)));
      });
    });
  }

  /** The results folder, asked of the engine once. */
  async resultsFolder(): Promise<string | null> {
    if (!this.folder) {
      const info = await api.appInfo();
      if (!info.ok) {
        this.error = info.error;
        return null;
      }
      this.folder = info.value.resultsFolder;
    }
    return this.folder;
  }

  /**
   * After a reload: opens the compare run shown last, else the newest finished one (`newest`), unless a run is open.
   * A remembered run that is gone is forgotten.
   */
  async restore(newest = true): Promise<void> {
    if (this.current) return;
    const last = localStorage.getItem(lastRunKey);
    if (last && (await this.open(last))) return;
    if (last) {
      localStorage.removeItem(lastRunKey);
      this.error = null;
    }
    if (!newest) return;
    await this.refresh();
    const found = this.entries?.find((entry) => entry.kind === 'compare' && entry.complete);
    if (found && !this.current) await this.open(found.path);
  }

  /** Opens the run an address names (its folder name in the results folder), unless it is the one open. */
  async openNamed(name: string): Promise<boolean> {
    const folder = await this.resultsFolder();
    if (!folder) return false;
    const path = joinPath(folder, name);
    if (this.current?.entry.path === path) return true;
    return (await this.open(path)) !== null;
  }

  async refresh(): Promise<void> {
    const folder = await this.resultsFolder();
    if (!folder) return;
    const listed = await jobs.run('results:list', { folder });
    if (listed.ok) {
      this.entries = listed.value.results;
      this.shardGroups = listed.value.shardGroups;
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
      if (this.current?.entry.path !== path) {
        this.#picksOf = null;
        this.selection.clear();
        for (const row of storedPicks()[path] ?? []) if (row < opened.value.neurons.count) this.selection.add(row);
        this.#picksOf = path;
      }
      this.current = opened.value;
      localStorage.setItem(lastRunKey, path);
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

  /** Merges a complete shard group into its suggested folder beside the shards; the merged run joins the list. */
  async merge(group: ShardGroup): Promise<MergeResult | null> {
    const merged = await jobs.run('results:merge', { out: group.suggestedOut, shards: group.folders });
    if (!merged.ok) {
      this.error = merged.error;
      return null;
    }
    this.error = null;
    await this.refresh();
    return merged.value;
  }

  async remove(path: string): Promise<void> {
    const deleted = await jobs.run('results:delete', { path });
    if (!deleted.ok) return void (this.error = deleted.error);
    if (this.current?.entry.path === path) this.current = null;
    if (lab.folder === path) lab.forget();
    await this.refresh();
  }
}

export const results = new ResultsState();
