// `detox --in-dir --shard K/N` and its merge (issue 18): a shard detoxes its share of the input folder's documents
// (resumable, as every batch) and writes shard.json with its batch summary instead of summary.json; the merge copies
// each shard's documents and explanations into one folder and writes the one summary.json a single batch writes.

import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import {
  raise,
  type DetoxBatchFile,
  type DetoxBatchRequest,
  type DetoxGateCounts,
  type DetoxBatchSummary,
  type ShardSpec,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { shardList } from './compare-merge.ts';
import { versionIdentity, writeShardRecord, type ShardSet } from './shard-record.ts';
import { shardRow, shardSize } from './shards.ts';

/** Bumped when a batch output folder (summary.json, manifest.json, explain/) changes shape. */
export const detoxBatchFormatVersion = 1;
export const detoxExplainFolder = 'explain';
/** batch-job.ts's record of a batch output folder (its name; the record's shape is batch-job.ts's). */
const batchRecordFile = 'batch-record.json';

/** shard.json's `partial` for detox: the shard's batch summary (its files only) and its manifest. */
export interface DetoxShardPartial {
  summary: DetoxBatchSummary;
  manifest: Record<string, unknown>;
}

/**
 * What identifies the input folder's documents without reading them all in every shard: their relative names and
 * sizes (each file's own sha256 is in the summary, checked when a batch resumes).
 */
export function documentListingSha256(inputFolder: string, documents: readonly string[]): string {
  const hash = createHash('sha256');
  for (const name of documents) hash.update(`${name}\0${statSync(join(inputFolder, name)).size}\n`);
  return hash.digest('hex');
}

/** The manifest.json of a batch output folder (single run or merge). */
export function detoxBatchManifest(summary: DetoxBatchSummary, request: DetoxBatchRequest, seconds: number) {
  return {
    app: 'ToxScope',
    appVersion: versionIdentity(detoxBatchFormatVersion).appVersion,
    formatVersion: detoxBatchFormatVersion,
    command: 'detox',
    createdAt: new Date().toISOString(),
    inputFolder: summary.inputFolder,
    outputFolder: summary.outputFolder,
    models: summary.models,
    settings: summary.settings,
    gate: summary.gate
      ? {
          classifier: summary.gate.classifier,
          sha256: summary.gate.sha256,
          label: summary.gate.label ?? null,
          toxicityThreshold: summary.gate.toxicityThreshold,
          maxResamples: summary.gate.maxResamples,
          blocklist: summary.gate.blocklist,
        }
      : null,
    documents: summary.files.length,
    recursive: request.recursive ?? false,
    batch: request.batch,
    device: summary.device,
    timings: { totalSeconds: seconds },
  };
}

export function writeDetoxShard(
  out: string,
  data: {
    shard: ShardSpec;
    runTotal: number;
    listingSha256: string;
    summary: DetoxBatchSummary;
    request: DetoxBatchRequest;
    seconds: number;
  },
): void {
  const { summary, request } = data;
  writeShardRecord<DetoxShardPartial>(out, {
    command: 'detox',
    shard: data.shard,
    createdAt: new Date().toISOString(),
    items: { total: data.runTotal, inShard: summary.files.length },
    identity: {
      'ToxScope version': versionIdentity(detoxBatchFormatVersion),
      models: summary.models.sha256,
      classifier: summary.gate ? { sha256: summary.gate.sha256, label: summary.gate.label ?? null } : null,
      inputs: { documents: data.runTotal, listingSha256: data.listingSha256, recursive: request.recursive ?? false },
      settings: {
        settings: summary.settings,
        gate: summary.gate
          ? {
              toxicityThreshold: summary.gate.toxicityThreshold,
              maxResamples: summary.gate.maxResamples,
              blocklist: summary.gate.blocklist ? sha256File(summary.gate.blocklist) : null,
            }
          : null,
      },
    },
    partial: { summary, manifest: detoxBatchManifest(summary, request, data.seconds) },
  });
}

export async function mergeDetoxShards(set: ShardSet, out: string, started: number): Promise<string[]> {
  const summaries = set.records.map((record) => (record.partial as DetoxShardPartial).summary);
  for (const [k, summary] of summaries.entries()) {
    const expected = shardSize(set.total, { index: k + 1, count: set.count });
    if (summary.files.length !== expected)
      raise(
        'INPUT_INVALID',
        `${set.folders[k]} lists ${summary.files.length} files, shard ${k + 1} of ${set.count} has ${expected}.`,
        'The shard folder is damaged: run that shard again into an empty folder.',
      );
  }
  // [documents], in the input folder's order: file i is entry ⌊i / N⌋ of shard (i mod N) + 1.
  const files: DetoxBatchFile[] = [];
  for (let index = 0; index < set.total; index++) {
    const { shard, row } = shardRow(index, set.count);
    const file = summaries[shard - 1]!.files[row]!;
    const folder = set.folders[shard - 1]!;
    if (file.status !== 'failed')
      for (const name of [file.name, join(detoxExplainFolder, `${file.name}.json`)]) {
        const source = join(folder, name);
        if (!existsSync(source))
          raise(
            'INPUT_INVALID',
            `${source} is missing although the shard's record says it was written.`,
            'The shard folder is damaged: run that shard again with the same --out to redo the file, then merge.',
          );
        mkdirSync(dirname(join(out, name)), { recursive: true });
        copyFileSync(source, join(out, name));
      }
    files.push(file);
  }
  const first = summaries[0]!;
  const { totals, gateCounts } = batchTotals(
    files,
    summaries.reduce((sum, shard) => sum + shard.totals.seconds, 0),
  );
  const summary: DetoxBatchSummary = {
    ...first,
    outputFolder: out,
    files,
    totals,
    gate: first.gate ? { ...first.gate, ...gateCounts } : null,
  };
  writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  // One batch record over every shard's files, as a single run leaves it: running the whole batch into OUT resumes.
  const records = set.folders
    .filter((folder) => existsSync(join(folder, batchRecordFile))) // a shard with no files writes none
    .map((folder) => JSON.parse(readFileSync(join(folder, batchRecordFile), 'utf8')) as Record<string, unknown>);
  const { shard: _, ...record } = records[0]!;
  writeFileAtomic(
    join(out, batchRecordFile),
    `${JSON.stringify({ ...record, files: Object.assign({}, ...records.map((each) => each.files)) as unknown }, null, 2)}\n`,
  );
  const manifest = (set.records[0]!.partial as DetoxShardPartial).manifest;
  writeFileAtomic(
    join(out, 'manifest.json'),
    `${JSON.stringify(
      {
        ...manifest,
        createdAt: new Date().toISOString(),
        outputFolder: out,
        documents: files.length,
        timings: { totalSeconds: summary.totals.seconds, mergeSeconds: (performance.now() - started) / 1000 },
        shards: shardList(set),
      },
      null,
      2,
    )}\n`,
  );
  return ['summary.json', 'manifest.json', batchRecordFile];
}

/** A batch summary's totals over its files (failed files counted apart) and the gate's counts over the finished
 * ones: the same sums for a batch run and for a merge of its shards. */
export function batchTotals(
  files: DetoxBatchFile[],
  seconds: number,
): { totals: DetoxBatchSummary['totals']; gateCounts: DetoxGateCounts } {
  const finished = files.filter((file) => file.status !== 'failed');
  const sum = (value: (file: DetoxBatchFile) => number) => finished.reduce((total, file) => total + value(file), 0);
  return {
    totals: {
      files: finished.length,
      failed: files.length - finished.length,
      sentences: sum((file) => file.sentences),
      rewritten: sum((file) => file.rewritten),
      maskedWords: sum((file) => file.maskedWords),
      seconds,
    },
    gateCounts: {
      rewritten: sum((file) => file.gate?.rewritten ?? 0),
      clean: sum((file) => file.gate?.clean ?? 0),
      refused: sum((file) => file.gate?.refused ?? 0),
    },
  };
}
