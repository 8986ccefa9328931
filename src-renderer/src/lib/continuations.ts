// The continuations view's rows: a compare run's prompts with the base's and the DPO's continuation, and each loaded
// intervention's continuation of the same prompt beside them (matched by line and prompt text), with their scores;
// searched and ordered here so the view only draws.

import type { GenerationRow } from '../../../src-main/shared/index.ts';

/** One continuation and its scores (null: not scored, or the intervention did not run this prompt). */
export interface ContinuationCell {
  text: string | null;
  /** The classifier's toxicity (0–1). */
  classifier: number | null;
  /** The probe's toxicity score (interventions only). */
  probe: number | null;
}

export interface ContinuationRow {
  /** The prompt's line in the run's generations.jsonl (0-based). */
  index: number;
  prompt: string;
  /** Base, DPO, then one cell per intervention, in the columns' order. */
  cells: ContinuationCell[];
}

export interface LoadedIntervention {
  label: string;
  rows: GenerationRow[];
}

export interface ContinuationTable {
  columns: string[];
  rows: ContinuationRow[];
  /** Interventions that ran none of the run's prompts (another prompt set), left out of the columns. */
  unmatched: string[];
}

const empty: ContinuationCell = { text: null, classifier: null, probe: null };

/** The run's rows with each intervention's continuation of the same prompt (same line, same text) beside them. */
export function continuationTable(run: GenerationRow[], interventions: LoadedIntervention[]): ContinuationTable {
  const matching = interventions.map((intervention) => ({
    intervention,
    cells: run.map((row, index): ContinuationCell => {
      const other = intervention.rows[index];
      if (!other || other.kind !== 'intervene' || other.prompt !== row.prompt) return empty;
      return { text: other.continuation, classifier: other.classifierToxicity, probe: other.probeToxicity };
    }),
  }));
  const used = matching.filter(({ cells }) => cells.some((cell) => cell.text !== null));
  return {
    columns: ['Base', 'DPO', ...used.map(({ intervention }) => intervention.label)],
    rows: run.flatMap((row, index) =>
      row.kind === 'compare'
        ? [
            {
              index,
              prompt: row.prompt,
              cells: [
                { text: row.base, classifier: row.baseToxicity, probe: null },
                { text: row.dpo, classifier: row.dpoToxicity, probe: null },
                ...used.map(({ cells }) => cells[index]!),
              ],
            },
          ]
        : [],
    ),
    unmatched: matching.filter((entry) => !used.includes(entry)).map(({ intervention }) => intervention.label),
  };
}

export type ContinuationOrder = 'prompt' | 'base-toxicity' | 'dpo-toxicity' | 'drop';

/**
 * Rows whose prompt or any continuation contains every word of the query (case-insensitive), in the asked order:
 * file order, most toxic base or DPO continuation first, or the largest drop from base to DPO first (unscored last).
 */
export function searchContinuations(
  rows: ContinuationRow[],
  query: string,
  order: ContinuationOrder = 'prompt',
): ContinuationRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found = rows.filter((row) => {
    const haystack = [row.prompt, ...row.cells.map((cell) => cell.text ?? '')].join('\n').toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
  if (order === 'prompt') return found;
  const key = (row: ContinuationRow): number | null => {
    const [base, dpo] = [row.cells[0]?.classifier ?? null, row.cells[1]?.classifier ?? null];
    if (order === 'base-toxicity') return base;
    if (order === 'dpo-toxicity') return dpo;
    return base === null || dpo === null ? null : base - dpo;
  };
  return found
    .map((row) => ({ row, value: key(row) }))
    .sort((a, b) =>
      a.value === null || b.value === null
        ? Number(a.value === null) - Number(b.value === null) || a.row.index - b.row.index
        : b.value - a.value || a.row.index - b.row.index,
    )
    .map(({ row }) => row);
}
