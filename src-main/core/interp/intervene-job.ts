// The intervene job (cli.md §6, spec dpo-neurons.md §6–7): generate continuations under one intervention (through
// the graph's intervention inputs, never a rebuilt graph), then score them with an unmodified model and the probe
// (and, when asked, a toxicity classifier: issue 15 §3), and measure perplexity and token F1 with the intervention on.

import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { appVersion } from '../app-version.ts';
import { raise, type InterveneRequest, type InterveneResult, type InterveneSummary } from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { generate } from '../models/decoder/generate.ts';
import type { DecoderInterventions } from '../models/decoder/decoder-session.ts';
import { openDecoderSession } from '../models/decoder/open-session.ts';
import { bosTokenIdOf, loadModel, type LoadedModel } from '../models/load-model.ts';
import { assertGenerationFits, longestPrompt } from '../models/position-limit.ts';
import {
  classifierManifestEntry,
  loadToxicityClassifier,
  openToxicityScorer,
} from '../models/classifier/toxicity-scorer.ts';
import { onnxruntimeVersion, resolveDevice } from '../runtime/onnxruntime.ts';
import type { DeviceReport } from '../../shared/index.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { classifierToxicity } from './classifier-metrics.ts';
import { collectBatch, collectionGraphOptions, emptySums } from './collect-activations.ts';
import { promptIds } from './compare-job.ts';
import { buildIntervention, parseInterventionSpec } from './intervention-spec.ts';
import { perplexity, probeLogits, tokenF1 } from './metrics.ts';
import { loadProbe, type Probe } from './probe.ts';
import { countPrompts, readPrompts } from './prompts.ts';
import { measuresFixedMetrics, writeInterveneShard } from '../scale-out/intervene-shard.ts';
import { shardName, shardPrompts, shardSize } from '../scale-out/shards.ts';

export const interveneFormatVersion = 1;

interface RunContext {
  model: LoadedModel;
  device: DeviceReport;
  request: InterveneRequest;
  signal: AbortSignal;
}

/** Greedy continuations of id lists under an intervention, batched; EOS ends a row. */
async function continuations(
  run: RunContext,
  prompts: number[][],
  interventions: DecoderInterventions,
  onBatch?: (done: number) => void,
): Promise<number[][]> {
  const { model, request } = run;
  const { session } = await openDecoderSession(
    model,
    { hooks: [], hookPositions: 'last', logits: 'next-token', kvCache: true, interventions: true },
    {
      device: run.device,
      threads: request.threads,
      batch: request.batch,
      length: request.maxPromptTokens + 1 + request.maxNewTokens,
    },
  );
  const eos = model.config.eosTokenId ?? model.tokenizer.tokenizer.specialIds.eos;
  const results: number[][] = [];
  try {
    for (let start = 0; start < prompts.length; start += request.batch) {
      throwIfCancelled(run.signal);
      const { generated } = await generate(session, prompts.slice(start, start + request.batch), {
        maxNewTokens: request.maxNewTokens,
        sampling: null,
        eosTokenId: eos,
        padTokenId: eos ?? 0,
        useCache: true,
        signal: run.signal,
        interventions,
      });
      results.push(...generated.map((ids) => ids.filter((id) => id !== eos)));
      onBatch?.(results.length);
    }
  } finally {
    await session.release();
  }
  return results;
}

/** The model's own mean activations over the prompts (for an edit without a compare output). */
async function ownMeans(run: RunContext, prompts: number[][], unit: Float64Array): Promise<Float64Array> {
  const { nLayers, dMlp } = run.model.config;
  const { session } = await openDecoderSession(
    run.model,
    { ...collectionGraphOptions(nLayers), interventions: false },
    {
      device: run.device,
      threads: run.request.threads,
      batch: run.request.batch,
      length: run.request.maxPromptTokens + 1 + run.request.maxNewTokens,
    },
  );
  const sums = emptySums(nLayers, dMlp);
  try {
    for (let start = 0; start < prompts.length; start += run.request.batch) {
      await collectBatch(session, prompts.slice(start, start + run.request.batch), sums, {
        maxNewTokens: run.request.maxNewTokens,
        padTokenId: run.model.config.eosTokenId ?? 0,
        unit,
        signal: run.signal,
      });
    }
  } finally {
    await session.release();
  }
  return sums.post.map((value) => value / Math.max(1, sums.positions));
}

async function readF1Data(path: string): Promise<{ prompt: string; gold: string }[]> {
  if (!existsSync(path))
    raise('INPUT_INVALID', `No F1 data at ${path}.`, 'Pass a JSONL file of {"prompt": ..., "gold": ...}.');
  const rows: { prompt: string; gold: string }[] = [];
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      raise('INPUT_INVALID', `${path}, line ${line}: is not valid JSON.`, 'Each line is {"prompt": ..., "gold": ...}.');
    }
    const { prompt, gold } = (row ?? {}) as { prompt?: unknown; gold?: unknown };
    if (typeof prompt !== 'string' || typeof gold !== 'string')
      raise(
        'INPUT_INVALID',
        `${path}, line ${line}: needs "prompt" and "gold" strings.`,
        'Each line is {"prompt": ..., "gold": ...}.',
      );
    rows.push({ prompt, gold });
  }
  return rows;
}

