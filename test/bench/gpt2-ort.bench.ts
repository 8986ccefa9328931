// ToxScope's side of the GPT-2 runtime benchmark (issue 3). Each mode runs in its own process, so each peak RSS
// is that scenario's own. Usage (prints one JSON object):
//   tsx test/bench/gpt2-ort.bench.ts --folder DIR --threads N --mode load|forward-none|forward-all|generate|gemm|compare [--prompts N]

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareJob } from '../../src-main/core/interp/compare-job.ts';
import { runGemmBenchmark } from '../../src-main/core/diagnostics/gemm-benchmark.ts';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { generate } from '../../src-main/core/models/decoder/generate.ts';
import type { DecoderSession } from '../../src-main/core/models/decoder/decoder-session.ts';
import { openDecoderSession } from '../../src-main/core/models/decoder/open-session.ts';
import { loadModel } from '../../src-main/core/models/load-model.ts';
import { onnxruntimeVersion } from '../../src-main/core/runtime/onnxruntime.ts';
import { workerDir } from '../support/built-app.ts';
import { seededRandom } from '../support/random.ts';

const { values } = parseArgs({
  options: {
    folder: { type: 'string' },
    threads: { type: 'string' },
    mode: { type: 'string' },
    prompts: { type: 'string' },
  },
});
const threads = Number(values.threads);
const device = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const random = seededRandom(0);
const randomIds = (count: number, vocab: number) => Array.from({ length: count }, () => Math.floor(random() * vocab));
const result: Record<string, number | string> = { onnxruntime: onnxruntimeVersion(), threads };

async function medianMs(repeats: number, action: () => Promise<unknown>): Promise<number> {
  await action(); // warm-up
  const times: number[] = [];
  for (let run = 0; run < repeats; run++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
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

if (values.mode === 'compare') {
  // The real compare job, base = DPO = the same folder (the work is the same), on seeded random-token prompts.
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-compare-'));
  const count = Number(values.prompts ?? 32);
  const model = loadModel(values.folder!);
  const words = model.tokenizer.tokenizer;
  const prompts = await words.decodeBatch(
    Array.from({ length: count }, () => randomIds(8 + Math.floor(random() * 25), 50000)),
  );
  const lines = prompts.map((prompt) => JSON.stringify({ prompt }));
  writeFileSync(join(work, 'prompts.jsonl'), lines.join('\n') + '\n');
  writeFileSync(
    join(work, 'probe.json'),
    JSON.stringify(Array.from({ length: model.config.dModel }, () => random() - 0.5)),
  );
  const started = performance.now();
  await compareJob(
    {
      base: values.folder!,
      dpo: values.folder!,
      probe: join(work, 'probe.json'),
      prompts: join(work, 'prompts.jsonl'),
      maxNewTokens: 20,
      maxPromptTokens: 32,
      batch: 16,
      weightProcessing: 'none',
      prependBos: false,
      out: join(work, 'out'),
      device: 'cpu',
      threads,
    },
    {
      signal: new AbortController().signal,
      workerDir,
      progress: () => undefined,
      // tokens/s of the generation alone (from the sessions' first step), as the job reports it after every batch
      frame: (frame) => (result.generationTokensPerSecond = frame.tokensPerSecond),
    },
  );
  const seconds = (performance.now() - started) / 1000;
  result.compareSeconds = seconds;
  result.compareTokensPerSecond = (2 * count * 20) / seconds;
} else if (values.mode === 'gemm') {
  const ceiling = await runGemmBenchmark(
    { device: 'cpu', sizes: [1024, 2048, 3072], repeats: 10, threads },
    { signal: new AbortController().signal, progress: () => undefined, frame: () => undefined, workerDir },
  );
  result.gemmCeilingGflops = ceiling.peakGflops;
} else {
  const started = performance.now();
  const model = loadModel(values.folder!);
  const { config } = model;
  const allPost = Array.from({ length: config.nLayers }, (_, layer) => `blocks.${layer}.mlp.hook_post`);
  result.weightsBytes = model.weightsBytes;
  if (values.mode === 'load') {
    // Load to first token as `generate` does it: graph (cached or built), session, one forward.
    const { session, graph } = await openDecoderSession(
      model,
      { hooks: [], hookPositions: 'last', logits: 'last', kvCache: true, interventions: false },
      { device, threads, batch: 1, length: 33 },
    );
    await generate(session, [randomIds(32, config.dVocab)], {
      maxNewTokens: 1,
      sampling: null,
      eosTokenId: null,
      padTokenId: 0,
      useCache: true,
    });
    result.loadToFirstTokenMs = performance.now() - started;
    result.graphCacheHit = String(graph.hit);
    await session.release();
  } else if (values.mode === 'forward-none' || values.mode === 'forward-all') {
    {
      const logits = values.mode === 'forward-none' ? 'none' : 'all';
      const { session } = await openDecoderSession(
        model,
        { hooks: allPost, hookPositions: 'all', logits, kvCache: false, interventions: false },
        { device, threads, batch: 8, length: 128 },
      );
      result[`forward_1x32_logits_${logits}_ms`] = await medianMs(20, () => forward(session, 1, 32, config.dVocab));
      result[`forward_8x128_logits_${logits}_ms`] = await medianMs(5, () => forward(session, 8, 128, config.dVocab));
      await session.release();
    }
  } else {
    const { session } = await openDecoderSession(
      model,
      { hooks: allPost, hookPositions: 'last', logits: 'last', kvCache: true, interventions: false },
      { device, threads, batch: 8, length: 40 },
    );
    for (const batch of [1, 8]) {
      const prompts = Array.from({ length: batch }, () => randomIds(20, config.dVocab));
      result[`generate20_batch${batch}_ms`] = await medianMs(3, () =>
        generate(session, prompts, {
          maxNewTokens: 20,
          sampling: null,
          eosTokenId: null,
          padTokenId: 0,
          useCache: true,
        }),
      );
    }
    await session.release();
  }
}
result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify(result)}\n`);
