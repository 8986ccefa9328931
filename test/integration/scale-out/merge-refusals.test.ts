// Every refusal of `merge` (issue 18): missing, duplicated and unfinished shards, shards of another N, command,
// models, probe, prompts, settings or ToxScope version, damaged shard files and a bad output folder; each names the
// folder at fault; and the results history's shard groups and merged run. The shards are real compare and intervene
// shards of the tiny GPT-2 fixtures.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { listResults, openResult } from '../../../src-main/core/results/result-bundles.ts';
import { mergeShards } from '../../../src-main/core/scale-out/merge.ts';
import { listShardGroups } from '../../../src-main/core/scale-out/shard-groups.ts';
import {
  toAppError,
  type AppError,
  type CompareFrame,
  type CompareRequest,
  type InterveneRequest,
} from '../../../src-main/shared/index.ts';
import { dpoCheckpoint, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
let baseFolder: string;
/** Shards 1, 2 and 3 of 3 of one compare run. */
let shards: string[];

const temporary = (name: string) => mkdtempSync(join(os.tmpdir(), `toxscope-${name}-`));

function compareRequest(overrides: Partial<CompareRequest> = {}): CompareRequest {
  return {
    base: baseFolder,
    dpo: dpoCheckpoint,
    probe: join(fixtures, 'probe8.json'),
    prompts: join(fixtures, 'prompts.jsonl'),
    maxNewTokens: 4,
    maxPromptTokens: 32,
    batch: 4,
    weightProcessing: 'none',
    prependBos: true,
    out: temporary('shard'),
    device: 'cpu',
    threads: 1,
    ...overrides,
  };
}

async function compareShard(index: number, count: number, overrides: Partial<CompareRequest> = {}) {
  return (
    await compareJob(compareRequest({ shard: { index, count }, ...overrides }), testContext<CompareFrame>().context)
  ).out;
}

async function refusal(folders: string[], out = join(temporary('merge'), 'merged')): Promise<AppError> {
  const error = await mergeShards({ out, shards: folders }).then(
    () => null,
    (thrown: unknown) => toAppError(thrown),
  );
  expect(error, 'the merge should have been refused').not.toBeNull();
  expect(error!.code).toBe('INPUT_INVALID');
  return error!;
}

beforeAll(async () => {
  useTemporaryDataDir();
  baseFolder = tinyGpt2Folder('hub');
  shards = [await compareShard(1, 3), await compareShard(2, 3), await compareShard(3, 3)];
}, 120_000);

describe('merge refuses', () => {
  it('a missing shard, naming which', async () => {
    const error = await refusal([shards[0]!, shards[2]!]);
    expect(error.message).toBe('Shard 2 of 3 is missing (got 2 folders).');
    expect(error.hint).toMatch(/--shard K\/3/);
  });

  it('a shard given twice, and two folders holding the same shard', async () => {
    expect((await refusal([...shards, shards[1]!])).message).toBe(
      `${shards[1]} and ${shards[1]} are both shard 2 of 3 (the folder is named twice).`,
    );
    const copy = join(temporary('copy'), 'shard-2-again');
    cpSync(shards[1]!, copy, { recursive: true });
    expect((await refusal([...shards, copy])).message).toBe(`${shards[1]} and ${copy} are both shard 2 of 3.`);
  });

  it('shards that split the run into different numbers of shards', async () => {
    const other = await compareShard(2, 2);
    const error = await refusal([shards[0]!, other]);
    expect(error.message).toBe(
      `${other} (shard 2 of 2) and ${shards[0]} (shard 1 of 3) split the run into different numbers of shards.`,
    );
  });

  it('a shard of other models', async () => {
    const other = await compareShard(2, 3, { dpo: baseFolder });
    const error = await refusal([shards[0]!, other, shards[2]!]);
    expect(error.message).toMatch(
      new RegExp(
        `^${other} \\(shard 2 of 3\\) was run with other models than ${shards[0]} \\(shard 1 of 3\\) \\(dpo: "`,
      ),
    );
    expect(error.hint).toContain(`rerun ${other} with the options of the others`);
  });

  it('a shard with another probe', async () => {
    const probe = join(temporary('probe'), 'probe8.json');
    const values = JSON.parse(readFileSync(join(fixtures, 'probe8.json'), 'utf8')) as number[];
    writeFileSync(probe, JSON.stringify(values.map((value, i) => (i === 0 ? value + 1 : value))));
    const other = await compareShard(3, 3, { probe });
    expect((await refusal([...shards.slice(0, 2), other])).message).toMatch(
      /^.* \(shard 3 of 3\) was run with other probe than/,
    );
  });

  it('a shard of another prompt set, and one cut by another --limit', async () => {
    const prompts = join(temporary('prompts'), 'prompts.jsonl');
    writeFileSync(prompts, readFileSync(join(fixtures, 'prompts.jsonl'), 'utf8') + '{"prompt": "one more"}\n');
    const other = await compareShard(2, 3, { prompts });
    expect((await refusal([shards[0]!, other, shards[2]!])).message).toMatch(
      /was run with other prompts than .* \(sha256: /,
    );
    const limited = await compareShard(2, 3, { limit: 9 });
    expect((await refusal([shards[0]!, limited, shards[2]!])).message).toMatch(
      /was run with other prompts than .* \(count: 10 vs 9\)/,
    );
  });

  it('a shard with other settings', async () => {
    const other = await compareShard(1, 3, { weightProcessing: 'center' });
    expect((await refusal([other, ...shards.slice(1)])).message).toBe(
      `${shards[1]} (shard 2 of 3) was run with other settings than ${other} (shard 1 of 3) (weightProcessing: "center" vs "none").`,
    );
  });

  it('a shard written by another ToxScope version', async () => {
    const other = join(temporary('version'), 'shard');
    cpSync(shards[2]!, other, { recursive: true });
    const record = JSON.parse(readFileSync(join(other, 'shard.json'), 'utf8')) as {
      identity: { 'ToxScope version': { appVersion: string } };
    };
    record.identity['ToxScope version'].appVersion = '0.0.9';
    writeFileSync(join(other, 'shard.json'), JSON.stringify(record));
    const error = await refusal([...shards.slice(0, 2), other]);
    expect(error.message).toMatch(/was run with other ToxScope version than .* \(appVersion: "0\.1\.0" vs "0\.0\.9"\)/);
    expect(error.hint).toMatch(/same ToxScope version/);
  });

  it('an intervene shard among compare shards', async () => {
    const request: InterveneRequest = {
      model: baseFolder,
      probe: join(fixtures, 'probe8.json'),
      prompts: join(fixtures, 'prompts.jsonl'),
      intervention: 'none',
      maxNewTokens: 4,
      maxPromptTokens: 32,
      batch: 4,
      prependBos: true,
      out: temporary('intervene-shard'),
      device: 'cpu',
      threads: 1,
      shard: { index: 3, count: 3 },
    };
    const other = (await interveneJob(request, testContext<never>().context)).out;
    expect((await refusal([...shards.slice(0, 2), other])).message).toBe(
      `${other} (shard 3 of 3) is an intervene shard, ${shards[0]} (shard 1 of 3) a compare shard.`,
    );
  });

  it('a shard that has not finished, saying to run it again to resume', async () => {
    const out = temporary('unfinished');
    const cancelled = testContext<CompareFrame>((_, controller) => controller.abort());
    await compareJob(compareRequest({ out, shard: { index: 2, count: 3 }, batch: 1 }), cancelled.context).catch(
      () => null,
    );
    const error = await refusal([shards[0]!, out, shards[2]!]);
    expect(error.message).toBe(`${out} holds a shard that has not finished.`);
    expect(error.hint).toMatch(/Run the same shard command again with the same --out to resume it/);
  });

  it('a folder that is not a shard (a whole run) and one that does not exist', async () => {
    const whole = (await compareJob(compareRequest(), testContext<CompareFrame>().context)).out;
    expect((await refusal([whole])).message).toBe(`${whole} is not a shard folder (no shard.json).`);
    expect((await refusal([join(whole, 'nowhere')])).message).toBe(`${join(whole, 'nowhere')} is not a folder.`);
  });

  it('a shard whose continuations were cut short', async () => {
    const damaged = join(temporary('damaged'), 'shard');
    cpSync(shards[1]!, damaged, { recursive: true });
    const lines = readFileSync(join(damaged, 'generations.jsonl'), 'utf8').split('\n');
    writeFileSync(join(damaged, 'generations.jsonl'), lines.slice(0, 1).join('\n') + '\n');
    expect((await refusal([shards[0]!, damaged, shards[2]!])).message).toBe(
      `${join(damaged, 'generations.jsonl')} has fewer lines than shard 2's 3 prompts.`,
    );
  });

  it('an output folder that is a shard, or that holds other files', async () => {
    expect((await refusal(shards, shards[0]!)).message).toMatch(/is one of the shard folders/);
    const busy = temporary('busy');
    mkdirSync(join(busy, 'notes'));
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    expect((await refusal(shards, busy)).message).toMatch(
      /already holds files \(.*keep\.txt.*\) that are not an earlier merge's/,
    );
  });

  it('nothing of the above: the three shards merge, in any order, and merge again over the first merge', async () => {
    const out = join(temporary('merge'), 'merged');
    await mergeShards({ out, shards: [shards[2]!, shards[0]!, shards[1]!] });
    const first = readFileSync(join(out, 'neurons.csv'), 'utf8');
    await mergeShards({ out, shards });
    expect(readFileSync(join(out, 'neurons.csv'), 'utf8')).toBe(first);
  });
});

describe('shards with nothing to do', () => {
  it('merge when N is larger than the prompt count (compare and intervene), into the single run’s continuations', async () => {
    const folders = [await compareShard(1, 3, { limit: 2 }), await compareShard(2, 3, { limit: 2 })];
    folders.push(await compareShard(3, 3, { limit: 2 }));
    expect(readFileSync(join(folders[2]!, 'generations.jsonl'), 'utf8')).toBe('');
    const out = join(temporary('merge'), 'merged');
    await mergeShards({ out, shards: folders });
    const single = (await compareJob(compareRequest({ limit: 2 }), testContext<CompareFrame>().context)).out;
    expect(readFileSync(join(out, 'generations.jsonl'), 'utf8')).toBe(
      readFileSync(join(single, 'generations.jsonl'), 'utf8'),
    );
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ prompts: 2 });

    const intervene = (index: number) =>
      interveneJob(
        {
          model: baseFolder,
          probe: join(fixtures, 'probe8.json'),
          prompts: join(fixtures, 'prompts.jsonl'),
          intervention: 'none',
          limit: 1,
          maxNewTokens: 4,
          maxPromptTokens: 32,
          batch: 4,
          prependBos: true,
          out: temporary('intervene-empty'),
          device: 'cpu',
          threads: 1,
          shard: { index, count: 2 },
        },
        testContext<never>().context,
      );
    const intervened = [(await intervene(1)).out, (await intervene(2)).out];
    const merged = join(temporary('merge'), 'merged');
    await mergeShards({ out: merged, shards: intervened });
    expect(JSON.parse(readFileSync(join(merged, 'summary.json'), 'utf8'))).toMatchObject({ prompts: 1 });
  });
});

