// Shard assignment (issue 18): every prompt or file in exactly one shard, shards balanced to within one item, the
// merge's inverse mapping, renumbered prompt streams, and the --shard and request guards.

import { describe, expect, it } from 'vitest';
import { inShard, shardItems, shardPrompts, shardRow, shardSize } from '../../../../src-main/core/scale-out/shards.ts';
import { shardOption } from '../../../../src-main/cli/options.ts';
import { UsageError } from '../../../../src-main/cli/usage-error.ts';
import { isMergeRequest, isShardSpec, jobRequestGuards } from '../../../../src-main/shared/index.ts';

async function* records(texts: string[]) {
  for (const [index, text] of texts.entries()) yield { index, text };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('shard assignment', () => {
  it('puts every item in exactly one shard, for every N up to 9 and totals up to 40', () => {
    for (let count = 1; count <= 9; count++)
      for (let total = 0; total <= 40; total++)
        for (let index = 0; index < total; index++) {
          const owners = Array.from({ length: count }, (_, k) => k + 1).filter((k) =>
            inShard(index, { index: k, count }),
          );
          expect(owners, `item ${index} of ${total}, N = ${count}`).toHaveLength(1);
        }
  });

  it('balances shards to within one item and shardSize counts what inShard selects', () => {
    for (let count = 1; count <= 12; count++)
      for (const total of [0, 1, 5, 7, 40, 1199, 100_003]) {
        const sizes = Array.from({ length: count }, (_, k) => shardSize(total, { index: k + 1, count }));
        expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(total);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        if (total <= 1199)
          sizes.forEach((size, k) =>
            expect(
              shardItems(
                Array.from({ length: total }, (_, i) => i),
                { index: k + 1, count },
              ),
            ).toHaveLength(size),
          );
      }
  });

  it('keeps an item in its shard whatever the number of items (stable under --limit and resume)', () => {
    const shard = { index: 3, count: 7 };
    const small = shardItems(
      Array.from({ length: 20 }, (_, i) => i),
      shard,
    );
    const large = shardItems(
      Array.from({ length: 200 }, (_, i) => i),
      shard,
    );
    expect(large.slice(0, small.length)).toEqual(small);
    expect(small).toEqual([2, 9, 16]);
  });

  it('maps each item of the run back to its shard and row (what merge reads)', () => {
    const count = 7;
    const total = 53;
    for (let index = 0; index < total; index++) {
      const { shard, row } = shardRow(index, count);
      const items = shardItems(
        Array.from({ length: total }, (_, i) => i),
        { index: shard, count },
      );
      expect(items[row]).toBe(index);
    }
  });

  it('renumbers a shard’s prompts from 0 and stops at the run’s prompt count', async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `p${i}`);
    expect(await collect(shardPrompts(records(texts), 8, { index: 2, count: 3 }))).toEqual([
      { index: 0, text: 'p1' },
      { index: 1, text: 'p4' },
      { index: 2, text: 'p7' },
    ]);
    expect(await collect(shardPrompts(records(texts), 3, undefined))).toEqual([
      { index: 0, text: 'p0' },
      { index: 1, text: 'p1' },
      { index: 2, text: 'p2' },
    ]);
  });
});

describe('--shard and the request guards', () => {
  it('parses K/N and refuses K = 0, K > N, N = 0 and other shapes with the flag named', () => {
    expect(shardOption('3/8')).toEqual({ index: 3, count: 8 });
    expect(shardOption(undefined)).toBeUndefined();
    for (const bad of ['0/3', '4/3', '1/0', '3', '1/2/3', 'a/b', '-1/3', '1.5/3', '1/100001'])
      expect(() => shardOption(bad), bad).toThrow(UsageError);
    expect(() => shardOption('0/3')).toThrow(/--shard must be K\/N with 1 ≤ K ≤ N/);
  });

  it('accepts a shard on compare, intervene and batch detox requests only when 1 ≤ K ≤ N', () => {
    expect(isShardSpec({ index: 2, count: 2 })).toBe(true);
    expect(isShardSpec({ index: 3, count: 2 })).toBe(false);
    expect(isShardSpec({ index: 0, count: 2 })).toBe(false);
    expect(isShardSpec({ index: 1, count: 2, extra: true })).toBe(false);
    const compare = {
      base: 'demo:gpt2-base',
      dpo: 'demo:gpt2-dpo',
      probe: 'demo:probe',
      prompts: '/p.jsonl',
      maxNewTokens: 20,
      maxPromptTokens: 32,
      batch: 16,
      weightProcessing: 'none',
      prependBos: true,
      out: '/out',
      device: 'cpu',
    };
    expect(jobRequestGuards['interp:compare']({ ...compare, shard: { index: 1, count: 4 } })).toBe(true);
    expect(jobRequestGuards['interp:compare']({ ...compare, shard: { index: 5, count: 4 } })).toBe(false);
    expect(jobRequestGuards['interp:compare']({ ...compare, shard: '1/4' })).toBe(false);
  });

  it('accepts a merge request of an output folder and at least one shard folder', () => {
    expect(isMergeRequest({ out: '/o', shards: ['/a', '/b'] })).toBe(true);
    expect(isMergeRequest({ out: '/o', shards: [] })).toBe(false);
    expect(isMergeRequest({ out: '', shards: ['/a'] })).toBe(false);
    expect(isMergeRequest({ out: '/o', shards: ['/a', 3] })).toBe(false);
  });
});
