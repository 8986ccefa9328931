// The record every shard folder carries (shard.json, issue 18): which run and which shard it is, what must agree
// between the shards of one run, and the command's partial result. Reading a set of shard folders checks that they
// make one whole run: each refusal names the folder at fault and what to do.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isRecord, raise, type ShardedCommand, type ShardSpec } from '../../shared/index.ts';
import { appVersion } from '../app-version.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { shardName } from './shards.ts';

export const shardRecordName = 'shard.json';
/** Bumped when shard.json or the files beside it change shape; shards of another format version do not merge. */
export const shardFormatVersion = 1;

/**
 * What must be equal in every shard of one run, by what a refusal calls it. Only content hashes and settings, never
 * paths: the shards of one run may read the same files from different mount points on different nodes.
 */
export interface ShardIdentity {
  'ToxScope version': { appVersion: string; formatVersion: number; shardFormatVersion: number };
  models: unknown;
  probe?: unknown;
  classifier: unknown;
  /** The prompt set (compare, intervene) or the input folder's documents (detox): hashes and the count of the run. */
  prompts?: unknown;
  inputs?: unknown;
  settings: unknown;
}

export interface ShardRecord<Data = unknown> {
  format: 'toxscope-shard';
  command: ShardedCommand;
  shard: ShardSpec;
  createdAt: string;
  /** Prompts or files of the whole run, and of this shard. */
  items: { total: number; inShard: number };
  identity: ShardIdentity;
  /** What the command needs to merge (its manifest as one run would write it, sums file names, counts, ...). */
  partial: Data;
}

export function writeShardRecord<Data>(folder: string, record: Omit<ShardRecord<Data>, 'format'>): void {
  writeFileAtomic(
    join(folder, shardRecordName),
    `${JSON.stringify({ format: 'toxscope-shard', ...record }, null, 2)}\n`,
  );
}

/** The version fields of every shard identity. */
export function versionIdentity(formatVersion: number): ShardIdentity['ToxScope version'] {
  return { appVersion, formatVersion, shardFormatVersion };
}

/** A shard folder's record, or null when the folder holds none (or one this version cannot read). */
export function readShardRecord(folder: string): ShardRecord | null {
  const path = join(folder, shardRecordName);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (!isRecord(parsed) || parsed.format !== 'toxscope-shard' || !isRecord(parsed.shard) || !isRecord(parsed.identity))
    return null;
  return parsed as unknown as ShardRecord;
}

function requireShardRecord(folder: string): ShardRecord {
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    raise('INPUT_INVALID', `${folder} is not a folder.`, 'Pass the output folders of the shard runs (--out DIR).');
  const record = readShardRecord(folder);
  if (record) return record;
  if (existsSync(join(folder, shardRecordName)))
    raise(
      'INPUT_INVALID',
      `${join(folder, shardRecordName)} is damaged or not a ToxScope shard record.`,
      'Run that shard again into an empty folder.',
    );
  if (existsSync(join(folder, '.partial')) || existsSync(join(folder, 'batch-record.json')))
    raise(
      'INPUT_INVALID',
      `${folder} holds a shard that has not finished.`,
      'Run the same shard command again with the same --out to resume it, then merge.',
    );
  raise(
    'INPUT_INVALID',
    `${folder} is not a shard folder (no ${shardRecordName}).`,
    'Pass the --out folders of runs made with --shard K/N; a run without --shard is already whole.',
  );
}

const article = (command: string) => `${/^[aeiou]/.test(command) ? 'an' : 'a'} ${command}`;

const brief = (value: unknown) => {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
};

/** The first field of `a` and `b` that differs, with both values, for a refusal. */
function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return firstDifference(a[key], b[key], `${path}.${key}`);
  }
  return `${path ? `${path.slice(1)}: ` : ''}${brief(a)} vs ${brief(b)}`;
}

export interface ShardSet {
  command: ShardedCommand;
  count: number;
  total: number;
  /** Ordered by K: folders[K − 1] is shard K. */
  folders: string[];
  records: ShardRecord[];
}

/**
 * Reads and checks the shard folders of one run, in any order: one command, one N, every K from 1 to N exactly once,
 * and the same models, probe, prompts, settings and ToxScope version in all of them.
 */
