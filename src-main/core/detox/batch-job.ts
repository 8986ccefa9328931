// Batch detox: every .txt and .md file of a folder detoxed into an output folder under the same name, with the
// --explain JSON of each in explain/, a summary.json, and a batch record that lets a cancelled or crashed run resume.
// The input folder is never written: the same folder (by identity, through links) is refused, and so is any output
// file this batch did not write itself.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import {
  isRecord,
  raise,
  toAppError,
  type DetoxBatchFile,
  type DetoxBatchFrame,
  type DetoxBatchRequest,
  type DetoxBatchResult,
  type DetoxBatchSummary,
  type DetoxModelFingerprints,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import type { Job } from '../jobs/job.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { detoxDocument, openDetoxEngine, readDocument } from './detox-job.ts';
import { recordDetoxBatch } from '../results/result-bundles.ts';
import { batchTotals, detoxBatchManifest, documentListingSha256, writeDetoxShard } from '../scale-out/detox-shard.ts';
import { shardItems } from '../scale-out/shards.ts';

export const batchRecordName = 'batch-record.json';
export const batchSummaryName = 'summary.json';
export const batchExplainFolder = 'explain';
const documentExtensions = ['.txt', '.md'];

/** What the output folder remembers between runs of one batch. */
interface BatchRecord {
  format: 'toxscope-detox-batch-record';
  version: 1;
  inputFolder: string;
  models: DetoxBatchSummary['models'];
  settings: DetoxBatchRequest['settings'];
  /** The toxicity gate's settings (absent in records from before the gate = none). */
  gate?: DetoxBatchRequest['gate'];
  /** The shard this folder holds (absent: the whole batch). */
  shard?: DetoxBatchRequest['shard'];
  /** name → the file's outcome; only 'done' entries are resumed. */
  files: Record<string, DetoxBatchFile>;
}

function sameFolder(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  if (!existsSync(a) || !existsSync(b)) return false;
  const [statA, statB] = [statSync(a), statSync(b)];
  return statA.dev === statB.dev && statA.ino === statB.ino; // the same folder through a link or another case
}

/**
 * The input folder's documents (sorted) and the other entries, which are left alone. `recursive` (the CLI's
 * --in-dir) also lists the documents of subfolders as relative paths with `/`, leaving out the output folder.
 */
export function listBatchInputs(
  inputFolder: string,
  options: { recursive?: boolean; outputFolder?: string } = {},
): { documents: string[]; skipped: string[] } {
  if (!existsSync(inputFolder) || !statSync(inputFolder).isDirectory())
    raise('INPUT_INVALID', `${inputFolder} is not a folder.`, 'Choose the folder that holds your .txt and .md files.');
  const documents: string[] = [];
  const skipped: string[] = [];
  const visit = (prefix: string) => {
    for (const name of readdirSync(join(inputFolder, prefix)).sort()) {
      const relativeName = prefix ? `${prefix}/${name}` : name;
      const path = join(inputFolder, relativeName);
      const stats = statSync(path);
      if (options.recursive && stats.isDirectory()) {
        if (!options.outputFolder || !sameFolder(path, options.outputFolder)) visit(relativeName);
        continue;
      }
      const isDocument = documentExtensions.includes(extname(name).toLowerCase()) && stats.isFile();
      (isDocument ? documents : skipped).push(relativeName);
    }
  };
  visit('');
  if (documents.length === 0)
    raise(
      'INPUT_INVALID',
      `${inputFolder} holds no .txt or .md files${skipped.length ? ` (only ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''})` : ''}.`,
      'Choose a folder with plain-text (.txt) or Markdown (.md) files; other formats need converting first.',
    );
  return { documents, skipped };
}

/** Refuses an output folder that is the input folder, or that is not a folder. */
export function checkBatchFolders(inputFolder: string, outputFolder: string): void {
  if (sameFolder(inputFolder, outputFolder))
    raise(
      'INPUT_INVALID',
      `The output folder ${outputFolder} is the input folder; batch detox never overwrites its inputs.`,
      'Choose another output folder, e.g. a new folder beside or inside the input folder.',
    );
  if (existsSync(outputFolder) && !statSync(outputFolder).isDirectory())
    raise(
      'INPUT_INVALID',
      `${outputFolder} exists and is not a folder.`,
      'Choose a folder (or a new name) for the output.',
    );
}

