// Sharded compare (issue 18 "Speed"): the time `toxscope merge` takes for 64 shards of a GPT-2-medium-sized compare
// (target: under 2 s), the overhead a shard adds (process start, model load, session, partial files) measured as the
// shards' summed wall time against one process doing all their prompts, and the projected wall time of 100k prompts
// on N devices from the tokens/s measured here. `npm run bench -- --only merge`; TOXSCOPE_BENCH_DEVICE=cuda on a GPU.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import type { DeviceChoice } from '../../src-main/shared/index.ts';
import type { BenchRow } from './engine-host.bench.ts';
import { mediumFolder } from './gpt2-runtime.bench.ts';

const here = new URL('.', import.meta.url).pathname;
const toxscopeBin = join(here, '../../bin/toxscope.js');

export interface MergeBenchOptions {
  /** The model both sides of the compare load (base = DPO: the same work); default GPT-2-medium shapes. */
  model?: string;
  /** Shards merged (default 64). */
  shards?: number;
  /** Shards run for the overhead measurement, against one process doing their prompts (default 4). */
  overheadShards?: number;
  /** Prompts per shard in the overhead measurement (default 8). */
  promptsPerShard?: number;
  maxNewTokens?: number;
  rounds?: number;
  device?: DeviceChoice;
}

function writePrompts(work: string, count: number): string {
  const path = join(work, 'prompts.jsonl');
  const lines = Array.from({ length: count }, (_, p) =>
    JSON.stringify({ prompt: Array.from({ length: 8 + ((7 * p) % 25) }, () => 'x').join(' ') }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** One toxscope process, timed from the outside. */
function timed(args: string[], dataDir: string): { seconds: number; stderr: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [toxscopeBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOXSCOPE_DATA_DIR: dataDir },
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0)
    throw new Error(`toxscope ${args.join(' ')} failed (exit ${String(run.status)}):\n${run.stderr.slice(-2000)}`);
  return { seconds, stderr: run.stderr };
}

export function benchMerge(
  threads: number,
  log: (line: string) => void,
  options: MergeBenchOptions = {},
): { rows: BenchRow[]; settings: string } {
  const model = options.model ?? mediumFolder();
  const shards = options.shards ?? 64;
  const overheadShards = options.overheadShards ?? 4;
  const promptsPerShard = options.promptsPerShard ?? 8;
  const maxNewTokens = options.maxNewTokens ?? 20;
  const rounds = options.rounds ?? 3;
  const device = options.device ?? ((process.env.TOXSCOPE_BENCH_DEVICE ?? 'cpu') as DeviceChoice);
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-merge-'));
  const dataDir = join(work, 'data');
  try {
    const compare = (prompts: string, out: string, extra: string[] = []) => [
      'compare',
      ...['--base', model, '--dpo', model, '--probe', join(work, 'probe.json'), '--prompts', prompts],
      ...['--classifier', 'none', '--max-new-tokens', String(maxNewTokens), '--batch', '8'],
      ...['--device', device, '--threads', String(threads), '--out', out, ...extra],
    ];
    const dModel = Number(
      JSON.parse(spawnSync(process.execPath, [toxscopeBin, 'inspect', model], { encoding: 'utf8' }).stdout).dModel,
    );
    writeFileSync(join(work, 'probe.json'), JSON.stringify(Array.from({ length: dModel }, (_, d) => Math.sin(d + 1))));

    // Overhead: N shard processes against one process doing the same N × P prompts.
    const overheadPrompts = writePrompts(work, overheadShards * promptsPerShard);
    const whole: number[] = [];
    const sharded: number[] = [];
    let tokensPerSecond = 0;
    for (let round = 0; round < rounds; round++) {
      const single = timed(compare(overheadPrompts, join(work, `whole-${round}`)), dataDir);
      whole.push(single.seconds);
      const manifest = JSON.parse(readFileSync(join(work, `whole-${round}`, 'manifest.json'), 'utf8')) as {
        timings: { generationSeconds: number };
      };
      tokensPerSecond = Math.max(
        tokensPerSecond,
        (2 * overheadShards * promptsPerShard * maxNewTokens) / manifest.timings.generationSeconds,
      );
      let total = 0;
      for (let k = 1; k <= overheadShards; k++)
        total += timed(
          compare(overheadPrompts, join(work, `overhead-${round}-${k}`), ['--shard', `${k}/${overheadShards}`]),
          dataDir,
        ).seconds;
      sharded.push(total);
      log(
        `overhead round ${round + 1}: one process ${single.seconds.toFixed(1)} s, ${overheadShards} shards ${total.toFixed(1)} s`,
      );
    }
    const overheadPerShard = (median(sharded) - median(whole)) / overheadShards;

    // Merge: 64 real shards of one prompt each (the merge reads sums of every neuron whatever the prompts).
    const mergePrompts = writePrompts(work, shards);
    const folders: string[] = [];
    for (let k = 1; k <= shards; k++) {
      const folder = join(work, `shard-${k}`);
      timed(compare(mergePrompts, folder, ['--shard', `${k}/${shards}`, '--max-new-tokens', '2']), dataDir);
      folders.push(folder);
      if (k % 16 === 0) log(`${k} of ${shards} shards written`);
    }
    const merges: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const out = join(work, `merged-${round}`);
      merges.push(timed(['merge', out, ...folders, '--quiet'], dataDir).seconds);
    }
    const mergeSeconds = median(merges);
    log(`merge of ${shards} shards: ${merges.map((value) => value.toFixed(2)).join(', ')} s`);

    const projected = (devices: number) =>
      (100_000 * 2 * maxNewTokens) / tokensPerSecond / devices + Math.max(0, overheadPerShard) + mergeSeconds;
    const rows: BenchRow[] = [
      {
        name: `merge ${shards} shards (one process: start, checks, sums, neurons.csv, summary, generations)`,
        value: mergeSeconds,
        unit: 's',
        baseline: 'issue 18 target',
        baselineValue: 2,
        comparison: mergeSeconds < 2 ? 'under the target' : 'OVER the target',
        note: `median of ${rounds}`,
      },
      {
        name: `overhead per shard (${overheadShards} shards of ${promptsPerShard} prompts vs one process)`,
        value: overheadPerShard,
        unit: 's',
        baseline: 'one process, all prompts',
        baselineValue: median(whole),
        comparison: `${((100 * overheadPerShard * overheadShards) / median(whole)).toFixed(0)}% more in all`,
        note: 'process start, model load, sessions, partial files',
      },
      ...[1, 8, 64].map((devices) => ({
        name: `projected wall time, 100k prompts on ${devices} ${device} device${devices > 1 ? 's' : ''}`,
        value: projected(devices),
        unit: 's' as const,
        baseline: `${tokensPerSecond.toFixed(0)} tokens/s measured (both models)`,
        baselineValue: null,
        comparison: `${(projected(devices) / 3600).toFixed(1)} h`,
        note: 'generation ÷ N + one shard overhead + merge',
      })),
    ];
    return {
      rows,
      settings: `${threads} threads, device ${device}, ${maxNewTokens} new tokens, --batch 8, base = DPO = ${options.model ?? 'GPT-2-medium shapes, random weights'}`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
