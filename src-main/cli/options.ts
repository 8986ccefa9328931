// Parsers for command-line option values shared by the commands; each refuses bad input with a UsageError that
// names the flag and the value.

import { resolve } from 'node:path';
import { deviceChoices, maxShardCount, type DeviceChoice, type ShardSpec } from '../shared/index.ts';
import { UsageError } from './usage-error.ts';

export function positiveInteger(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new UsageError(`${flag} must be a positive integer, got "${value}".`);
  return number;
}

export function finiteNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new UsageError(`${flag} must be a number, got "${value}".`);
  return number;
}

export function deviceOption(value: string): DeviceChoice {
  if (!(deviceChoices as readonly string[]).includes(value))
    throw new UsageError(`--device must be one of ${deviceChoices.join(', ')}, got "${value}".`);
  return value as DeviceChoice;
}

export function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined) throw new UsageError(`${command} needs ${flag}.`);
  return value;
}

/** A file path made absolute, or a `demo:` reference kept as it is. */
export function fileOrDemo(path: string): string {
  return path.startsWith('demo:') ? path : resolve(path);
}

/** Paths are made absolute here, so the engine thread and the manifests see the file the user meant. */
export function absolutePath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(path);
}

/** --shard K/N (1 ≤ K ≤ N): which share of the prompts or files this run does (scale-out/shards.ts). */
export function shardOption(value: string | undefined): ShardSpec | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!match || !(index >= 1) || !(count >= 1) || index > count || count > maxShardCount)
    throw new UsageError(
      `--shard must be K/N with 1 ≤ K ≤ N ≤ ${maxShardCount}, got "${value}" (e.g. --shard 3/8; a Kubernetes Indexed Job's 0-based JOB_COMPLETION_INDEX is K − 1).`,
    );
  return { index, count };
}