function readRecord(outputFolder: string): BatchRecord | null {
  const path = join(outputFolder, batchRecordName);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    raise(
      'INPUT_INVALID',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'Delete it to start the batch afresh (the documents already written stay), or choose an empty output folder.',
    );
  }
  if (!isRecord(parsed) || parsed.format !== 'toxscope-detox-batch-record' || parsed.version !== 1)
    raise('INPUT_INVALID', `${path} is not a ToxScope batch record.`, 'Choose an empty output folder.');
  return parsed as unknown as BatchRecord;
}

/** Why a recorded batch cannot be resumed with this request, or null when it can. */
function recordMismatch(
  record: BatchRecord,
  inputFolder: string,
  models: BatchRecord['models'],
  settings: unknown,
  gate: DetoxBatchRequest['gate'],
  shard: DetoxBatchRequest['shard'],
) {
  if (!sameFolder(record.inputFolder, inputFolder)) return `it was made from ${record.inputFolder}`;
  if (JSON.stringify(record.models) !== JSON.stringify(models)) return 'it was made with other models';
  if (JSON.stringify(record.settings) !== JSON.stringify(settings)) return 'it was made with other settings';
  if (JSON.stringify(record.gate ?? null) !== JSON.stringify(gate ?? null))
    return 'it was made with other toxicity-gate settings';
  if (JSON.stringify(record.shard ?? null) !== JSON.stringify(shard ?? null))
    return record.shard ? `it holds shard ${record.shard.index} of ${record.shard.count}` : 'it holds a whole batch';
  return null;
}

