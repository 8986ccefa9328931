// Sharded compare runs merge into the files of a single run (issue 18): the demo compare split into N = 1, 2, 3 and 7
// shards, some at other --batch sizes and one interrupted and resumed. Tolerance: N = 1 is byte for byte the single
// run; otherwise generations.jsonl and every group are identical and each number of neurons.csv and summary.json is
// within 1e-6 of the single run's (relative for numbers above 1). The float64 sums add in another order (≈ 1e-16
// relative); what is left is float32 round-off in the activations themselves, which differ in the last bits when a
// prompt shares its batch with other prompts (other left-padding), as between any two --batch sizes. The summary's
// relative activation change is in percent of Δ/mean, which multiplies that round-off by 100 / |mean| for small
// means: its numbers are held to 1e-4.

import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { parseCsv } from '../../../src-main/core/files/csv.ts';
import { mergeShards } from '../../../src-main/core/scale-out/merge.ts';
import { toAppError, type CompareFrame, type CompareRequest } from '../../../src-main/shared/index.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const demoPrompts = new URL('../../../resources/demo/prompts.jsonl', import.meta.url).pathname;
const tolerance = 1e-6;
const percentTolerance = 1e-4;
let single: string;

function request(overrides: Partial<CompareRequest> = {}): CompareRequest {
  return {
    base: 'demo:gpt2-base',
    dpo: 'demo:gpt2-dpo',
    probe: 'demo:probe',
    prompts: demoPrompts,
    classifier: 'demo:classifier',
    maxNewTokens: 20,
    maxPromptTokens: 32,
    batch: 16,
    weightProcessing: 'none',
    prependBos: true,
    out: mkdtempSync(join(os.tmpdir(), 'toxscope-shard-')),
    device: 'cpu',
    threads: 1,
    ...overrides,
  };
}

const read = (folder: string, file: string) => readFileSync(join(folder, file), 'utf8');

/** Runs shards 1..N (batch per shard from `batchOf`), returns their folders in reverse order (merge takes any). */
async function runShards(count: number, batchOf: (k: number) => number = () => 16): Promise<string[]> {
  const folders: string[] = [];
  for (let k = 1; k <= count; k++) {
    const result = await compareJob(
      request({ shard: { index: k, count }, batch: batchOf(k) }),
      testContext<CompareFrame>().context,
    );
    folders.push(result.out);
  }
  return folders.reverse();
}

/** Every number of two JSON values within the tolerance (relative above 1), every string and key equal. */
function expectClose(actual: unknown, expected: unknown, path = 'summary'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    const difference = Math.abs((actual as number) - expected) / Math.max(1, Math.abs(expected));
    const allowed = path.startsWith('summary.relativeActivationChange') ? percentTolerance : tolerance;
    expect(difference, `${path}: ${String(actual)} vs ${expected}`).toBeLessThanOrEqual(allowed);
  } else if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object), path).toEqual(Object.keys(expected));
    for (const [key, value] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else expect(actual, path).toEqual(expected);
}

function expectSameAsSingle(merged: string): void {
  expect(read(merged, 'generations.jsonl')).toBe(read(single, 'generations.jsonl'));
  const [mine, theirs] = [merged, single].map((folder) =>
    parseCsv(read(folder, 'neurons.csv')).map((row) => row.record),
  );
  expect(mine![0]).toEqual(theirs![0]);
  expect(mine).toHaveLength(theirs!.length);
  const header = theirs![0]!;
  let largest = 0;
  for (let row = 1; row < theirs!.length; row++)
    header.forEach((name, column) => {
      const [a, b] = [mine![row]![column]!, theirs![row]![column]!];
      if (name.startsWith('group')) expect(a, `${name} of row ${row}`).toBe(b);
      else largest = Math.max(largest, Math.abs(Number(a) - Number(b)));
    });
  expect(largest, 'largest difference in neurons.csv').toBeLessThanOrEqual(tolerance);
  expectClose(JSON.parse(read(merged, 'summary.json')), JSON.parse(read(single, 'summary.json')));
}

