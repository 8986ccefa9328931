// The interventions lab's runs, kept outside the page so a run goes on (and its table stays) while the user looks
// at other pages: conditions run one after another as intervene jobs, each saved as a result bundle inside one folder
// per lab run, which Results lists once and reopens (and a reload restores) as this table.

import {
  defaultMaxPromptTokens,
  type AppError,
  type DeviceChoice,
  type InterveneResult,
  type InterveneSummary,
  type LabRunCondition,
} from '../../../src-main/shared/index.ts';
import { conditionKinds, isWeightsFile, recoveredFraction, type LabCondition } from './interventions.ts';
import { jobs, type JobState } from './jobs.svelte.ts';
import { joinPath, timestampName } from './paths.ts';

export type LabRowStatus = 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface LabRow {
  condition: LabCondition;
  status: LabRowStatus;
  summary: InterveneSummary | null;
  out: string | null;
  error: AppError | null;
}

export interface LabPlan {
  conditions: LabCondition[];
  base: string;
  dpo: string;
  probe: string;
  prompts: string;
  limit: number;
  maxNewTokens: number;
  pplText: string;
  f1Data: string;
  /** The toxicity classifier that scores every condition's continuations next to the probe; empty = none. */
  classifier: string;
  resultsFolder: string;
  device: DeviceChoice;
}

/** localStorage key of the lab run shown last, restored after a reload. */
const lastLabKey = 'toxscope.lastLab';

class LabState {
  rows = $state<LabRow[]>([]);
  /** The folder of the lab run the table shows (its conditions' folders are inside), null before the first. */
  folder = $state<string | null>(null);
  /** The job running now, null between runs. */
  job = $state<JobState | null>(null);
  #stopRequested = false;
  #restoring: Promise<void> | null = null;

  get running(): boolean {
    return this.rows.some((row) => row.status === 'running' || row.status === 'waiting');
  }

  /** Probe toxicity of the unmodified base and DPO rows, once both are done. */
  get references(): { base: number; dpo: number } | null {
    const toxicity = (kind: 'base' | 'dpo') =>
      this.rows.find((row) => row.condition.kind === kind && row.summary)?.summary?.toxicity.probe;
    const base = toxicity('base');
    const dpo = toxicity('dpo');
    return base === undefined || dpo === undefined ? null : { base, dpo };
  }

  recovered(row: LabRow): number | null {
    const references = this.references;
    if (!references || !row.summary || row.condition.kind === 'base' || row.condition.kind === 'dpo') return null;
    return recoveredFraction(references.base, references.dpo, row.summary.toxicity.probe);
  }

  async run(plan: LabPlan): Promise<void> {
    this.#stopRequested = false;
    this.rows = plan.conditions.map((condition) => ({
      condition,
      status: 'waiting',
      summary: null,
      out: null,
      error: null,
    }));
    this.folder = joinPath(plan.resultsFolder, timestampName('lab'));
    localStorage.setItem(lastLabKey, this.folder);
    for (const [index, row] of this.rows.entries()) {
      if (this.#stopRequested) {
        row.status = 'cancelled';
        continue;
      }
      const onDpo = row.condition.model === 'dpo';
      const model =
        onDpo && isWeightsFile(plan.dpo)
          ? { model: plan.base, weights: plan.dpo }
          : { model: onDpo ? plan.dpo : plan.base };
      row.status = 'running';
      row.out = joinPath(this.folder, `${index + 1}-${row.condition.kind}`);
      this.job = await jobs.start('interp:intervene', {
        ...model,
        probe: plan.probe,
        prompts: plan.prompts,
        intervention: row.condition.spec,
        // Every condition is scored by the same unmodified base model, so their toxicities compare.
        scorer: plan.base,
        ...(plan.pplText.trim() ? { pplText: plan.pplText.trim() } : {}),
        ...(plan.f1Data.trim() ? { f1Data: plan.f1Data.trim() } : {}),
        // The same classifier for every condition, so its columns compare too.
        ...(plan.classifier.trim() ? { classifier: plan.classifier.trim() } : {}),
        maxNewTokens: plan.maxNewTokens,
        maxPromptTokens: defaultMaxPromptTokens,
        limit: plan.limit,
        batch: 8,
        prependBos: true,
        out: row.out,
        labCondition: { index, ...row.condition },
        device: plan.device,
      });
      if (!this.job) {
        row.status = 'failed';
        row.error = jobs.startError;
        continue;
      }
      await jobs.settled(this.job);
      if (this.job.status === 'done') {
        row.status = 'done';
        row.summary = (this.job.result as InterveneResult).summary;
      } else {
        row.status = this.job.status === 'cancelled' ? 'cancelled' : 'failed';
        row.error = this.job.error;
      }
    }
    this.job = null;
  }

  /** Shows a lab run opened from Results: its finished conditions, in table order. */
  show(folder: string, conditions: LabRunCondition[]): void {
    if (this.running) return;
    this.folder = folder;
    localStorage.setItem(lastLabKey, folder);
    this.rows = conditions.flatMap(({ condition, summary, out }) => {
      const kind = conditionKinds.find((known) => known === condition.kind);
      if (!kind) return [];
      const { label, spec, model } = condition;
      return [{ condition: { kind, label, spec, model }, status: 'done' as const, summary, out, error: null }];
    });
  }

  /** Empties the table of a lab run that was deleted (a run in progress keeps its table). */
  forget(): void {
    if (this.running) return;
    this.rows = [];
    this.folder = null;
    localStorage.removeItem(lastLabKey);
  }

  /**
   * After a reload: the lab run shown last, unless the table already has rows; the pages that ask at once share one
   * read. A run that is gone is forgotten.
   */
  restore(): Promise<void> {
    this.#restoring ??= (async () => {
      const last = localStorage.getItem(lastLabKey);
      if (this.rows.length > 0 || !last) return;
      const opened = await jobs.run('results:open', { path: last });
      if (opened.ok && opened.value.kind === 'lab') this.show(last, opened.value.conditions);
      else localStorage.removeItem(lastLabKey);
    })();
    return this.#restoring;
  }

  /** Cancels the running condition and skips the ones after it. */
  async cancel(): Promise<void> {
    this.#stopRequested = true;
    if (this.job) await jobs.cancel(this.job);
  }
}

export const lab = new LabState();
