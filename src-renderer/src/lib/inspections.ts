// Model and classifier inspections shared by the Models page's rows and its Add forms: a model that loaded once this
// session is not hashed and inspected again on every visit (a new start, or a failed one, inspects again). The rows
// read them to say which models have the same weights.

import { SvelteMap } from 'svelte/reactivity';
import type { ClassifierInspection, ModelInspection, Result } from '../../../src-main/shared/index.ts';
import { jobs } from './jobs.svelte.ts';

const inspected = new Map<string, ModelInspection>();
/** Inspections under way, so rows asking for the same model at once share one job. */
const pending = new Map<string, Promise<Result<ModelInspection>>>();
/** Each inspected model's weights sha256, reactive: rows read it to name the models with the same weights. */
const weightsSha256 = new SvelteMap<string, string>();

/** The other inspected models whose weights files have the same sha256 (one checkpoint listed twice). */
export function sameWeightsAs(reference: string, sha256: string): string[] {
  return [...weightsSha256].flatMap(([other, hash]) => (other !== reference && hash === sha256 ? [other] : []));
}

export async function inspectModel(reference: string): Promise<Result<ModelInspection>> {
  const known = inspected.get(reference);
  if (known) return { ok: true, value: known };
  let running = pending.get(reference);
  if (!running) {
    running = jobs.run('model:inspect', { model: reference }).then((outcome) => {
      pending.delete(reference);
      if (outcome.ok) {
        inspected.set(reference, outcome.value);
        weightsSha256.set(reference, outcome.value.weights.sha256);
      }
      return outcome;
    });
    pending.set(reference, running);
  }
  return running;
}

const inspectedClassifiers = new Map<string, ClassifierInspection>();

/** A toxicity classifier's inspection, cached like a model's. */
export async function inspectClassifier(reference: string): Promise<Result<ClassifierInspection>> {
  const known = inspectedClassifiers.get(reference);
  if (known) return { ok: true, value: known };
  const outcome = await jobs.run('classifier:inspect', { model: reference });
  if (outcome.ok) inspectedClassifiers.set(reference, outcome.value);
  return outcome;
}
