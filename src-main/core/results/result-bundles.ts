// The results history: the run folders that compare and intervene write under the results folder (and the lab's
// folders of intervene runs, one per lab run), and the output folders of detox batches wherever they are (recorded
// when a batch finishes), listed newest first, opened (summary and per-neuron table), renamed (a label beside the
// files; the folder keeps its path, so `from=DIR` references and resumes stay valid), deleted (only bundles in the
// results folder that no run is writing to) and exported as zip.

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  raise,
  type CompareRequest,
  type CompareSummary,
  type DetoxBatchSummary,
  type InterveneSummary,
  type LabConditionRecord,
  type LabRunCondition,
  type ResultBundle,
  type ResultEntry,
  type ResultExport,
  type ResultKind,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { writeZip } from '../files/zip-writer.ts';
import { userDataDir } from '../app-paths.ts';
import { readNeuronTable } from '../interp/compare-output.ts';
import { failedRunFile, liveRunMarker } from '../interp/run-marker.ts';

const labelFile = 'label.json';

interface Manifest {
  app?: string;
  command?: string;
  createdAt?: string;
  models?: { base?: { reference?: string }; dpo?: { reference?: string } };
  model?: { reference?: string };
  request?: CompareRequest;
  /** An intervene run that is one condition of an interventions-lab run. */
  lab?: LabConditionRecord;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Every file under a folder, depth first, as paths relative to it. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return filesUnder(path).map((file) => join(entry.name, file));
    return entry.isFile() ? [entry.name] : [];
  });
}

function folderBytes(folder: string): number {
  return filesUnder(folder).reduce((sum, file) => sum + statSync(join(folder, file)).size, 0);
}

/** An intervene spec with its folder settings shortened to the folder's name (from=…/compare-2026-…). */
const shortSpec = (spec: string) =>
  spec.replace(/\b(from|positive)=([^,]+)/g, (_, key: string, path: string) => `${key}=…/${basename(path)}`);

const fixed = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(3));

/** A run's classifier toxicity for its description (one mean, or base → DPO); empty without a classifier. */
function classifierNumbers(...means: (number | undefined)[]): string {
  if (means.length === 0 || !means.every((mean) => typeof mean === 'number')) return '';
  return ` · classifier toxicity ${(means as number[]).map((mean) => mean.toFixed(3)).join(' → ')}`;
}

/**
 * The finished conditions of an interventions-lab run (a folder of intervene runs that each record their condition),
 * in the lab table's order, with the time each finished; empty when the folder is not a lab run.
 */
function readLabConditions(path: string): (LabRunCondition & { createdAt: string })[] {
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const out = join(path, entry.name);
      const manifest = readJson<Manifest>(join(out, 'manifest.json'));
      const summary = readJson<InterveneSummary>(join(out, 'summary.json'));
      if (manifest?.app !== 'ToxScope' || manifest.command !== 'intervene' || !manifest.lab || !summary) return [];
      const createdAt = manifest.createdAt ?? statSync(out).mtime.toISOString();
      return [{ condition: manifest.lab, summary, out, model: manifest.model?.reference ?? '?', createdAt }];
    })
    .sort((a, b) => a.condition.index - b.condition.index);
}

