// The decoder benchmark (issue 14): ToxScope's generalised decoder runtime against PyTorch eager with forward hooks
// on Llama-3.2-1B-shaped random weights, same machine, same thread count, in one command. Each scenario runs in a
// fresh process per side; three rounds alternate the two sides (each process warms up before it times), and each
// side's medians are compared. PyTorch's OpenBLAS runs the core this CPU supports best (issue 19, torch-baseline.ts).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';
import {
  blasCoreType,
  blasSettings,
  cpuFlags,
  hasTorch,
  lastJson,
  python,
  torchEnv,
  torchMissing,
  waitForMemory,
  warnOnBlasFallback,
  type Measurement,
  pageSettings,
  toxscopeEnv,
} from './torch-baseline.ts';

const here = new URL('.', import.meta.url).pathname;
const roundCount = 3;

export interface DecoderBench {
  rows: BenchRow[];
  /** The settings line of the section: threads, shapes, PyTorch's BLAS core, CPU flags, load. */
  settings: string;
}

/** The Llama-3.2-1B-shaped folder (4.9 GB of float32 weights) and the second "DPO" weights file, made once per machine. */
function llamaFiles(): { folder: string; dpo: string } {
  const folder = join(os.tmpdir(), 'toxscope-bench-llama-3.2-1b');
  const dpo = join(os.tmpdir(), 'toxscope-bench-llama-3.2-1b-dpo.safetensors');
  if (!existsSync(join(folder, 'model.safetensors')) || !existsSync(dpo) || !existsSync(join(folder, 'tokenizer.json')))
    execFileSync(python, [join(here, 'make_llama_1b_random.py'), folder, dpo], { stdio: 'inherit' });
  return { folder, dpo };
}

export function benchDecoder(threads: number, log: (line: string) => void): DecoderBench | null {
  if (!hasTorch()) {
    log(`decoder: PyTorch baseline skipped: ${torchMissing}.`);
    return null;
  }
  const { folder, dpo } = llamaFiles();
  const flags = cpuFlags();
  const coreType = blasCoreType(flags);
  const modelBytes = statSync(join(folder, 'model.safetensors')).size;
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as LlamaShape;
  // Working estimates: one model ≈ 1.3× its float32 weights in ToxScope (measured), PyTorch ≈ 1.1×; two for compare.
  const oneModel = 1.5 * modelBytes;
  const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-decoder-data-'));
  const toxscope = (mode: string, extra: string[] = []): Measurement => {
    waitForMemory(mode === 'compare' || mode === 'prepare' ? 2 * oneModel : oneModel, `ToxScope ${mode}`, log);
    const args = [join(here, 'decoder-ort.bench.ts'), '--folder', folder, '--dpo', dpo];
    const measurement = lastJson(
      execFileSync(
        join(here, '../../node_modules/.bin/tsx'),
        [...args, '--threads', String(threads), '--mode', mode, ...extra],
        {
          encoding: 'utf8',
          env: toxscopeEnv({ TOXSCOPE_DATA_DIR: dataDir }),
          maxBuffer: 64 * 2 ** 20,
        },
      ),
    );
    log(`ToxScope ${mode}: ${JSON.stringify(measurement)}`);
    return measurement;
  };
  const pytorch = (mode: string, extra: string[] = []): Measurement => {
    waitForMemory(mode === 'compare' ? 2 * oneModel : oneModel, `PyTorch ${mode}`, log);
    const args = [join(here, 'decoder_torch_bench.py'), '--folder', folder, '--dpo', dpo];
    const measurement = lastJson(
      execFileSync(python, [...args, '--threads', String(threads), '--mode', mode, ...extra], {
        encoding: 'utf8',
        env: torchEnv(coreType),
      }),
    );
    log(`PyTorch ${mode}: ${JSON.stringify(measurement)}`);
    warnOnBlasFallback(measurement, coreType, log);
    return measurement;
  };
  /**
   * Three rounds, ToxScope's processes (`ours`, one per mode, their measurements merged; each peak RSS kept as
   * `peakRssBytes:<mode>`) then PyTorch's; each side's numbers as medians over the rounds (peak RSS: the largest).
   */
  const alternate = (ours: string[], theirs: string, extra: string[] = [], theirsExtra = extra): Alternated => {
    const runs: { ours: Measurement; theirs: Measurement }[] = [];
    for (let round = 1; round <= roundCount; round++) {
      log(`decoder ${theirs}: round ${round} of ${roundCount}, ToxScope then PyTorch`);
      const merged: Measurement = {};
      for (const mode of ours) {
        const { peakRssBytes, ...rest } = toxscope(mode, extra);
        Object.assign(merged, rest, { [`peakRssBytes:${mode}`]: Number(peakRssBytes) });
      }
      runs.push({ ours: merged, theirs: pytorch(theirs, theirsExtra) });
    }
    const summarise = (side: 'ours' | 'theirs'): Measurement =>
      Object.fromEntries(
        Object.entries(runs[0]![side]).map(([key, value]) => {
          if (typeof value !== 'number') return [key, value];
          const values = runs.map((run) => Number(run[side][key]));
          return [key, key.startsWith('peakRssBytes') ? Math.max(...values) : median(values)];
        }),
      );
    return { ours: summarise('ours'), theirs: summarise('theirs'), runs };
  };

  try {
    const loadBefore = os.loadavg()[0]!;
    log('decoder: first use (both weights files hashed, five graphs built), not counted');
    const prepared = toxscope('prepare');
    log('decoder: forward 1×32 and 8×128 with all 16 mlp.hook_post captured, then the GEMM ceiling');
    const forward = alternate(['forward-none', 'forward-all', 'forward-once'], 'forward');
    log('decoder: greedy generation, 20 tokens, last-position hook_post every step, batch 1 and 16');
    const generation = alternate(['generate'], 'generate');
    log('decoder: PyTorch compare at batch 16 and 32, to run it at its best batch');
    const torchBatches = [16, 32].map((batch) => ({
      batch,
      seconds: Number(pytorch('compare', ['--prompts', '32', '--batch', String(batch)]).compareSeconds),
    }));
    const torchBatch = torchBatches.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    log(
      `decoder: compare job, 32 prompts × 20 tokens × 2 models; ToxScope at its default batch, PyTorch at ${torchBatch.batch}`,
    );
    const compare = alternate(
      ['compare'],
      'compare',
      ['--prompts', '32'],
      ['--prompts', '32', '--batch', String(torchBatch.batch)],
    );
    const loadAfter = os.loadavg()[0]!;
    return {
      rows: rowsOf({ forward, generation, compare, torchBatches, prepared, modelBytes, config }),
      settings: settingsOf(threads, generation.theirs, coreType, flags, modelBytes, loadBefore, loadAfter),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true }); // its graphs hard-link 4.9 GB files: leave none behind
  }
}

