// The Results page's view of the saved runs: search (name, description, path), a kind filter and an order, and the
// check that warns when a new label repeats another run's.

import type { ResultEntry, ResultKind } from '../../../src-main/shared/index.ts';

export type ResultsOrder = 'newest' | 'oldest' | 'name';

export interface ResultsView {
  /** Words that must all appear (any case) in the run's name, description or path. */
  query: string;
  kind: ResultKind | 'all';
  order: ResultsOrder;
}

export function visibleResults(entries: readonly ResultEntry[], view: ResultsView): ResultEntry[] {
  const words = view.query.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = entries.filter((entry) => {
    if (view.kind !== 'all' && entry.kind !== view.kind) return false;
    const haystack = `${entry.name}\n${entry.description}\n${entry.path}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
  const time = (entry: ResultEntry) => Date.parse(entry.createdAt);
  if (view.order === 'name') return shown.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return shown.sort((a, b) => (view.order === 'newest' ? time(b) - time(a) : time(a) - time(b)));
}

/** Another run already labelled `name` (trimmed, any case), or null. */
export function runNamed(entries: readonly ResultEntry[], name: string, except: string): ResultEntry | null {
  const wanted = name.trim().toLowerCase();
  if (wanted === '') return null;
  return entries.find((entry) => entry.path !== except && entry.name.trim().toLowerCase() === wanted) ?? null;
}