beforeAll(async () => {
  useTemporaryDataDir();
  single = (await compareJob(request(), testContext<CompareFrame>().context)).out;
}, 120_000);

describe('merging compare shards', () => {
  it('gives byte for byte the single run from one shard (N = 1)', async () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-merge-')), 'merged');
    await mergeShards({ out, shards: await runShards(1) });
    for (const file of ['neurons.csv', 'summary.json', 'generations.jsonl'])
      expect(read(out, file), file).toBe(read(single, file));
  });

  it('equals the single run from 2 shards, and lists the shards in manifest.json', async () => {
    const shards = await runShards(2);
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-merge-')), 'merged');
    const result = await mergeShards({ out, shards });
    expect(result).toMatchObject({ command: 'compare', shards: 2, items: 40 });
    expectSameAsSingle(out);
    const manifest = JSON.parse(read(out, 'manifest.json')) as Record<string, unknown> & {
      shards: { index: number; folder: string; items: number }[];
      prompts: { count: number };
    };
    const reference = JSON.parse(read(single, 'manifest.json')) as Record<string, unknown>;
    expect(Object.keys(manifest)).toEqual([...Object.keys(reference), 'shards']);
    expect(manifest).toMatchObject({ command: 'compare', formatVersion: 1, prompts: { count: 40 } });
    expect(manifest.shards.map((shard) => [shard.index, shard.folder, shard.items])).toEqual([
      [1, shards[1], 20],
      [2, shards[0], 20],
    ]);
    expect(manifest).not.toHaveProperty('request.shard');
  });

  it('equals the single run from 3 shards run at --batch 1, 4 and 16', async () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-merge-')), 'merged');
    await mergeShards({ out, shards: await runShards(3, (k) => [1, 4, 16][k - 1]!) });
    expectSameAsSingle(out);
    expect(JSON.parse(read(out, 'manifest.json'))).toMatchObject({ settings: { batch: null } });
  });

  it('equals the single run from 7 shards, one of them cancelled part-way and resumed at another batch', async () => {
    const count = 7;
    const folders: string[] = [];
    for (let k = 1; k <= count; k++) {
      if (k !== 5) {
        const result = await compareJob(request({ shard: { index: k, count } }), testContext<CompareFrame>().context);
        folders.push(result.out);
        continue;
      }
      // Shard 5 has 5 prompts; at --batch 1 it is cancelled after 2, then resumed at --batch 2.
      const out = mkdtempSync(join(os.tmpdir(), 'toxscope-shard-resumed-'));
      const cancelled = testContext<CompareFrame>((frame, controller) => {
        if (frame.promptsDone >= 2) controller.abort();
      });
      const stopped = await compareJob(request({ out, batch: 1, shard: { index: 5, count } }), cancelled.context).then(
        () => null,
        (thrown: unknown) => toAppError(thrown),
      );
      expect(stopped).toMatchObject({ code: 'CANCELLED' });
      const resumed = await compareJob(
        request({ out, batch: 2, shard: { index: 5, count } }),
        testContext<CompareFrame>().context,
      );
      expect(resumed.resumedFrom).toBe(2);
      folders.push(out);
    }
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-merge-')), 'merged');
    await mergeShards({ out, shards: folders });
    expectSameAsSingle(out);
  });

  it('writes a shard folder that is only a partial result (no neurons.csv, summary.json or manifest.json)', async () => {
    const [folder] = await runShards(1);
    for (const file of ['neurons.csv', 'summary.json', 'manifest.json'])
      expect(() => read(folder!, file), file).toThrow(/ENOENT/);
    expect(JSON.parse(read(folder!, 'shard.json'))).toMatchObject({
      format: 'toxscope-shard',
      command: 'compare',
      shard: { index: 1, count: 1 },
      items: { total: 40, inShard: 40 },
    });
  });
});