/** The history entry of a folder, or null when the folder is not a ToxScope run. */
export function readResultEntry(path: string): ResultEntry | null {
  const manifest = readJson<Manifest>(join(path, 'manifest.json'));
  const label = readJson<{ name?: string }>(join(path, labelFile))?.name;
  const name = typeof label === 'string' && label.trim() !== '' ? label : basename(path);
  /** A finished run's entry: finished when its manifest says, else when its folder was last written. */
  const finished = (kind: ResultKind, description: string, createdAt = manifest?.createdAt): ResultEntry => ({
    path,
    kind,
    name,
    createdAt: createdAt ?? statSync(path).mtime.toISOString(),
    complete: true,
    resume: null,
    running: false,
    description,
    sizeBytes: folderBytes(path),
  });
  if (manifest?.app === 'ToxScope' && manifest.command === 'compare') {
    const summary = readJson<CompareSummary>(join(path, 'summary.json'));
    const models = `${manifest.models?.base?.reference ?? '?'} vs ${manifest.models?.dpo?.reference ?? '?'}`;
    const numbers = summary
      ? ` · ${summary.prompts} prompts · net reduction ${fixed(summary.netReduction)} · TP− ${(100 * summary.groups['TP-'].share).toFixed(1)}%${classifierNumbers(summary.classifier?.base?.mean, summary.classifier?.dpo?.mean)}`
      : ' · summary.json missing';
    return finished('compare', models + numbers);
  }
  if (manifest?.app === 'ToxScope' && manifest.command === 'intervene') {
    const summary = readJson<InterveneSummary>(join(path, 'summary.json'));
    const numbers = summary
      ? ` · ${summary.prompts} prompts · probe toxicity ${fixed(summary.toxicity.probe)}${classifierNumbers(summary.toxicity.classifier?.mean)}${summary.perplexity === null ? '' : ` · perplexity ${fixed(summary.perplexity)}`}`
      : ' · summary.json missing';
    return finished(
      'intervene',
      `${shortSpec(summary?.intervention.spec ?? '?')} on ${manifest.model?.reference ?? '?'}${numbers}`,
    );
  }
  if (manifest?.app === 'ToxScope' && manifest.command === 'detox') {
    const summary = readJson<DetoxBatchSummary>(join(path, 'summary.json'));
    if (summary?.format === 'toxscope-detox-batch') {
      const { files, failed, sentences, rewritten } = summary.totals;
      const failures = failed > 0 ? ` · ${failed} could not be read` : '';
      return finished(
        'detox',
        `Detox of ${files} documents from ${summary.inputFolder} · ${sentences} sentences, ${rewritten} rewritten${failures}`,
      );
    }
  }
  // A compare run that has not finished: running, interrupted, or failed (its error.json says why). One that ended
  // before its first batch has no state.json yet; it is listed too, so its folder can be resumed or deleted.
  const partialDir = join(path, '.partial');
  if (existsSync(partialDir) && statSync(partialDir).isDirectory()) {
    const state = readJson<{ promptsDone?: unknown }>(join(partialDir, 'state.json'));
    const promptsDone = typeof state?.promptsDone === 'number' ? state.promptsDone : 0;
    const request = readJson<CompareRequest>(join(partialDir, 'request.json'));
    const failure = readJson<{ message?: unknown }>(join(partialDir, failedRunFile));
    const running = liveRunMarker(partialDir) !== null;
    const models = request ? ` · ${request.base} vs ${request.dpo}` : '';
    const status = running
      ? `running after ${promptsDone} prompts`
      : typeof failure?.message === 'string'
        ? `failed after ${promptsDone} prompts (${failure.message})`
        : `interrupted after ${promptsDone} prompts`;
    return {
      path,
      kind: 'compare',
      name,
      createdAt: statSync(path).mtime.toISOString(),
      complete: false,
      resume: running ? null : request,
      running,
      description: `${status}${models}`,
      sizeBytes: folderBytes(path),
    };
  }
  const conditions = readLabConditions(path);
  if (conditions.length > 0) {
    const models = [...new Set(conditions.map((condition) => condition.model))].join(' and ');
    const probe = (kind: string) => conditions.find((row) => row.condition.kind === kind)?.summary.toxicity.probe;
    const [base, dpo] = [probe('base'), probe('dpo')];
    const references =
      base === undefined || dpo === undefined ? '' : ` · probe toxicity base ${fixed(base)}, DPO ${fixed(dpo)}`;
    const newest = conditions
      .map((condition) => condition.createdAt)
      .sort()
      .at(-1);
    const count = `${conditions.length} condition${conditions.length === 1 ? '' : 's'}`;
    return finished('lab', `Interventions lab: ${count} on ${models}${references}`, newest);
  }
  return null;
}

/** The file that lists the output folders of finished detox batches (they are wherever the user chose). */
const detoxBatchesFile = () => join(userDataDir(), 'detox-batches.json');

/** The recorded detox batch output folders, oldest first. */
function recordedDetoxBatches(): string[] {
  const recorded = readJson<unknown>(detoxBatchesFile());
  return Array.isArray(recorded) ? recorded.filter((folder): folder is string => typeof folder === 'string') : [];
}

/** Records a finished detox batch's output folder for the results history (each folder once, the newest 500). */
export function recordDetoxBatch(outputFolder: string): void {
  const folders = [...recordedDetoxBatches().filter((folder) => folder !== outputFolder), outputFolder].slice(-500);
  writeFileAtomic(detoxBatchesFile(), JSON.stringify(folders, null, 2) + '\n');
}

