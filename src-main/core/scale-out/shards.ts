// Which prompts or files shard K of N does (issue 18): item i (0-based, in file order) belongs to shard (i mod N) + 1.
// Round-robin rather than contiguous ranges: prompt and document sets are often ordered (by source, length or
// toxicity), and striding gives every shard a like mix, so the shards of an array job finish at about the same time;
// an item's shard depends only on its index and N (not on how many items there are), so it never moves when a shard
// resumes. The merge undoes it: item i is line ⌊i / N⌋ of shard (i mod N) + 1.

import type { ShardSpec } from '../../shared/index.ts';
import type { PromptRecord } from '../interp/prompts.ts';

/** Whether item `index` (0-based) belongs to the shard. */
export function inShard(index: number, shard: ShardSpec): boolean {
  return index % shard.count === shard.index - 1;
}

/** How many of `total` items shard K of N does: ⌈(total − K + 1) / N⌉, 0 when K > total. */
export function shardSize(total: number, shard: ShardSpec): number {
  return total < shard.index ? 0 : Math.floor((total - shard.index) / shard.count) + 1;
}

/** The shard's items in order (all of them without a shard). */
export function shardItems<T>(items: readonly T[], shard: ShardSpec | undefined): T[] {
  return shard ? items.filter((_, index) => inShard(index, shard)) : [...items];
}

/** Where item `index` of the whole run is: its shard (1-based K) and its row in that shard's output. */
export function shardRow(index: number, count: number): { shard: number; row: number } {
  return { shard: (index % count) + 1, row: Math.floor(index / count) };
}

/**
 * The first `total` prompts of a stream, only the shard's with a shard, renumbered 0, 1, 2, … in order: a run
 * indexes its own prompts as if the shard's were the whole file, so checkpoints and resume work as in a single run.
 */
export async function* shardPrompts(
  prompts: AsyncIterable<PromptRecord>,
  total: number,
  shard: ShardSpec | undefined,
): AsyncGenerator<PromptRecord> {
  let local = 0;
  for await (const prompt of prompts) {
    if (prompt.index >= total) return;
    if (shard && !inShard(prompt.index, shard)) continue;
    yield { index: local++, text: prompt.text };
  }
}

/** "shard 3 of 8" for messages. */
export const shardName = (shard: ShardSpec) => `shard ${shard.index} of ${shard.count}`;
