// Sharded runs (issue 18, cli.md "Detox safety and scale-out"): which share of a run a shard does, the merge request
// that combines shard folders into the files one run writes, and the shard folders the results history offers to merge.

import { isPositiveInteger, isRecord, hasOnlyKeys } from './guards.ts';

/** Shard K of N (1 ≤ K ≤ N), as `--shard K/N` names it; K = `index`, N = `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** More shards than any scheduler array we know of allows (Slurm's MaxArraySize defaults to 1001). */
export const maxShardCount = 100_000;

export function isShardSpec(value: unknown): value is ShardSpec {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['index', 'count']) &&
    isPositiveInteger(value.index) &&
    isPositiveInteger(value.count) &&
    value.count <= maxShardCount &&
    value.index <= value.count
  );
}

/** The commands that shard. */
export type ShardedCommand = 'compare' | 'intervene' | 'detox';

/** `toxscope merge OUT DIR…`: the shard folders of one run, in any order, combined into `out`. */
export interface MergeRequest {
  out: string;
  shards: string[];
}

export interface MergeResult {
  out: string;
  command: ShardedCommand;
  /** N, every shard of the run. */
  shards: number;
  /** Prompts (compare, intervene) or files (detox) of the whole run. */
  items: number;
  /** The files written into `out`, relative to it (documents of a detox batch are counted, not listed). */
  files: string[];
  seconds: number;
}

/** Shard folders of one run found side by side (the results history offers to merge them). */
export interface ShardGroup {
  command: ShardedCommand;
  /** One line for people: the models and the prompt or input set. */
  description: string;
  /** N. */
  count: number;
  /** The finished shard folders, ordered by K. */
  folders: string[];
  /** K of the shards not found (finished) beside them; empty when the group can be merged. */
  missing: number[];
  /** The folder a merge from the results page writes (beside the shards, named after the first). */
  suggestedOut: string;
  /** Whether suggestedOut already holds a merge of these shards (merging again replaces it). */
  merged: boolean;
}

export function isMergeRequest(value: unknown): value is MergeRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['out', 'shards']) &&
    typeof value.out === 'string' &&
    value.out.length > 0 &&
    value.out.length <= 4096 &&
    Array.isArray(value.shards) &&
    value.shards.length > 0 &&
    value.shards.length <= maxShardCount &&
    value.shards.every((shard) => typeof shard === 'string' && shard.length > 0 && shard.length <= 4096)
  );
}
