// A simulated cluster (issue 18): scripts/run-shards.js starts N `toxscope compare --shard K/N` processes at once on
// this machine, as a Slurm array would on N nodes, then `toxscope merge`; the merged folder equals a single run's
// (generations byte for byte, neurons.csv within 1e-6: see compare-merge.test.ts for the tolerance). Also the CLI's
// usage errors for --shard, --in-dir and merge (exit 2), detox --in-dir end to end, and a refused merge naming its
// culprit through the CLI.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src-main/core/files/csv.ts';
import { repoRoot, requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';

const prompts = join(repoRoot, 'resources/demo/prompts.jsonl');
/** The demo MaRCo models, as detox takes them. */
const detoxModels = [
  '--base',
  'demo:bart-base',
  '--expert',
  'demo:bart-expert',
  '--anti-expert',
  'demo:bart-anti-expert',
];
const compareArgs = [
  'compare',
  '--base',
  'demo:gpt2-base',
  '--dpo',
  'demo:gpt2-dpo',
  '--probe',
  'demo:probe',
  '--prompts',
  prompts,
  '--classifier',
  'none',
  '--max-new-tokens',
  '8',
  '--device',
  'cpu',
  '--threads',
  '1',
  '--quiet',
];
let dataDir: string;
let work: string;

beforeAll(() => {
  requireBuild();
  dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cluster-data-'));
  work = mkdtempSync(join(os.tmpdir(), 'toxscope-cluster-'));
});

describe('a simulated cluster', () => {
  it('runs 4 shard processes at once, merges them, and equals a single run', () => {
    const single = runToxscope(dataDir, ...compareArgs, '--out', join(work, 'single'));
    expect(single.status, single.stderr).toBe(0);
    const scheduler = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'scripts/run-shards.js'),
        '--count',
        '4',
        '--merge',
        join(work, 'merged'),
        '--',
        ...compareArgs,
        '--batch',
        '3',
        '--shard',
        '{K}/{N}',
        '--out',
        join(work, 'shard-{K}'),
      ],
      { encoding: 'utf8', env: { ...process.env, TOXSCOPE_DATA_DIR: dataDir } },
    );
    expect(scheduler.status, scheduler.stderr).toBe(0);
    expect(scheduler.stderr).toMatch(/4 shards in [\d.]+ s/);
    expect(scheduler.stderr).toMatch(/merged 4 compare shards \(40 prompts\)/);
    const read = (folder: string, file: string) => readFileSync(join(work, folder, file), 'utf8');
    expect(read('merged', 'generations.jsonl')).toBe(read('single', 'generations.jsonl'));
    const [mine, theirs] = ['merged', 'single'].map((folder) =>
      parseCsv(read(folder, 'neurons.csv')).map((row) => row.record),
    );
    let largest = 0;
    theirs!.slice(1).forEach((row, r) =>
      row.forEach((value, c) => {
        const other = mine![r + 1]![c]!;
        if (theirs![0]![c]!.startsWith('group')) expect(other).toBe(value);
        else largest = Math.max(largest, Math.abs(Number(other) - Number(value)));
      }),
    );
    expect(largest).toBeLessThanOrEqual(1e-6);
    const manifest = JSON.parse(read('merged', 'manifest.json')) as { shards: { index: number }[] };
    expect(manifest.shards.map((shard) => shard.index)).toEqual([1, 2, 3, 4]);
  }, 120_000);

  it('reports a failing shard with its output and does not merge', () => {
    const scheduler = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'scripts/run-shards.js'),
        '--count',
        '2',
        '--merge',
        join(work, 'never'),
        '--',
        ...compareArgs.map((arg) => (arg === prompts ? join(work, 'no-such-prompts.jsonl') : arg)),
        '--shard',
        '{K}/{N}',
        '--out',
        join(work, 'failing-{K}'),
      ],
      { encoding: 'utf8', env: { ...process.env, TOXSCOPE_DATA_DIR: dataDir } },
    );
    expect(scheduler.status).toBe(1);
    expect(scheduler.stderr).toMatch(/shard 1\/2: failed \(exit 2\)/);
    expect(scheduler.stderr).toMatch(/No prompts file at/);
    expect(scheduler.stderr).not.toMatch(/merged/);
  });
});

describe('the CLI for sharded runs', () => {
  it('refuses a bad --shard with exit 2 and says what it takes', () => {
    const run = runToxscope(dataDir, ...compareArgs, '--shard', '5/4', '--out', join(work, 'bad-shard'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--shard must be K\/N with 1 ≤ K ≤ N ≤ 100000, got "5\/4"/);
  });

  it('refuses merge without shard folders, --shard without --in-dir on detox, and --in-dir without --out-dir', () => {
    const merge = runToxscope(dataDir, 'merge', join(work, 'out'));
    expect(merge.status).toBe(2);
    expect(merge.stderr).toMatch(/merge needs the output folder and the shard folders/);
    const shardText = runToxscope(dataDir, 'detox', ...detoxModels, '--text', 'hi', '--shard', '1/2');
    expect(shardText.status).toBe(2);
    expect(shardText.stderr).toMatch(/--shard splits a folder of documents: use it with --in-dir DIR --out-dir DIR/);
    const noOut = runToxscope(dataDir, 'detox', ...detoxModels, '--in-dir', work);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/detox --in-dir DIR needs --out-dir DIR/);
  });

  it('detoxes a folder recursively with detox --in-dir, writes summary.json and manifest.json, and resumes', () => {
    const input = join(work, 'documents');
    mkdirSync(join(input, 'sub'), { recursive: true });
    writeFileSync(join(input, 'one.txt'), 'You are such a stupid idiot, nobody wants you here.\n');
    writeFileSync(join(input, 'sub', 'two.md'), 'Thanks for the help yesterday, it made my week!\n');
    writeFileSync(join(input, 'sub', 'image.png'), 'not a document');
    const out = join(work, 'detoxed');
    const args = ['detox', ...detoxModels, '--in-dir', input, '--out-dir', out, '--device', 'cpu', '--threads', '1'];
    const first = runToxscope(dataDir, ...args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/\[1\/2\] one\.txt: \d of 1 sentences rewritten\n/);
    expect(first.stderr).toMatch(/\[2\/2\] sub\/two\.md: 0 of 1 sentences rewritten\n/);
    expect(first.stderr).toMatch(
      /2 files \(0 failed\): \d of 2 sentences rewritten; toxicity gate: \d rewritten, \d left clean, \d refused/,
    );
    expect(readFileSync(join(out, 'sub', 'two.md'), 'utf8')).toBe('Thanks for the help yesterday, it made my week!\n');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { skipped: string[] };
    expect(summary.skipped).toEqual(['sub/image.png']);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({
      app: 'ToxScope',
      command: 'detox',
      documents: 2,
      recursive: true,
    });
    const again = runToxscope(dataDir, ...args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/\[2\/2\] sub\/two\.md: 0 of 1 sentences rewritten \(done by an earlier run\)/);
  });

  it('refuses a merge with a missing shard with exit 2, naming it', () => {
    const shard = runToxscope(dataDir, ...compareArgs, '--limit', '6', '--shard', '2/3', '--out', join(work, 'lone'));
    expect(shard.status, shard.stderr).toBe(0);
    expect(shard.stderr).toBe('device: cpu\n'); // --quiet keeps only the device line (cli.md: always reported)
    const merge = runToxscope(dataDir, 'merge', join(work, 'lone-merged'), join(work, 'lone'));
    expect(merge.status).toBe(2);
    expect(merge.stderr).toMatch(/Shards 1, 3 of 3 are missing \(got 1 folder\)/);
  });
});