describe('intervene --shard refuses', () => {
  it('an edit that needs the mean activations over every prompt', async () => {
    const error = await interveneJob(
      {
        model: baseFolder,
        probe: join(fixtures, 'probe8.json'),
        prompts: join(fixtures, 'prompts.jsonl'),
        intervention: 'edit:alpha=0.1,beta=0.5',
        maxNewTokens: 4,
        maxPromptTokens: 32,
        batch: 4,
        prependBos: true,
        out: temporary('edit-shard'),
        device: 'cpu',
        shard: { index: 1, count: 2 },
      },
      testContext<never>().context,
    ).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error).toMatchObject({ code: 'INPUT_INVALID' });
    expect(error!.message).toMatch(/shard 1 of 2 does not see/);
    expect(error!.hint).toMatch(/from=DIR/);
  });
});

describe('the results history', () => {
  it('groups shard folders by run, names the missing shards, and lists and opens the merged run', async () => {
    const folder = temporary('results');
    shards.forEach((shard, k) => cpSync(shard, join(folder, `tiny-shard-${k + 1}`), { recursive: true }));
    cpSync(await compareShard(2, 2), join(folder, 'other-shard-2'), { recursive: true });
    const groups = listShardGroups(folder).sort((a, b) => a.count - b.count);
    expect(groups.map((group) => [group.command, group.count, group.missing, group.merged])).toEqual([
      ['compare', 2, [1], false],
      ['compare', 3, [], false],
    ]);
    const group = groups[1]!;
    expect(group.folders).toEqual([1, 2, 3].map((k) => join(folder, `tiny-shard-${k}`)));
    expect(group.suggestedOut).toBe(join(folder, 'tiny-merged'));
    expect(group.description).toBe(`compare ${baseFolder} vs dpo.pt · 10 prompts`);
    await mergeShards({ out: group.suggestedOut, shards: group.folders });
    expect(listShardGroups(folder).find((each) => each.count === 3)!.merged).toBe(true);
    const entries = listResults(folder);
    expect(entries.map((entry) => [entry.name, entry.kind, entry.complete])).toEqual([
      ['tiny-merged', 'compare', true],
    ]);
    const bundle = openResult(group.suggestedOut);
    expect(bundle).toMatchObject({ kind: 'compare', summary: { prompts: 10 } });
    expect(bundle.kind === 'compare' && bundle.neurons.count).toBe(2 * 32);
  });
});
