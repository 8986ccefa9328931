// The interventions lab's runs, kept outside the page so a run goes on (and its table stays) while the user looks
// at other pages: conditions run one after another as intervene jobs, each saved as a result bundle.

import {
  defaultMaxPromptTokens,
  type AppError,
  type DeviceChoice,
  type InterveneResult,
  type InterveneSummary,
} from '../../../src-main/shared/index.ts';
import { isWeightsFile, recoveredFraction, type LabCondition } from './interventions.ts';
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

class LabState {
  rows = $state<LabRow[]>([]);
  /** The job running now, null between runs. */
  job = $state<JobState | null>(null);
  #stopRequested = false;

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
    const stamp = timestampName('intervene');
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
      row.out = joinPath(plan.resultsFolder, `${stamp}-${index + 1}-${row.condition.kind}`);
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

  /** Cancels the running condition and skips the ones after it. */
  async cancel(): Promise<void> {
    this.#stopRequested = true;
    if (this.job) await jobs.cancel(this.job);
  }
}

export const lab = new LabState();
