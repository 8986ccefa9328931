// Model inspections shared by the Models page's rows and its Add form: a model that loaded once this session is not
// hashed and inspected again on every visit (a new start, or a failed one, inspects again).

import type { ModelInspection, Result } from '../../../src-main/shared/index.ts';
import { jobs } from './jobs.svelte.ts';

const inspected = new Map<string, ModelInspection>();

export async function inspectModel(reference: string): Promise<Result<ModelInspection>> {
  const known = inspected.get(reference);
  if (known) return { ok: true, value: known };
  const outcome = await jobs.run('model:inspect', { model: reference });
  if (outcome.ok) inspected.set(reference, outcome.value);
  return outcome;
}