/** The config.json fields the FLOP counts need. */
interface LlamaShape {
  num_hidden_layers: number;
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
}

/**
 * FLOPs of a forward over `tokens` positions attending to `keys` positions, without logits: per token and layer
 * 2·(Q, K, V, O projections + the three MLP matrices), plus 4·keys·n_heads·d_head for scores and mixing.
 */
function forwardFlops(shape: LlamaShape, tokens: number, keys: number): number {
  const { hidden_size: d, intermediate_size: dMlp, num_attention_heads: heads, num_key_value_heads: kvHeads } = shape;
  const width = heads * shape.head_dim;
  const perLayer = 2 * (d * width + 2 * d * kvHeads * shape.head_dim + width * d + 3 * d * dMlp) + 4 * keys * width;
  return tokens * shape.num_hidden_layers * perLayer;
}

/** One scenario's three rounds, and each side's medians over them. */
interface Alternated {
  ours: Measurement;
  theirs: Measurement;
  runs: { ours: Measurement; theirs: Measurement }[];
}

const met = (ok: boolean) => (ok ? 'met' : 'missed');
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

function rowsOf(results: {
  forward: Alternated;
  generation: Alternated;
  compare: Alternated;
  /** PyTorch's compare at each batch tried, the fastest one alternated with ToxScope's. */
  torchBatches: { batch: number; seconds: number }[];
  prepared: Measurement;
  modelBytes: number;
  config: LlamaShape;
}): BenchRow[] {
  const { forward, generation, compare, torchBatches, prepared, modelBytes, config } = results;
  const n = (measurement: Measurement, key: string) => Number(measurement[key]);
  const torchName = `PyTorch ${String(generation.theirs.torch)} eager + forward hooks`;
  const timeRow = (
    name: string,
    ours: [Alternated, string],
    theirs: string,
    baseline: string,
    note: string,
    unit: 'ms' | 's' = 'ms',
  ): BenchRow => {
    const scale = unit === 's' ? 1 / 1000 : 1;
    const value = n(ours[0].ours, ours[1]) * scale;
    const baselineValue = n(ours[0].theirs, theirs) * scale;
    return { name, value, unit, baseline, baselineValue, comparison: speedup(value, baselineValue), note };
  };
  /** Each round's speed-up: PyTorch / ToxScope for times, ToxScope / PyTorch for rates. */
  const rounds = (alternated: Alternated, ours: string, theirs = ours, rate = false) =>
    alternated.runs
      .map((run) => (rate ? n(run.ours, ours) / n(run.theirs, theirs) : n(run.theirs, theirs) / n(run.ours, ours)))
      .map((ratio) => ratio.toFixed(2))
      .join(', ');

  // (e) achieved GFLOP/s of the 8×128 forward without logits against one big MatMul through onnxruntime, measured
  // in the same process right after it (the share is the median of the rounds' shares).
  const flops8x128 = forwardFlops(config, 8 * 128, 128);
  const achieved = flops8x128 / (n(forward.ours, 'forward_8x128_logits_none_ms') * 1e6);
  const ceiling = n(forward.ours, 'gemmCeilingGflops');
  const shares = forward.runs.map(
    (run) => flops8x128 / (n(run.ours, 'forward_8x128_logits_none_ms') * 1e6) / n(run.ours, 'gemmCeilingGflops'),
  );
  const share = median(shares);
  const torchAchieved =
    (flops8x128 + 2 * 8 * 128 * config.hidden_size * config.vocab_size) / (n(forward.theirs, 'forward_8x128_ms') * 1e6);

  const batch1 = n(generation.theirs, 'generate20_batch1_ms') / n(generation.ours, 'generate20_batch1_ms');
  const sameTokens = generation.runs.every((run) => run.ours.greedyTokens === run.theirs.greedyTokens);
  const tokens = (measurement: Measurement) => n(measurement, 'compareTokensPerSecond');
  const generationRate = (measurement: Measurement) => n(measurement, 'generationTokensPerSecond');
  const compareRatio = tokens(compare.ours) / tokens(compare.theirs);

  const rss = (name: string, alternated: Alternated, mode: string, models: number, note: string): BenchRow => {
    const value = n(alternated.ours, `peakRssBytes:${mode}`) / 2 ** 20;
    const baselineValue = n(alternated.theirs, 'peakRssBytes') / 2 ** 20;
    const perModel = n(alternated.ours, `peakRssBytes:${mode}`) / models / modelBytes;
    return {
      name,
      value,
      unit: 'MiB',
      baseline: 'PyTorch, same scenario',
      baselineValue,
      comparison: `${(value / baselineValue).toFixed(2)}× its memory`,
      note: `${perModel.toFixed(2)}× the fp32 weights per model (${gib(modelBytes)}; target < 1.5×: ${met(perModel < 1.5)})${note ? `; ${note}` : ''}`,
    };
  };
  const gbPerSecond = (ms: number) => `${(modelBytes / (ms * 1e6)).toFixed(1)} GB/s of weights`;
  const prefillFlops = (batch: number) =>
    forwardFlops(config, batch * 20, 20) + 2 * batch * config.hidden_size * config.vocab_size;
  const gflops = (flops: number, ms: number) => `${(flops / (ms * 1e6)).toFixed(0)} GFLOP/s`;

  return [
    timeRow(
      '(a) forward 1×32, 16 mlp.hook_post captured, no logits',
      [forward, 'forward_1x32_logits_none_ms'],
      'forward_1x32_ms',
      `${torchName} (all logits, as LlamaForCausalLM computes them)`,
      `rounds: ${rounds(forward, 'forward_1x32_logits_none_ms', 'forward_1x32_ms')}×; ToxScope computes only the outputs asked for`,
    ),
    timeRow(
      '(a) forward 1×32, 16 mlp.hook_post + all logits',
      [forward, 'forward_1x32_logits_all_ms'],
      'forward_1x32_ms',
      torchName,
      'same work on both sides',
    ),
    timeRow(
      '(a) forward 8×128, 16 mlp.hook_post captured, no logits',
      [forward, 'forward_8x128_logits_none_ms'],
      'forward_8x128_ms',
      `${torchName} (all logits)`,
      `rounds: ${rounds(forward, 'forward_8x128_logits_none_ms', 'forward_8x128_ms')}×`,
      's',
    ),
    timeRow(
      '(a) forward 8×128, 16 mlp.hook_post + all logits',
      [forward, 'forward_8x128_logits_all_ms'],
      'forward_8x128_ms',
      torchName,
      `same work on both sides; PyTorch ${gflops(flops8x128 + 2 * 1024 * config.hidden_size * config.vocab_size, n(forward.theirs, 'forward_8x128_ms'))}`,
      's',
    ),
    timeRow(
      '(b) greedy 20 tokens, batch 1, KV cache, last-position hook_post ×16 each step',
      [generation, 'generate20_batch1_ms'],
      'generate20_batch1_ms',
      `${torchName}, KV cache (concatenated)`,
      `target ≥ 2×: ${met(batch1 >= 2)}; rounds: ${rounds(generation, 'generate20_batch1_ms', 'generate20_batch1_ms')}×; prompt 20 tokens; same 20 greedy tokens on both sides: ${sameTokens ? 'yes' : 'NO'}`,
      's',
    ),
    timeRow(
      '(b) greedy 20 tokens, batch 16, same',
      [generation, 'generate20_batch16_ms'],
      'generate20_batch16_ms',
      `${torchName}, KV cache (concatenated)`,
      `rounds: ${rounds(generation, 'generate20_batch16_ms', 'generate20_batch16_ms')}×; prompts 20 tokens`,
      's',
    ),
    {
      name: `(c) compare job, 32 prompts × 20 tokens × 2 models (base + DPO file), batch ${n(compare.ours, 'batch')} (the CLI's default), whole job, ms per token`,
      value: 1000 / tokens(compare.ours),
      unit: 'ms',
      baseline: `the same job in ${torchName.replace(' eager + forward hooks', '')} (forward hooks, KV cache, batch ${n(compare.theirs, 'batch')}: its best of ${torchBatches.map(({ batch, seconds }) => `${batch}: ${seconds.toFixed(1)} s`).join(', ')})`,
      baselineValue: 1000 / tokens(compare.theirs),
      comparison: `${compareRatio.toFixed(2)}× the tokens/s (${tokens(compare.ours).toFixed(2)} vs ${tokens(compare.theirs).toFixed(2)})`,
      note: `target ≥ 1.5×: ${met(compareRatio >= 1.5)}; rounds: ${rounds(compare, 'compareTokensPerSecond', 'compareTokensPerSecond', true)}×; total ${n(compare.ours, 'compareSeconds').toFixed(1)} s vs ${n(compare.theirs, 'compareSeconds').toFixed(1)} s, both loading both models`,
    },
    {
      name: '(c) the same, generation only (after the models are loaded)',
      value: 1000 / generationRate(compare.ours),
      unit: 'ms',
      baseline: 'the same job in PyTorch',
      baselineValue: 1000 / generationRate(compare.theirs),
      comparison: `${(generationRate(compare.ours) / generationRate(compare.theirs)).toFixed(2)}× the tokens/s (${generationRate(compare.ours).toFixed(2)} vs ${generationRate(compare.theirs).toFixed(2)})`,
      note: `generation ${n(compare.ours, 'generationSeconds').toFixed(1)} s vs ${n(compare.theirs, 'generationSeconds').toFixed(1)} s`,
    },
    rss(
      '(d) peak RSS, forward 1×32 and 8×128, 16 hooks, no logits',
      forward,
      'forward-none',
      1,
      'the hooks of 8×128 are 0.5 GiB',
    ),
    rss(
      '(d) peak RSS, forward 1×32 and 8×128, 16 hooks + all logits',
      forward,
      'forward-all',
      1,
      'the logits of 8×128 are another 0.49 GiB; PyTorch: one process for both forwards, all logits',
    ),
    rss(
      '(d) peak RSS, the same forwards in the one-shot session `toxscope activations` opens (weights not repacked)',
      forward,
      'forward-once',
      1,
      `forward 1×32 ${n(forward.ours, 'forward_1x32_logits_all_once_ms').toFixed(0)} ms, 8×128 ${(n(forward.ours, 'forward_8x128_logits_all_once_ms') / 1000).toFixed(1)} s in that session`,
    ),
    rss('(d) peak RSS, generation batch 1 and 16', generation, 'generate', 1, ''),
    rss('(d) peak RSS, compare job (two models in one process)', compare, 'compare', 2, ''),
    {
      name: '(e) achieved GFLOP/s, forward 8×128 (no logits)',
      value: achieved,
      unit: 'GFLOP/s',
      baseline: 'GEMM ceiling: one square fp32 MatMul through onnxruntime, same command',
      baselineValue: ceiling,
      comparison: `${(100 * share).toFixed(0)}% of the ceiling`,
      note: `target ≥ 85%: ${met(share >= 0.85)}; median of the rounds' shares (${shares.map((value) => `${(100 * value).toFixed(0)}%`).join(', ')}), each ceiling measured in the forward's process right after it; MatMul sizes (round 1) ${String(forward.runs[0]!.ours.gemmPoints)}; PyTorch's forward: ${torchAchieved.toFixed(0)} GFLOP/s with its logits`,
    },
    {
      name: '(f) warm load for a one-shot capture (activations): session without repacked weights + forward 1×32',
      value: n(forward.ours, 'oneShot_open_forward_1x32_ms') / 1000,
      unit: 's',
      baseline: 'PyTorch: read model.safetensors into modules + forward 1×32',
      baselineValue: (n(forward.theirs, 'loadMs') + n(forward.theirs, 'forward_1x32_ms')) / 1000,
      comparison: speedup(
        n(forward.ours, 'oneShot_open_forward_1x32_ms'),
        n(forward.theirs, 'loadMs') + n(forward.theirs, 'forward_1x32_ms'),
      ),
      note: `target < 5 s: ${met(n(forward.ours, 'oneShot_open_forward_1x32_ms') < 5000)}; graph cached, weights memory-mapped from the safetensors file`,
    },
    timeRow(
      '(f) phase: session creation with repacked weights (generation, compare), graph cached / weights read into modules (PyTorch)',
      [generation, 'openMs'],
      'loadMs',
      'PyTorch: read model.safetensors, parameters assigned',
      `first use (hash both 4.9 GB files, build 5 graphs, open 5 sessions): ${(n(prepared, 'prepareMs') / 1000).toFixed(0)} s`,
      's',
    ),
    timeRow(
      '(f) phase: prefill, batch 1 × 20 tokens',
      [generation, 'prefill_batch1_ms'],
      'prefill_batch1_ms',
      torchName,
      `${gflops(prefillFlops(1), n(generation.ours, 'prefill_batch1_ms'))} vs ${gflops(prefillFlops(1), n(generation.theirs, 'prefill_batch1_ms'))}`,
    ),
    timeRow(
      '(f) phase: prefill, batch 16 × 20 tokens',
      [generation, 'prefill_batch16_ms'],
      'prefill_batch16_ms',
      torchName,
      `${gflops(prefillFlops(16), n(generation.ours, 'prefill_batch16_ms'))} vs ${gflops(prefillFlops(16), n(generation.theirs, 'prefill_batch16_ms'))}`,
    ),
    timeRow(
      '(f) phase: decode step, batch 1 (median of 19)',
      [generation, 'decodeStep_batch1_ms'],
      'decodeStep_batch1_ms',
      torchName,
      `${gbPerSecond(n(generation.ours, 'decodeStep_batch1_ms'))} vs ${gbPerSecond(n(generation.theirs, 'decodeStep_batch1_ms'))}`,
    ),
    timeRow(
      '(f) phase: decode step, batch 16 (median of 19)',
      [generation, 'decodeStep_batch16_ms'],
      'decodeStep_batch16_ms',
      torchName,
      `${gbPerSecond(n(generation.ours, 'decodeStep_batch16_ms'))} vs ${gbPerSecond(n(generation.theirs, 'decodeStep_batch16_ms'))}`,
    ),
  ];
}

function settingsOf(
  threads: number,
  torch: Measurement,
  coreType: string,
  flags: string[],
  modelBytes: number,
  loadBefore: number,
  loadAfter: number,
): string {
  return [
    `${threads} threads on both sides (onnxruntime intra-op threads, torch.set_num_threads)`,
    'Llama-3.2-1B shapes (16 layers, d_model 2048, 8192 neurons, 32 query / 8 key-value heads of 64, vocab 128,256, tied embeddings, llama3 rope scaling)',
    `random fp32 weights (model.safetensors ${gib(modelBytes)}, and a second file for the DPO side)`,
    blasSettings(torch, coreType),
    pageSettings(),
    `CPU flags: ${flags.join(' ')}`,
    `medians of ${roundCount} alternating rounds (ToxScope, then PyTorch, each process warmed up); 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (a shared machine)`,
  ].join('; ');
}
