// `toxscope merge OUT DIR…` and the Results page's "Merge shards" (issue 18): checks that the shard folders make one
// whole run, then writes into OUT exactly the files a single run of that command writes.

import { mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MergeRequest, MergeResult } from '../../shared/index.ts';
import type { Job } from '../jobs/job.ts';
import { mergeCompareShards } from './compare-merge.ts';
import { mergeDetoxShards } from './detox-shard.ts';
import { mergeInterveneShards } from './intervene-shard.ts';
import { checkMergeOut, readShardSet } from './shard-record.ts';

export async function mergeShards(request: MergeRequest): Promise<MergeResult> {
  const started = performance.now();
  const out = resolve(request.out);
  const set = readShardSet(request.shards);
  checkMergeOut(out, set.folders);
  mkdirSync(out, { recursive: true });
  const files =
    set.command === 'compare'
      ? await mergeCompareShards(set, out, started)
      : set.command === 'intervene'
        ? await mergeInterveneShards(set, out, started)
        : await mergeDetoxShards(set, out, started);
  return {
    out,
    command: set.command,
    shards: set.count,
    items: set.total,
    files: files.filter((file) => readdirSync(out).includes(file)),
    seconds: (performance.now() - started) / 1000,
  };
}

export const mergeShardsJob: Job<MergeRequest, never, MergeResult> = async (request, context) => {
  context.progress({
    done: 0,
    total: null,
    message: `Merging ${request.shards.length} shard folders into ${request.out}`,
  });
  return mergeShards(request);
};
