// Model and classifier inspections shared by the Models page's rows and its Add forms: a model that loaded once this
// session is not hashed and inspected again on every visit (a new start, or a failed one, inspects again).

import type { ClassifierInspection, ModelInspection, Result } from '../../../src-main/shared/index.ts';
import { jobs } from './jobs.svelte.ts';

const inspected = new Map<string, ModelInspection>();

export async function inspectModel(reference: string): Promise<Result<ModelInspection>> {
  const known = inspected.get(reference);
  if (known) return { ok: true, value: known };
  const outcome = await jobs.run('model:inspect', { model: reference });
  if (outcome.ok) inspected.set(reference, outcome.value);
  return outcome;
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
