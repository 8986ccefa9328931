// A run's generations.jsonl read back for people: the prompts and continuations of a compare run (base and DPO, with
// the classifier's scores when it had one) or of an intervene run (one continuation, probe and classifier scores).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord, raise, type GenerationRow, type GenerationsResult } from '../../shared/index.ts';

const score = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** One line of generations.jsonl, or null when it is neither a compare nor an intervene row. */
export function readGenerationRow(value: unknown): GenerationRow | null {
  if (!isRecord(value)) return null;
  const prompt = text(value.prompt);
  if (prompt === null) return null;
  const [base, dpo, continuation] = [text(value.base), text(value.dpo), text(value.continuation)];
  if (base !== null && dpo !== null)
    return {
      kind: 'compare',
      prompt,
      base,
      dpo,
      baseToxicity: score(value.baseToxicity),
      dpoToxicity: score(value.dpoToxicity),
    };
  if (continuation !== null)
    return {
      kind: 'intervene',
      prompt,
      continuation,
      probeToxicity: score(value.toxicity),
      classifierToxicity: score(value.classifierToxicity),
    };
  return null;
}

/** Every row of `folder`/generations.jsonl; refuses a missing file or a line that is not a generation. */
export function readGenerations(folder: string): GenerationsResult {
  const path = join(folder, 'generations.jsonl');
  if (!existsSync(path))
    raise(
      'INPUT_INVALID',
      `${folder} has no generations.jsonl.`,
      'Open a finished compare or intervene run; an interrupted compare writes it only when it finishes.',
    );
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        raise(
          'INPUT_INVALID',
          `Line ${index + 1} of ${path} is not JSON (${(error as Error).message}).`,
          'Run it again.',
        );
      }
      return (
        readGenerationRow(parsed) ??
        raise(
          'INPUT_INVALID',
          `Line ${index + 1} of ${path} has no prompt with continuations.`,
          'Pick the output folder of a compare or intervene run.',
        )
      );
    });
  return { path, rows };
}
