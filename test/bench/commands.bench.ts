// Whole commands against PyTorch scripts doing the same job end to end (issue 19): each side is one process timed
// from the outside (process start, imports, reading weights, session creation or module building, the work, the
// output files), on GPT-2-medium- and bart-base-shaped random weights, PyTorch on the OpenBLAS core this CPU supports
// best and, for compare, at its best batch. Three alternating rounds; medians of the wall times, the largest peak RSS.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { runGemmBenchmark } from '../../src-main/core/diagnostics/gemm-benchmark.ts';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';
import { loadBartModel } from '../../src-main/core/models/load-model.ts';
import { defaultCompareBatch, presets } from '../../src-main/shared/index.ts';
import { bartBaseFolders, sentences, writeMarcoWork, type MarcoWork } from './detox.bench.ts';
import { mediumFolder } from './gpt2-runtime.bench.ts';
import { workerDir } from '../support/built-app.ts';
import {
  blasCoreType,
  blasSettings,
  cpuFlags,
  hasTorch,
  lastJson,
  python,
  torchEnv,
  torchMissing,
  warnOnBlasFallback,
  type Measurement,
  pageSettings,
  toxscopeEnv,
  settleFreedMemory,
} from './torch-baseline.ts';

const here = new URL('.', import.meta.url).pathname;
const toxscopeBin = join(here, '../../bin/toxscope.js');
const roundCount = 3;
const promptCount = 32;
/** The activations input: 115 seeded token ids (the length issue 19 measured). */
const activationIds = Array.from({ length: 115 }, (_, index) => (index * 7919 + 13) % 50000);

type Job = 'activations' | 'compare' | 'detox';

