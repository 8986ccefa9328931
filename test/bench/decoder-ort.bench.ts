// ToxScope's side of the decoder benchmark (issue 14) on a Llama-3.2-1B-shaped folder. Each mode runs in its own
// process, so each peak RSS is that scenario's own; `prepare` is a model's first use (weights hashed, graphs built).
// Usage (prints one JSON object):
//   tsx test/bench/decoder-ort.bench.ts --folder DIR --threads N --mode prepare|forward-none|forward-all|forward-once|generate|compare
//       [--dpo FILE] [--prompts N] [--batch N (compare; default: the CLI's)]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { runGemmBenchmark } from '../../src-main/core/diagnostics/gemm-benchmark.ts';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { collectionGraphOptions } from '../../src-main/core/interp/collect-activations.ts';
import { compareJob } from '../../src-main/core/interp/compare-job.ts';
import type { DecoderSession } from '../../src-main/core/models/decoder/decoder-session.ts';
import { generate } from '../../src-main/core/models/decoder/generate.ts';
import { openDecoderSession, type DecoderSessionOptions } from '../../src-main/core/models/decoder/open-session.ts';
import { loadModel, type LoadedDecoderModel } from '../../src-main/core/models/load-model.ts';
import { onnxruntimeVersion } from '../../src-main/core/runtime/onnxruntime.ts';
import { defaultCompareBatch } from '../../src-main/shared/index.ts';
import { workerDir } from '../support/built-app.ts';
import { seededRandom } from '../support/random.ts';

const { values } = parseArgs({
  options: {
    folder: { type: 'string' },
    dpo: { type: 'string' },
    threads: { type: 'string' },
    mode: { type: 'string' },
    prompts: { type: 'string' },
    batch: { type: 'string' },
  },
});
const threads = Number(values.threads);
const device = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const random = seededRandom(0);
const randomIds = (count: number, vocab: number) => Array.from({ length: count }, () => Math.floor(random() * vocab));
const result: Record<string, number | string> = { onnxruntime: onnxruntimeVersion(), threads };
const promptTokens = 32;
const newTokens = 20;

/** The compare prompts' token counts, 8–32, the same formula as decoder_torch_bench.py. */
const promptLengths = (count: number) => Array.from({ length: count }, (_, index) => 8 + ((7 * index) % 25));

/**
 * The batch-1 generation prompt, the same formula as decoder_torch_bench.py: both sides continue it, so their greedy
 * tokens can be checked against each other.
 */
const checkPrompt = Array.from({ length: 20 }, (_, index) => (index * 7919 + 13) % 128000);

const allPost = (model: LoadedDecoderModel) =>
  Array.from({ length: model.config.nLayers }, (_, layer) => `blocks.${layer}.mlp.hook_post`);
const forwardOptions = (model: LoadedDecoderModel, logits: 'none' | 'all'): DecoderSessionOptions => ({
  hooks: allPost(model),
  hookPositions: 'all',
  logits,
  kvCache: false,
  interventions: false,
});
const generateOptions = (model: LoadedDecoderModel): DecoderSessionOptions => ({
  hooks: allPost(model),
  hookPositions: 'last',
  logits: 'last',
  kvCache: true,
  interventions: false,
});
const forwardRun = { device, threads, batch: 8, length: 128 };
const generateRun = { device, threads, batch: 16, length: 40 };
/** What compareJob opens: its collection graph at the CLI's batch for prompts of ≤ 32 tokens + 20 new ones. */
const compareOptions = (model: LoadedDecoderModel) => ({
  ...collectionGraphOptions(model.config.nLayers),
  interventions: false,
});
const compareBatch = Number(values.batch ?? defaultCompareBatch);
const compareRun = { device, threads, batch: compareBatch, length: promptTokens + 1 + newTokens };

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await action();
  return { value, ms: performance.now() - started };
}

