// The neurons picked for patching, remembered per run across reloads: the stored map read back safely, and updated
// with one run's picks (the most recently changed runs kept, so the stored copy stays small).

/** Runs whose picks are remembered; the run changed longest ago is forgotten first. */
export const rememberedRuns = 20;

/** run folder path → picked rows (flat neuron indices, layer · d_mlp + neuron), most recently changed run last. */
export type StoredPicks = Record<string, number[]>;

/** The stored value if it has the right shape, entry by entry (anything else is dropped). */
export function readStoredPicks(value: unknown): StoredPicks {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const picks: StoredPicks = {};
  for (const [path, rows] of Object.entries(value)) {
    if (!Array.isArray(rows)) continue;
    picks[path] = [...new Set(rows.filter((row): row is number => Number.isInteger(row) && row >= 0))];
  }
  return picks;
}

/** The map with `path`'s picks replaced (removed when empty) and moved last, at most `rememberedRuns` runs. */
export function withPicks(stored: StoredPicks, path: string, rows: Iterable<number>): StoredPicks {
  const rest = Object.entries(stored).filter(([other]) => other !== path);
  const picked = [...rows];
  const entries = picked.length > 0 ? [...rest, [path, picked] as const] : rest;
  return Object.fromEntries(entries.slice(-rememberedRuns));
}