interface ProcessRun {
  seconds: number;
  peakRssBytes: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time: its wall time and peak RSS as the kernel counted them. */
function timedProcess(command: string, args: string[], env: NodeJS.ProcessEnv): ProcessRun {
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-time-'));
  try {
    const report = join(work, 'time.txt');
    settleFreedMemory();
    const started = performance.now();
    const run = spawnSync('/usr/bin/time', ['-o', report, '-f', '%M', command, ...args], { encoding: 'utf8', env });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0)
      throw new Error(`${command} ${args.join(' ')} failed (exit ${String(run.status)}):\n${run.stderr.slice(-2000)}`);
    const kib = Number(readFileSync(report, 'utf8').trim().split('\n').at(-1));
    return { seconds, peakRssBytes: kib * 1024, stdout: run.stdout };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The compare prompts' token counts: prompt p is " x" × (8 + 7p mod 25), one GPT-2 token per word. */
const promptTokenCounts = Array.from({ length: promptCount }, (_, p) => 8 + ((7 * p) % 25));

/** The prompt file both compare sides continue (promptTokenCounts). */
function writePrompts(work: string): string {
  const path = join(work, 'prompts.jsonl');
  const lines = promptTokenCounts.map((tokens) =>
    JSON.stringify({ prompt: Array.from({ length: tokens }, () => 'x').join(' ') }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** The PyTorch MaRCo script's ways of running the detox job (marco_torch_bench.py): its best is the baseline. */
type DetoxVariant = { name: 'cached'; label: string } | { name: 'batched'; batch: number; label: string };
const detoxVariants: DetoxVariant[] = [
  { name: 'cached', label: 'one sentence at a time' },
  { name: 'batched', batch: 8, label: 'eight sentences at a time' },
  { name: 'batched', batch: 32, label: 'all sentences at once' },
];

/** The detox job of issue 19's table: 20 DynaHate sentences of 15–30 words, one a line, rewritten to 40 tokens. */
const detoxSentenceCount = 20;
const detoxMaxLength = 40;

/**
 * The multiply-adds no MaRCo implementation can skip on this work, from work.json and the rewrites' token ids: both
 * experts read every candidate (its encoder pass, the decoder up to its <mask>, one logits row); every rewritten
 * sentence takes three encoder passes (base on the original, experts on the masked text) and, per rewritten token,
 * one decoder position and one logits row in each of the three models. Weight matrices only, without padding (the
 * attention scores and norms add under 2% at these lengths), so this is a lower bound on the work.
 */
function marcoMultiplyAdds(work: MarcoWork, rewrites: number[][]): { masking: number; rewriting: number } {
  const config = JSON.parse(readFileSync(join(work.folders[0]!, 'config.json'), 'utf8')) as Record<string, number>;
  const d = config.d_model!;
  // Encoder layer: Q, K, V, O and the two feed-forward matrices; each decoder layer's cross-attention K and V also
  // run once per encoder token. Decoder layer: self Q, K, V, O, cross Q, O and the feed-forward matrices.
  const encoderToken =
    config.encoder_layers! * (4 * d * d + 2 * d * config.encoder_ffn_dim!) + config.decoder_layers! * 2 * d * d;
  const decoderToken = config.decoder_layers! * (6 * d * d + 2 * d * config.decoder_ffn_dim!);
  const logitsRow = d * config.vocab_size!;
  let masking = 0;
  for (const sentence of work.sentences)
    for (const variant of sentence.variants)
      masking += 2 * (variant.ids.length * encoderToken + (variant.position + 1) * decoderToken + logitsRow);
  const rewritten = work.sentences.filter((sentence) => sentence.masked !== null);
  let rewriting = 0;
  rewritten.forEach((sentence, index) => {
    // A rewrite starts [decoder start, <s>] and each later token was fed back once, except the last.
    const generated = rewrites[index]!.length - 2;
    rewriting += (sentence.ids.length + 2 * sentence.masked!.length) * encoderToken;
    rewriting += 3 * ((generated + 1) * decoderToken + generated * logitsRow);
  });
  return { masking, rewriting };
}

/**
 * The multiply-adds of the compare job's weight matrices, per promptTokenCounts: each model reads every prompt
 * token once (prefill, no padding) and one unembedding row per prompt, then newTokens − 1 decode steps per prompt
 * (the prefill gives the first token), each one position through every layer and the unembedding; both models.
 * Weight matrices only (attention scores and norms add about 1% at these lengths): a lower bound on the work.
 */
function compareMultiplyAdds(folder: string, newTokens: number): number {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, number | null>;
  const d = config.n_embd!;
  const position = config.n_layer! * (4 * d * d + 2 * d * (config.n_inner ?? 4 * d)); // Q, K, V, O and the MLP
  const logitsRow = d * config.vocab_size!;
  const promptTokens = promptTokenCounts.reduce((a, b) => a + b, 0);
  const perModel =
    promptTokens * position + promptCount * logitsRow + promptCount * (newTokens - 1) * (position + logitsRow);
  return 2 * perModel;
}

export async function benchCommands(
  threads: number,
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; settings: string } | null> {
  if (!hasTorch()) {
    log(`commands: PyTorch baseline skipped: ${torchMissing}.`);
    return null;
  }
  if (!existsSync(join(here, '../../out/main/cli.js'))) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  const folder = mediumFolder();
  const flags = cpuFlags();
  const coreType = blasCoreType(flags);
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-commands-'));
  const ourEnv = toxscopeEnv({ TOXSCOPE_DATA_DIR: join(work, 'data') });
  const loadBefore = os.loadavg()[0]!;
  try {
    const prompts = writePrompts(work);
    const probe = join(work, 'probe.json');
    writeFileSync(probe, JSON.stringify(Array.from({ length: 1024 }, (_, index) => Math.sin(index) / 32)));
    const ids = activationIds.join(',');
    const common = ['--threads', String(threads), '--device', 'cpu'];
    // detox on bart-base shapes, MaRCo's MAgr settings with τ = 1.0 (random weights give nearly uniform divergences,
    // so τ = 1.2 would mask nothing), no toxicity gate (PyTorch's MaRCo has none).
    const bart = bartBaseFolders(log);
    const detoxInput = join(work, 'detox-input.txt');
    writeFileSync(detoxInput, (await sentences(detoxSentenceCount)).join('\n') + '\n');
    const detoxSettings = { ...presets.magr, maxLength: detoxMaxLength, threshold: 1.0 };
    const detoxArgs = (out: string, ...more: string[]) => [
      toxscopeBin,
      'detox',
      ...['--base', bart[0]!, '--expert', bart[1]!, '--anti-expert', bart[2]!, '--in', detoxInput, '--out', out],
      ...['--threshold', '1.0', '--max-length', String(detoxMaxLength), '--classifier', 'none', '--quiet'],
      ...common,
      ...more,
    ];
    const ours = {
      activations: () =>
        timedProcess(
          'node',
          [toxscopeBin, 'activations', folder, '--ids', ids, '--out', join(work, 'ours.safetensors'), ...common],
          ourEnv,
        ),
      compare: () =>
        timedProcess(
          'node',
          [
            toxscopeBin,
            'compare',
            ...['--base', folder, '--dpo', folder, '--probe', probe, '--prompts', prompts],
            ...['--max-new-tokens', '20', '--no-bos', '--classifier', 'none', '--quiet'],
            ...['--out', join(work, `compare-${Math.random().toString(36).slice(2)}`), ...common],
          ],
          ourEnv,
        ),
      detox: () => timedProcess('node', detoxArgs(join(work, 'detox-out.txt')), ourEnv),
    };
    const torchArgs = [join(here, 'gpt2_torch_bench.py'), '--folder', folder, '--threads', String(threads)];
    const theirs = {
      activations: () =>
        timedProcess(
          python,
          [...torchArgs, '--mode', 'activations', '--ids', ids, '--out', join(work, 'theirs.safetensors')],
          torchEnv(coreType),
        ),
      compare: (batch: number) =>
        timedProcess(
          python,
          [...torchArgs, '--mode', 'compare', '--prompts', String(promptCount), '--batch', String(batch)],
          torchEnv(coreType),
        ),
      detox: (variant: DetoxVariant) =>
        timedProcess(
          python,
          [
            join(here, 'marco_torch_bench.py'),
            ...['--work', work, '--threads', String(threads), '--variant', variant.name],
            ...(variant.name === 'batched' ? ['--batch', String(variant.batch)] : []),
            '--print-tokens',
          ],
          torchEnv(coreType),
        ),
    };

    log('commands: first use of each ToxScope command (graphs built, weights hashed), not counted');
    ours.activations();
    ours.compare();
    // detox's first use also says which words it masked, so the PyTorch script does the same work (work.json).
    const explainPath = join(work, 'explain.json');
    timedProcess('node', detoxArgs(join(work, 'detox-first.txt'), '--explain', explainPath), ourEnv);
    const segments = (JSON.parse(readFileSync(explainPath, 'utf8')) as { segments: { text: string; masked: string }[] })
      .segments;
    const marcoWork = await writeMarcoWork(
      work,
      bart,
      detoxSettings,
      segments,
      loadBartModel(bart[0]!).tokenizer.tokenizer,
    );
    log('commands: PyTorch compare at batch 16 and 32, to run it at its best batch');
    const batchTimes = [16, 32].map((batch) => ({ batch, run: theirs.compare(batch) }));
    const best = batchTimes.reduce((a, b) => (b.run.seconds < a.run.seconds ? b : a));
    const torchReport: Measurement = lastJson(best.run.stdout);
    log('commands: PyTorch detox one, eight and all sentences at a time, to run it at its best');
    const detoxTimes = detoxVariants.map((variant) => ({ variant, run: theirs.detox(variant) }));
    const bestDetox = detoxTimes.reduce((a, b) => (b.run.seconds < a.run.seconds ? b : a));
    // Batching must not change the work: both ways give the same rewrites, token for token.
    const detoxSameRewrites =
      new Set(detoxTimes.map(({ run }) => JSON.stringify(lastJson(run.stdout).rewrites))).size === 1;
    if (!detoxSameRewrites) log('commands: WARNING: the PyTorch script rewrites differently at different batches');
    warnOnBlasFallback(torchReport, coreType, log);

    const rounds: Record<Job, { ours: ProcessRun; theirs: ProcessRun }[]> = { activations: [], compare: [], detox: [] };
    for (let round = 1; round <= roundCount; round++) {
      log(`commands: round ${round} of ${roundCount}, ToxScope then PyTorch`);
      rounds.activations.push({ ours: ours.activations(), theirs: theirs.activations() });
      rounds.compare.push({ ours: ours.compare(), theirs: theirs.compare(best.batch) });
      rounds.detox.push({ ours: ours.detox(), theirs: theirs.detox(bestDetox.variant) });
    }
    // The GEMM ceiling right after the rounds, in this process with the same threads: what the detox bound is at.
    const ceiling = await runGemmBenchmark(
      { device: 'cpu', sizes: [1024, 2048, 3072], repeats: 5, threads },
      { signal: new AbortController().signal, progress: () => undefined, frame: () => undefined, workerDir },
    );
    const loadAfter = os.loadavg()[0]!;

    const seconds = (runs: { ours: ProcessRun; theirs: ProcessRun }[], side: 'ours' | 'theirs') =>
      median(runs.map((run) => run[side].seconds));
    const peak = (runs: { ours: ProcessRun; theirs: ProcessRun }[], side: 'ours' | 'theirs') =>
      Math.max(...runs.map((run) => run[side].peakRssBytes)) / 2 ** 20;
    const ratios = (runs: { ours: ProcessRun; theirs: ProcessRun }[]) =>
      runs.map((run) => (run.theirs.seconds / run.ours.seconds).toFixed(2)).join(', ');
    const timeRow = (name: string, job: Job, baseline: string, target: number): BenchRow => {
      const value = seconds(rounds[job], 'ours');
      const baselineValue = seconds(rounds[job], 'theirs');
      return {
        name,
        value,
        unit: 's',
        baseline,
        baselineValue,
        comparison: speedup(value, baselineValue),
        note: `target ≥ ${target}×: ${baselineValue / value >= target ? 'met' : 'missed'}; rounds: ${ratios(rounds[job])}×`,
      };
    };
    const rssRow = (name: string, job: Job): BenchRow => {
      const value = peak(rounds[job], 'ours');
      const baselineValue = peak(rounds[job], 'theirs');
      return {
        name,
        value,
        unit: 'MiB',
        baseline: 'the PyTorch script, same job',
        baselineValue,
        comparison: `${(value / baselineValue).toFixed(2)}× its memory`,
        note: `target ≤ 1.0×: ${value <= baselineValue ? 'met' : 'missed'}`,
      };
    };
    const torch = `PyTorch ${String(torchReport.torch)}`;
    /** A job's multiply-adds at the GEMM ceiling measured after the rounds, against ToxScope's median for it. */
    const boundRow = (name: string, job: Job, baseline: string, multiplyAdds: number, work: string): BenchRow => {
      const boundSeconds = (2 * multiplyAdds) / (ceiling.peakGflops * 1e9);
      const ours = seconds(rounds[job], 'ours');
      const target = seconds(rounds[job], 'theirs') / 1.5;
      return {
        name,
        value: boundSeconds,
        unit: 's',
        baseline,
        baselineValue: ours,
        comparison: `ToxScope at ${((100 * boundSeconds) / ours).toFixed(0)}% of the ceiling`,
        note: `${work} at ${ceiling.peakGflops.toFixed(0)} GFLOP/s (one square fp32 MatMul through onnxruntime after the rounds; ${ceiling.points.map((point) => `${point.size}: ${point.gflops.toFixed(0)}`).join(', ')}); 1.5× PyTorch's speed needs ${target.toFixed(1)} s: ${target < boundSeconds ? 'below the bound, out of reach on this CPU' : 'above the bound'}`,
      };
    };
    const detoxWork = marcoMultiplyAdds(
      marcoWork,
      (lastJson(bestDetox.run.stdout) as unknown as { rewrites: number[][] }).rewrites,
    );
    const tflop = (multiplyAdds: number) => `${((2 * multiplyAdds) / 1e12).toFixed(2)} TFLOP`;
    const compareWork = compareMultiplyAdds(folder, 20);
    const rows: BenchRow[] = [
      timeRow(
        '`toxscope activations`, 115 tokens, 24 mlp.hook_post + logits written, whole command',
        'activations',
        `${torch} script: load, one forward with forward hooks, write the same tensors`,
        1.2,
      ),
      timeRow(
        `\`toxscope compare\`, ${promptCount} prompts × 20 tokens × 2 models, batch ${defaultCompareBatch} (the default), whole command`,
        'compare',
        `${torch} script, same job, batch ${best.batch} (its best of 16: ${batchTimes[0]!.run.seconds.toFixed(1)} s, 32: ${batchTimes[1]!.run.seconds.toFixed(1)} s)`,
        1.5,
      ),
      boundRow(
        '`toxscope compare`: the same work at the GEMM ceiling (weight multiply-adds, no padding, no loading)',
        'compare',
        'ToxScope, compare row',
        compareWork,
        tflop(compareWork),
      ),
      timeRow(
        `\`toxscope detox\`, ${detoxSentenceCount} sentences (${segments.length} after splitting, ${segments.filter((segment) => segment.masked !== segment.text).length} rewritten), max length ${detoxMaxLength}, whole command`,
        'detox',
        `${torch} script, same work (masking in batches, KV-cached rewriting), ${bestDetox.variant.label}, its best of ${detoxTimes.map(({ variant, run }) => `${variant.label}: ${run.seconds.toFixed(1)} s`).join(', ')} (${detoxSameRewrites ? 'the same rewrites at every batch' : 'rewrites DIFFER between batches'})`,
        1.5,
      ),
      boundRow(
        '`toxscope detox`: the same work at the GEMM ceiling (multiply-adds no implementation can skip, no padding)',
        'detox',
        'ToxScope, row above',
        detoxWork.masking + detoxWork.rewriting,
        `${tflop(detoxWork.masking)} masking + ${tflop(detoxWork.rewriting)} rewriting`,
      ),
      rssRow('`toxscope activations` peak RSS', 'activations'),
      rssRow('`toxscope compare` peak RSS', 'compare'),
      rssRow('`toxscope detox` peak RSS', 'detox'),
    ];
    const settings = [
      `${threads} threads on both sides (--threads, torch.set_num_threads)`,
      'GPT-2-medium shapes (24 layers, d_model 1024, 4096 neurons, vocab 50257), random fp32 weights (1.32 GiB), base = DPO folder',
      `detox: bart-base shapes (6+6 layers, d_model 768), three random fp32 models, MAgr settings with τ = 1.0, no toxicity gate, the masks ToxScope chose handed to PyTorch`,
      'each side one process per run, timed from outside (/usr/bin/time for peak RSS); ToxScope with its graph cache warm (first use not counted)',
      blasSettings(torchReport, coreType),
      pageSettings(),
      `CPU flags: ${flags.join(' ')}`,
      `medians of ${roundCount} alternating rounds; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (a shared machine)`,
    ].join('; ');
    return { rows, settings };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