export function readShardSet(folders: readonly string[]): ShardSet {
  if (folders.length === 0)
    raise('INPUT_INVALID', 'merge needs the shard folders to combine.', 'toxscope merge OUT DIR1 DIR2 …');
  const shards = folders.map((folder) => ({ folder: resolve(folder), record: requireShardRecord(resolve(folder)) }));
  const [first] = shards as [(typeof shards)[0]];
  const describe = (entry: (typeof shards)[0]) => `${entry.folder} (${shardName(entry.record.shard)})`;
  for (const entry of shards) {
    if (entry.record.command !== first.record.command)
      raise(
        'INPUT_INVALID',
        `${describe(entry)} is ${article(entry.record.command)} shard, ${describe(first)} ${article(first.record.command)} shard.`,
        'Merge the shards of one run only.',
      );
    if (entry.record.shard.count !== first.record.shard.count)
      raise(
        'INPUT_INVALID',
        `${describe(entry)} and ${describe(first)} split the run into different numbers of shards.`,
        'Merge the shards of one run only: every shard of it was run with the same N in --shard K/N.',
      );
    for (const key of Object.keys(first.record.identity) as (keyof ShardIdentity)[]) {
      const [mine, theirs] = [entry.record.identity[key], first.record.identity[key]];
      if (JSON.stringify(mine) !== JSON.stringify(theirs))
        raise(
          'INPUT_INVALID',
          `${describe(entry)} was run with other ${key} than ${describe(first)} (${firstDifference(theirs, mine)}).`,
          key === 'ToxScope version'
            ? 'Run every shard of a run with the same ToxScope version (rerun the odd one out), then merge.'
            : `Every shard of a run must use the same ${key}: rerun ${entry.folder} with the options of the others, or leave it out if it belongs to another run.`,
        );
    }
  }
  const count = first.record.shard.count;
  const byIndex = new Map<number, string>();
  for (const { folder, record } of shards) {
    const other = byIndex.get(record.shard.index);
    if (other !== undefined)
      raise(
        'INPUT_INVALID',
        `${other} and ${folder} are both ${shardName(record.shard)}${other === folder ? ' (the folder is named twice)' : ''}.`,
        'Pass each shard once; if one was run twice, keep one of the two folders.',
      );
    byIndex.set(record.shard.index, folder);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((k) => !byIndex.has(k));
  if (missing.length > 0)
    raise(
      'INPUT_INVALID',
      `Shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} of ${count} ${missing.length > 1 ? 'are' : 'is'} missing (got ${shards.length} folder${shards.length > 1 ? 's' : ''}).`,
      `Run the missing shard${missing.length > 1 ? 's' : ''} (--shard K/${count}) and pass every shard folder to merge.`,
    );
  const ordered = Array.from({ length: count }, (_, k) => shards.find((entry) => entry.record.shard.index === k + 1)!);
  return {
    command: first.record.command,
    count,
    total: first.record.items.total,
    folders: ordered.map((entry) => entry.folder),
    records: ordered.map((entry) => entry.record),
  };
}

/** The merge output folder: new, empty, or an earlier merge's output (replaced); never one of the shards. */
export function checkMergeOut(out: string, folders: readonly string[]): void {
  const target = resolve(out);
  if (folders.some((folder) => resolve(folder) === target))
    raise('INPUT_INVALID', `The merge output ${out} is one of the shard folders.`, 'Choose a new folder for OUT.');
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory())
    raise('INPUT_INVALID', `${out} exists and is not a folder.`, 'Choose a new folder for OUT.');
  const entries = readdirSync(target);
  if (entries.length === 0) return;
  const manifest = (() => {
    try {
      return JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')) as unknown;
    } catch {
      return null;
    }
  })();
  if (!isRecord(manifest) || manifest.app !== 'ToxScope' || !Array.isArray(manifest.shards))
    raise(
      'INPUT_INVALID',
      `${out} already holds files (${entries.slice(0, 5).join(', ')}) that are not an earlier merge's.`,
      'Choose a new or empty folder for OUT.',
    );
}

/** The shard folders among the subfolders of `folder`, grouped by run (command and identity). */
export function findShardFolders(folder: string): { folder: string; record: ShardRecord }[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ folder: join(folder, entry.name), record: readShardRecord(join(folder, entry.name)) }))
    .filter((entry): entry is { folder: string; record: ShardRecord } => entry.record !== null);
}

/** A name for a merge output beside the shards: the first shard's folder name without its shard suffix. */
export function suggestedMergeOut(firstShardFolder: string): string {
  const name = basename(firstShardFolder).replace(/[-_.]?shard[-_.]?\d+(?:(?:-of-|_of_|of|[-_/])\d+)?$/i, '');
  return join(dirname(firstShardFolder), `${name || 'run'}-merged`);
}
