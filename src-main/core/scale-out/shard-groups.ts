// The shard folders the results history finds in a folder, grouped by run (issue 18 §4): what the Results page
// offers to merge, with the shards still missing named.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ShardGroup } from '../../shared/index.ts';
import { findShardFolders, suggestedMergeOut, type ShardRecord } from './shard-record.ts';

/** One line naming a shard group's run for people. */
function describe(record: ShardRecord): string {
  const manifest = (record.partial as { manifest?: Record<string, unknown> }).manifest ?? {};
  const reference = (entry: unknown) => (entry as { reference?: string } | undefined)?.reference ?? '?';
  const models = manifest.models as Record<string, unknown> | undefined;
  const prompts = `${record.items.total} ${record.command === 'detox' ? 'documents' : 'prompts'}`;
  if (record.command === 'compare') {
    // The DPO side as the user named it (a weights file on the base's architecture has the base's reference).
    const request = manifest.request as { dpo?: string } | undefined;
    const dpo = request?.dpo ? basename(request.dpo) : reference(models?.dpo);
    return `compare ${reference(models?.base)} vs ${dpo} · ${prompts}`;
  }
  if (record.command === 'intervene')
    return `intervene ${String((manifest.settings as { intervention?: string } | undefined)?.intervention ?? '?')} on ${reference(manifest.model)} · ${prompts}`;
  return `detox ${String(manifest.inputFolder ?? '?')} · ${prompts}`;
}

/** Whether a folder holds a merge (manifest.json with its shard list) of `count` shards. */
function mergedInto(folder: string, count: number): boolean {
  const path = join(folder, 'manifest.json');
  if (!existsSync(path)) return false;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { shards?: unknown };
    return Array.isArray(manifest.shards) && manifest.shards.length === count;
  } catch {
    return false; // a damaged manifest is not a merge: offer to merge again
  }
}

export function listShardGroups(folder: string): ShardGroup[] {
  const groups = new Map<string, { folder: string; record: ShardRecord }[]>();
  for (const entry of findShardFolders(folder)) {
    const key = createHash('sha256')
      .update(JSON.stringify([entry.record.command, entry.record.shard.count, entry.record.identity]))
      .digest('hex');
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.values()].map((entries) => {
    const sorted = entries.sort((a, b) => a.record.shard.index - b.record.shard.index);
    const first = sorted[0]!;
    const count = first.record.shard.count;
    const present = new Set(sorted.map((entry) => entry.record.shard.index));
    return {
      command: first.record.command,
      description: describe(first.record),
      count,
      folders: sorted.map((entry) => entry.folder),
      missing: Array.from({ length: count }, (_, k) => k + 1).filter((k) => !present.has(k)),
      suggestedOut: suggestedMergeOut(first.folder),
      merged: mergedInto(suggestedMergeOut(first.folder), sorted.length),
    };
  });
}