/**
 * Median milliseconds of `repeats` runs after a warm-up. Each run's outputs are dropped and collected before the next
 * (with a pause for V8's background sweeper, which frees large buffers after a collection), as PyTorch's reference
 * counting frees them on its side of the bench: otherwise one 8×128 forward's outputs (1 GiB with all logits) may
 * still be held while the next one runs, and the peak would count two forwards.
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

async function medianMs(repeats: number, action: () => Promise<unknown>): Promise<number> {
  const run = async () => (await timed(async () => void (await action()))).ms;
  const times: number[] = [];
  for (let index = 0; index <= repeats; index++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ms = await run();
    if (index > 0) times.push(ms); // the first is the warm-up
  }
  return median(times);
}

function forward(session: DecoderSession, batch: number, length: number, vocab: number) {
  return session.step({
    batch,
    pos: length,
    inputIds: BigInt64Array.from(randomIds(batch * length, vocab), BigInt),
    attentionMask: new BigInt64Array(batch * length).fill(1n),
    positionIds: BigInt64Array.from({ length: batch * length }, (_, index) => BigInt(index % length)),
    cache: null,
  });
}

/** Greedy generation; returns the tokens and each forward's milliseconds (prefill first). */
async function greedy(
  session: DecoderSession,
  prompts: number[][],
  maxNewTokens = newTokens,
): Promise<{ tokens: number[][]; stepMs: number[] }> {
  const stepMs: number[] = [];
  let last = performance.now();
  const { generated } = await generate(session, prompts, {
    maxNewTokens,
    sampling: null,
    eosTokenId: null,
    padTokenId: 0,
    useCache: true,
    onStep: () => {
      const now = performance.now();
      stepMs.push(now - last);
      last = now;
    },
  });
  return { tokens: generated, stepMs };
}