export const detoxBatchJob: Job<DetoxBatchRequest, DetoxBatchFrame, DetoxBatchResult> = async (request, context) => {
  const started = performance.now();
  const inputFolder = resolve(request.inputFolder);
  const outputFolder = resolve(request.outputFolder);
  checkBatchFolders(inputFolder, outputFolder);
  const listing = listBatchInputs(inputFolder, { recursive: request.recursive, outputFolder });
  const { skipped } = listing;
  // With --shard, only the shard's documents (see scale-out/shards.ts); the listing is the whole folder's.
  const documents = shardItems(listing.documents, request.shard);
  const previous = readRecord(outputFolder);
  // A folder with no batch record of ours must be new or empty: its summary.json, explain/ or anything else there
  // would otherwise be overwritten or mixed with this batch's files.
  if (!previous && existsSync(outputFolder) && readdirSync(outputFolder).length > 0)
    raise(
      'INPUT_INVALID',
      `${outputFolder} already holds files (${readdirSync(outputFolder).slice(0, 5).join(', ')}) from something other than a detox batch.`,
      'Choose an empty output folder or a new name; to resume a batch, choose the folder it was writing to.',
    );
  if (previous && !sameFolder(previous.inputFolder, inputFolder))
    raise(
      'INPUT_INVALID',
      `${outputFolder} holds another batch (it was made from ${previous.inputFolder}), so this run cannot resume it.`,
      'Choose an empty output folder, or the same input folder to resume.',
    );
  const written = (name: string) => previous?.files[name]?.status === 'done' && existsSync(join(outputFolder, name));
  const foreign = documents.filter((name) => existsSync(join(outputFolder, name)) && !written(name));
  if (foreign.length > 0)
    raise(
      'INPUT_INVALID',
      `${outputFolder} already holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ` and ${foreign.length - 5} more` : ''}, which this batch did not write; they would be overwritten.`,
      'Choose an empty output folder (or a new name).',
    );

  context.progress({ done: 0, total: documents.length, message: 'Loading the base, expert and anti-expert' });
  const engine = await openDetoxEngine(request);
  const sha256: DetoxModelFingerprints = engine.fingerprints;
  const models = { base: request.base, expert: request.expert, antiExpert: request.antiExpert, sha256 };
  if (previous) {
    const mismatch = recordMismatch(previous, inputFolder, models, request.settings, request.gate, request.shard);
    if (mismatch) {
      await engine.release();
      raise(
        'INPUT_INVALID',
        `${outputFolder} holds another batch (${mismatch}), so this run cannot resume it.`,
        'Choose an empty output folder, or run with the same input folder, models and settings to resume.',
      );
    }
  }
  const record: BatchRecord = {
    format: 'toxscope-detox-batch-record',
    version: 1,
    inputFolder,
    models,
    settings: request.settings,
    gate: request.gate ?? null,
    ...(request.shard ? { shard: request.shard } : {}),
    files: { ...previous?.files },
  };
  const results: DetoxBatchFile[] = [];
  let cancelled = false;
  try {
    for (const [index, name] of documents.entries()) {
      if (context.signal.aborted) {
        cancelled = true;
        break;
      }
      const inputPath = join(inputFolder, name);
      const inputSha256 = sha256File(inputPath);
      const earlier = record.files[name];
      let file: DetoxBatchFile;
      if (written(name) && earlier?.inputSha256 === inputSha256) {
        file = { ...earlier, status: 'resumed' };
      } else {
        const fileStarted = performance.now();
        const base = { name, inputSha256, sentences: 0, rewritten: 0, maskedWords: 0, seconds: 0, gate: null };
        let document: string;
        try {
          document = readDocument(inputPath);
        } catch (error) {
          file = { ...base, status: 'failed', error: toAppError(error) };
          record.files[name] = file;
          writeFileAtomic(join(outputFolder, batchRecordName), `${JSON.stringify(record, null, 2)}\n`);
          results.push(file);
          context.frame({ file, filesDone: index + 1, filesTotal: documents.length });
          continue;
        }
        const detoxed = await detoxDocument(engine, document, {
          settings: request.settings,
          batch: request.batch,
          signal: context.signal,
          onFrame: (frame) =>
            context.progress({
              done: index,
              total: documents.length,
              message: `${name}: ${frame.done} of ${frame.total} sentences (file ${index + 1} of ${documents.length})`,
            }),
        });
        if (detoxed.cancelled) {
          cancelled = true; // a half-done file is not written; resuming redoes it
          break;
        }
        writeFileAtomic(join(outputFolder, name), detoxed.output);
        writeFileAtomic(
          join(outputFolder, batchExplainFolder, `${name}.json`),
          `${JSON.stringify({ settings: { ...request.settings, ...(request.gate ? { gate: request.gate } : {}) }, segments: detoxed.explained }, null, 2)}\n`,
        );
        file = {
          ...base,
          status: 'done',
          sentences: detoxed.segments,
          rewritten: detoxed.explained.filter((segment) => segment.rewrite !== segment.text).length,
          maskedWords: detoxed.explained.reduce(
            (sum, segment) => sum + segment.words.filter((word) => word.masked).length,
            0,
          ),
          seconds: (performance.now() - fileStarted) / 1000,
          error: null,
          gate: detoxed.gate
            ? { rewritten: detoxed.gate.rewritten, clean: detoxed.gate.clean, refused: detoxed.gate.refused }
            : null,
        };
        record.files[name] = file;
        writeFileAtomic(join(outputFolder, batchRecordName), `${JSON.stringify(record, null, 2)}\n`);
      }
      results.push(file);
      context.frame({ file, filesDone: index + 1, filesTotal: documents.length });
      context.progress({
        done: index + 1,
        total: documents.length,
        message: `${index + 1} of ${documents.length} files`,
      });
    }
  } finally {
    await engine.release();
  }
  if (cancelled)
    raise(
      'CANCELLED',
      `Batch cancelled after ${results.length} of ${documents.length} files; ${outputFolder} keeps the finished ones.`,
      'Run the batch again with the same folders and settings to resume where it stopped.',
    );

  const { totals, gateCounts } = batchTotals(results, (performance.now() - started) / 1000);
  const summary: DetoxBatchSummary = {
    format: 'toxscope-detox-batch',
    version: 1,
    inputFolder,
    outputFolder,
    models,
    settings: request.settings,
    files: results,
    totals,
    gate:
      request.gate && engine.gate
        ? { ...request.gate, sha256: engine.gate.sha256, label: engine.gate.label, ...gateCounts }
        : null,
    skipped,
    device: engine.device,
  };
  const seconds = (performance.now() - started) / 1000;
  if (request.shard) {
    writeDetoxShard(outputFolder, {
      shard: request.shard,
      runTotal: listing.documents.length,
      listingSha256: documentListingSha256(inputFolder, listing.documents),
      summary,
      request,
      seconds,
    });
    return { summary, summaryPath: join(outputFolder, 'shard.json') };
  }
  const summaryPath = join(outputFolder, batchSummaryName);
  writeFileAtomic(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(
    join(outputFolder, 'manifest.json'),
    `${JSON.stringify(detoxBatchManifest(summary, request, seconds), null, 2)}\n`,
  );
  recordDetoxBatch(outputFolder); // the Results page lists it, wherever it is
  return { summary, summaryPath };
};