function probeHook(probe: Probe, model: LoadedModel): string {
  const hook = probe.metadata?.hook ?? `blocks.${model.config.nLayers - 1}.hook_resid_post`;
  if (!/^blocks\.\d+\.hook_resid_post$|^ln_final\.hook_normalized$/.test(hook))
    raise(
      'INPUT_INVALID',
      `The probe reads ${hook}, which the scorer does not expose.`,
      'Retrain the probe on a residual hook.',
    );
  return hook;
}

export const interveneJob: Job<InterveneRequest, never, InterveneResult> = async (request, context) => {
  const started = performance.now();
  context.progress({ done: 0, total: null, message: 'Loading the model, the scorer and the probe' });
  const model = loadModel(request.model, request.weights);
  const scorer = loadModel(request.scorer ?? request.model);
  const probe = loadProbe(request.probe, model.config.dModel);
  if (scorer.config.dModel !== model.config.dModel || scorer.tokenizerSha256 !== model.tokenizerSha256) {
    raise(
      'INPUT_INVALID',
      'The scorer must have the same d_model and tokenizer as the model.',
      'Leave out --scorer to score with the base model.',
    );
  }
  const spec = parseInterventionSpec(request.intervention);
  if (request.shard && spec.kind === 'edit' && !spec.from)
    raise(
      'INPUT_INVALID',
      `${request.intervention} takes the model's mean activations over all the prompts, which ${shardName(request.shard)} does not see.`,
      'Run compare first and pass its folder as from=DIR (edit:alpha=A,beta=B,from=DIR), or run without --shard.',
    );
  // Checked (and its weights hashed) now, so a bad classifier fails before the generation, not after it.
  const classifier = request.classifier
    ? loadToxicityClassifier(request.classifier, request.classifierTokenizer)
    : null;
  const device = await resolveDevice(request.device);
  const run: RunContext = { model, device, request, signal: context.signal };

  const available = await countPrompts(request.prompts, request.column);
  // With --shard, `total` and the prompt indices count only the shard's prompts (see scale-out/shards.ts).
  const runTotal = Math.min(available, request.limit ?? available);
  const total = request.shard ? shardSize(runTotal, request.shard) : runTotal;
  const texts: string[] = [];
  for await (const prompt of shardPrompts(readPrompts(request.prompts, request.column), runTotal, request.shard)) {
    if (prompt.index >= total) break;
    texts.push(prompt.text);
  }
  const ids = await promptIds(model, texts, request.maxPromptTokens, request.prependBos);
  const longest = longestPrompt(ids);
  if (longest)
    assertGenerationFits([model], longest, request.maxNewTokens, {
      prompts: 'set',
      promptCut: { addedTokens: request.prependBos && bosTokenIdOf(model) !== null ? 1 : 0 },
    });
  const built = await buildIntervention(spec, model, probe, () => ownMeans(run, ids, probe.unit));

  context.progress({ done: 0, total, message: `Generating under: ${built.description}` });
  const generated = await continuations(run, ids, built.tensors, (done) =>
    context.progress({ done, total, message: `${done} of ${total} prompts generated` }),
  );

  context.progress({ done: total, total, message: 'Scoring toxicity with the unmodified scorer and the probe' });
  const hook = probeHook(probe, scorer);
  const scorerSession = (
    await openDecoderSession(
      scorer,
      { hooks: [hook], hookPositions: 'all', logits: 'none', kvCache: false, interventions: false },
      { device, threads: request.threads, batch: request.batch, length: request.maxNewTokens },
    )
  ).session;
  let scores: (number | null)[];
  try {
    scores = await probeLogits(scorerSession, generated, probe, hook, {
      batch: request.batch,
      padTokenId: scorer.config.eosTokenId ?? 0,
      nCtx: scorer.config.nCtx,
      signal: context.signal,
    });
  } finally {
    await scorerSession.release();
  }
  const scored = scores.filter((score): score is number => score !== null);
  const continuationTexts = await model.tokenizer.tokenizer.decodeBatch(generated, { skipSpecialTokens: true });

  // [prompts]: each continuation's toxicity as the classifier sees it (the text a reader would see, prompt excluded).
  let classifierScores: number[] | null = null;
  if (classifier) {
    context.progress({
      done: total,
      total,
      message: `Scoring the continuations with ${classifier.identity.reference}`,
    });
    throwIfCancelled(context.signal);
    const scorer = await openToxicityScorer(classifier, { device, threads: request.threads });
    try {
      classifierScores = await scorer.score(continuationTexts);
    } finally {
      await scorer.release();
    }
  }

  let perplexityValue: number | null = null;
  if (request.pplText && measuresFixedMetrics(request.shard)) {
    if (!existsSync(request.pplText))
      raise('INPUT_INVALID', `No text at ${request.pplText}.`, 'Pass a UTF-8 text file with --ppl-text.');
    const pplIds = await model.tokenizer.tokenizer.encode(readFileSync(request.pplText, 'utf8'));
    const { session } = await openDecoderSession(
      model,
      { hooks: [], hookPositions: 'all', logits: 'all', kvCache: false, interventions: true },
      // a few long windows: weights not repacked (see DecoderRun.once)
      { device, threads: request.threads, batch: 1, length: model.config.nCtx, once: true },
    );
    try {
      perplexityValue = (
        await perplexity(session, pplIds, {
          nCtx: model.config.nCtx,
          interventions: built.tensors,
          signal: context.signal,
          onWindow: (done, windows) =>
            context.progress({ done, total: windows, message: `Perplexity: window ${done} of ${windows}` }),
        })
      ).perplexity;
    } finally {
      await session.release();
    }
  }

  let f1: number | null = null;
  if (request.f1Data && measuresFixedMetrics(request.shard)) {
    const rows = await readF1Data(request.f1Data);
    const tokenizer = model.tokenizer.tokenizer;
    const f1Prompts = (await tokenizer.encodeBatch(rows.map((row) => row.prompt))).map((ids) =>
      ids.slice(0, request.maxPromptTokens),
    );
    const golds = await tokenizer.encodeBatch(rows.map((row) => row.gold));
    const longestF1 = longestPrompt(f1Prompts);
    if (longestF1)
      assertGenerationFits([model], longestF1, request.maxNewTokens, { prompts: 'set', promptName: 'F1 prompt' });
    const outputs = await continuations(
      run,
      f1Prompts.map((prompt) => (prompt.length ? prompt : [model.config.eosTokenId ?? 0])),
      built.tensors,
    );
    const eos = model.config.eosTokenId;
    const values = golds.map((gold, index) =>
      tokenF1(
        [...f1Prompts[index]!, ...outputs[index]!].filter((id) => id !== eos),
        gold.slice(0, 52),
      ),
    );
    f1 = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  }

  throwIfCancelled(context.signal);
  const summary: InterveneSummary = {
    toxicity: {
      probe: scored.reduce((sum, value) => sum + value, 0) / Math.max(1, scored.length),
      probeFractionAbove: scored.filter((value) => value > 0).length / Math.max(1, scored.length),
      scored: scored.length,
      scorer: `${scorer.resolved.reference} (unmodified) with the probe ${probe.path} on the mean of ${hook}`,
      classifier: classifier && classifierScores ? classifierToxicity(classifier.identity, classifierScores) : null,
    },
    perplexity: perplexityValue,
    f1,
    prompts: total,
    intervention: { spec: request.intervention, description: built.description, neurons: built.neurons },
  };
  if (!request.shard) writeFileAtomic(join(request.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileAtomic(
    join(request.out, 'generations.jsonl'),
    texts
      .map(
        (prompt, index) =>
          JSON.stringify({
            prompt,
            continuation: continuationTexts[index],
            toxicity: scores[index],
            ...(classifierScores ? { classifierToxicity: classifierScores[index] } : {}),
          }) + '\n',
      )
      .join(''),
  );
  const manifest = {
    app: 'ToxScope',
    appVersion,
    formatVersion: interveneFormatVersion,
    command: 'intervene',
    createdAt: new Date().toISOString(),
    model: {
      reference: model.resolved.reference,
      weightsFiles: model.stateDict.files,
      sha256: model.fingerprint(),
    },
    scorer: { reference: scorer.resolved.reference, sha256: scorer.fingerprint() },
    probe: { path: probe.path, sha256: probe.sha256, hook },
    classifier: classifier ? classifierManifestEntry(classifier) : null,
    prompts: { path: request.prompts, sha256: sha256File(request.prompts), count: total },
    pplText: request.pplText ? { path: request.pplText, sha256: sha256File(request.pplText) } : null,
    f1Data: request.f1Data ? { path: request.f1Data, sha256: sha256File(request.f1Data) } : null,
    settings: {
      intervention: request.intervention,
      maxNewTokens: request.maxNewTokens,
      maxPromptTokens: request.maxPromptTokens,
      batch: request.batch,
      prependBos: request.prependBos,
      decoding: 'greedy, stops at EOS',
    },
    device,
    onnxruntime: onnxruntimeVersion(),
    timings: { totalSeconds: (performance.now() - started) / 1000 },
    // The interventions lab's condition, so Results lists a lab run once and reopens its table.
    ...(request.labCondition ? { lab: request.labCondition } : {}),
  };
  if (request.shard)
    writeInterveneShard(request.out, {
      shard: request.shard,
      runTotal,
      total,
      formatVersion: interveneFormatVersion,
      manifest,
      request,
      summary,
      classifier: classifier?.identity ?? null,
    });
  else writeFileAtomic(join(request.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { out: request.out, device, summary };
};