/** The runs in `folder`, and the recorded detox batches that are still there, newest first. */
export function listResults(folder: string): ResultEntry[] {
  const inFolder = existsSync(folder)
    ? readdirSync(folder, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(folder, entry.name))
    : [];
  const batches = recordedDetoxBatches().filter((path) => !inFolder.includes(path) && existsSync(path));
  return [...inFolder, ...batches]
    .map((path) => readResultEntry(path))
    .filter((entry): entry is ResultEntry => entry !== null)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The results folder runs started from the app write to; only bundles inside it can be renamed or deleted. */
function insideResultsFolder(path: string): boolean {
  const relativePath = relative(join(userDataDir(), 'results'), resolve(path));
  return relativePath !== '' && !relativePath.startsWith('..') && !isAbsolute(relativePath);
}

function requireEntry(path: string): ResultEntry {
  const entry = existsSync(path) && statSync(path).isDirectory() ? readResultEntry(path) : null;
  if (!entry)
    raise(
      'INPUT_INVALID',
      `${path} is not a ToxScope result folder (no manifest.json from compare or intervene).`,
      'Pick a run from the results list, or the output folder of a finished `toxscope compare` or `intervene`.',
    );
  return entry;
}

export function openResult(path: string): ResultBundle {
  const entry = requireEntry(path);
  if (!entry.complete)
    raise(
      'INPUT_INVALID',
      `${path} holds an interrupted compare run; its results are not written yet.`,
      'Resume it from the results list, then open it.',
    );
  if (entry.kind === 'detox')
    return { kind: 'detox', entry, summary: readJson<DetoxBatchSummary>(join(path, 'summary.json'))! };
  if (entry.kind === 'lab')
    return {
      kind: 'lab',
      entry,
      conditions: readLabConditions(path).map(({ condition, summary, out, model }) => ({
        condition,
        summary,
        out,
        model,
      })),
    };
  const summary = readJson<CompareSummary & InterveneSummary>(join(path, 'summary.json'));
  if (!summary) raise('INPUT_INVALID', `${path}/summary.json is missing or damaged.`, 'Run it again.');
  if (entry.kind === 'intervene') {
    const manifest = readJson<Manifest>(join(path, 'manifest.json'));
    return { kind: 'intervene', entry, summary, model: manifest?.model?.reference ?? '' };
  }
  const manifest = readJson<Manifest>(join(path, 'manifest.json'));
  return { kind: 'compare', entry, summary, request: manifest?.request ?? null, neurons: readNeuronTable(path) };
}

/** A bundle in the results folder that no run is writing to, or a refusal that says why not. */
function requireChangeable(path: string, action: string): ResultEntry {
  const entry = requireEntry(path);
  if (!insideResultsFolder(path))
    raise(
      'INPUT_INVALID',
      `${path} is outside ToxScope's results folder, so it is not ${action} from here.`,
      'Manage folders you chose yourself in your file manager.',
    );
  if (entry.running)
    raise('INPUT_INVALID', `A compare run is still writing to ${path}.`, 'Cancel it or wait for it to finish first.');
  return entry;
}

export function renameResult(path: string, name: string): ResultEntry {
  requireChangeable(path, 'renamed');
  writeFileAtomic(join(path, labelFile), JSON.stringify({ name: name.trim() }) + '\n');
  return requireEntry(path);
}

export function deleteResult(path: string): { deleted: string } {
  requireChangeable(path, 'deleted');
  rmSync(path, { recursive: true, force: true });
  return { deleted: path };
}

/**
 * The zip's file name from the run's label: the characters Windows, macOS or Linux refuse in a file name become "_",
 * at most 120 characters; the run folder's name when nothing usable is left.
 */
export function exportFileName(label: string, folderName: string): string {
  const safe = label
    .replace(/\s+/g, ' ')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
    .replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')
    .slice(0, 120)
    .trim();
  return `${safe || folderName}.zip`;
}

/** Exports a finished bundle as a zip named after its label, whose files sit in one folder named after the run folder. */
export function exportResult(path: string): ResultExport {
  const entry = requireEntry(path);
  if (!entry.complete)
    raise('INPUT_INVALID', `${path} is an interrupted run.`, 'Resume it to the end, then export it.');
  const folderName = basename(path);
  const files = filesUnder(path)
    .filter((file) => !file.startsWith(`.partial${sep}`))
    .map((file) => ({
      name: `${folderName}/${file.split(sep).join('/')}`,
      data: readFileSync(join(path, file)),
      modified: statSync(join(path, file)).mtime,
    }));
  const zip = writeZip(files);
  const fileName = exportFileName(entry.name, folderName);
  return { fileName, base64: Buffer.from(zip).toString('base64'), bytes: zip.length };
}