if (values.mode === 'prepare') {
  // A model's first use: hash both weights files and build every graph the other modes open (sessions opened and
  // released, so the build is all that is left to time).
  const started = performance.now();
  const base = loadModel(values.folder!);
  const dpo = loadModel(values.folder!, values.dpo!);
  for (const [options, run] of [
    [forwardOptions(base, 'none'), forwardRun],
    [forwardOptions(base, 'all'), forwardRun],
    [generateOptions(base), generateRun],
  ] as const)
    await (await openDecoderSession(base, options, run)).session.release();
  for (const model of [base, dpo])
    await (await openDecoderSession(model, compareOptions(model), compareRun)).session.release();
  result.prepareMs = performance.now() - started;
} else if (values.mode === 'compare') {
  // The real compare job on seeded prompts of single letters (" x" is one token: each prompt is exactly its length).
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-compare-'));
  const count = Number(values.prompts ?? 32);
  const base = loadModel(values.folder!);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const texts = promptLengths(count).map((length) =>
    Array.from({ length }, () => letters[Math.floor(random() * letters.length)]).join(' '),
  );
  const ids = await base.tokenizer.tokenizer.encodeBatch(texts);
  if (ids.some((row, index) => row.length !== promptLengths(count)[index]))
    throw new Error('the bench prompts no longer tokenize to one token per letter: check the bench tokenizer');
  writeFileSync(join(work, 'prompts.jsonl'), texts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
  writeFileSync(
    join(work, 'probe.json'),
    JSON.stringify(Array.from({ length: base.config.dModel }, () => random() - 0.5)),
  );
  const started = performance.now();
  await compareJob(
    {
      base: values.folder!,
      dpo: values.dpo!,
      probe: join(work, 'probe.json'),
      prompts: join(work, 'prompts.jsonl'),
      maxNewTokens: newTokens,
      maxPromptTokens: promptTokens,
      batch: compareBatch,
      weightProcessing: 'none',
      prependBos: false,
      out: join(work, 'out'),
      device: 'cpu',
      threads,
    },
    {
      signal: new AbortController().signal,
      workerDir,
      // The job's phases with their start times, on stderr (the bench reads only stdout's last line).
      progress: (progress) =>
        process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s: ${progress.message}\n`),
      // tokens/s of the generation alone (from the sessions' first step), as the job reports it after every batch
      frame: (frame) => (result.generationTokensPerSecond = frame.tokensPerSecond),
    },
  );
  const seconds = (performance.now() - started) / 1000;
  result.batch = compareBatch;
  result.compareSeconds = seconds;
  result.compareTokensPerSecond = (2 * count * newTokens) / seconds;
  result.generationSeconds = (2 * count * newTokens) / Number(result.generationTokensPerSecond);
  rmSync(work, { recursive: true, force: true });
} else {
  const model = loadModel(values.folder!);
  const { config } = model;
  result.weightsBytes = model.weightsBytes;
  if (values.mode === 'forward-once') {
    // The same all-logits forwards in the session `toxscope activations` opens for them (one-shot: weights not
    // repacked, left memory-mapped), for its peak RSS.
    const { session } = await openDecoderSession(model, forwardOptions(model, 'all'), { ...forwardRun, once: true });
    result.forward_1x32_logits_all_once_ms = await medianMs(5, () => forward(session, 1, 32, config.dVocab));
    result.forward_8x128_logits_all_once_ms = await medianMs(1, () => forward(session, 8, 128, config.dVocab));
    await session.release();
  } else if (values.mode === 'forward-none' || values.mode === 'forward-all') {
    const logits = values.mode === 'forward-none' ? 'none' : 'all';
    if (logits === 'none') {
      // What `toxscope activations` does with a warm graph cache: a session that runs once (weights not repacked,
      // left memory-mapped) and its one forward.
      const oneShot = await timed(async () => {
        const { session } = await openDecoderSession(model, forwardOptions(model, logits), {
          ...forwardRun,
          once: true,
        });
        await forward(session, 1, 32, config.dVocab);
        await session.release();
      });
      result.oneShot_open_forward_1x32_ms = oneShot.ms;
    }
    const opened = await timed(() => openDecoderSession(model, forwardOptions(model, logits), forwardRun));
    const { session } = opened.value;
    result[`open_logits_${logits}_ms`] = opened.ms;
    result[`forward_1x32_logits_${logits}_ms`] = await medianMs(5, () => forward(session, 1, 32, config.dVocab));
    // Three timed 8×128 forwards, as on PyTorch's side: a single one moved by 20% with this shared host's load.
    result[`forward_8x128_logits_${logits}_ms`] = await medianMs(3, () => forward(session, 8, 128, config.dVocab));
    await session.release();
    if (logits === 'none') {
      // The GEMM ceiling right after the 8×128 forward, so both see the same load on this shared machine.
      const ceiling = await runGemmBenchmark(
        { device: 'cpu', sizes: [2048, 3072, 4096], repeats: 5, threads },
        { signal: new AbortController().signal, progress: () => undefined, frame: () => undefined, workerDir },
      );
      result.gemmCeilingGflops = ceiling.peakGflops;
      result.gemmPoints = ceiling.points.map((point) => `${point.size}: ${point.gflops.toFixed(0)}`).join(', ');
    }
  } else if (values.mode === 'generate') {
    const opened = await timed(() => openDecoderSession(model, generateOptions(model), generateRun));
    const { session } = opened.value;
    result.openMs = opened.ms;
    for (const batch of [1, 16]) {
      const prompts = batch === 1 ? [checkPrompt] : Array.from({ length: batch }, () => randomIds(20, config.dVocab));
      await greedy(session, prompts, 3); // warm-up: the prefill and two steps at this batch
      const run = await timed(() => greedy(session, prompts));
      result[`generate20_batch${batch}_ms`] = run.ms;
      result[`prefill_batch${batch}_ms`] = run.value.stepMs[0]!;
      result[`decodeStep_batch${batch}_ms`] = median(run.value.stepMs.slice(1));
      if (batch === 1) result.greedyTokens = run.value.tokens[0]!.join(' ');
    }
    await session.release();
  } else throw new RangeError(`unknown mode ${String(values.mode)}`);
}
result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify(result)}\n`);
