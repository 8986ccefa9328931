// The compare job (spec dpo-neurons.md §4–5, cli.md §5): base and DPO each greedily continue every prompt; the last
// position's MLP activations of every forward pass are summed next to the model; per-neuron means, projections,
// groups and shares follow. Batches run base then DPO on the same prompts, so partial results stream as they grow;
// sums are checkpointed after every batch and an interrupted run resumes in the same output folder. With a toxicity
// classifier (issue 15 §3) both models' continuations are scored at the end, so the headline says how much DPO
// reduced toxicity as a classifier sees it, not only in probe space.

import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { appVersion } from '../app-version.ts';
import {
  AppErrorException,
  raise,
  toAppError,
  type CompareFrame,
  type CompareRequest,
  type CompareResult,
  type DeviceReport,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { csvLine } from '../files/csv.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { assertSessionsFit } from '../models/decoder/open-session.ts';
import { bosTokenIdOf, type LoadedModel } from '../models/load-model.ts';
import {
  classifierManifestEntry,
  loadToxicityClassifier,
  openToxicityScorer,
  type ToxicityScorer,
} from '../models/classifier/toxicity-scorer.ts';
import { assertGenerationFits, longestPrompt, type PromptLength } from '../models/position-limit.ts';
import { onnxruntimeVersion, resolveDevice } from '../runtime/onnxruntime.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { openSafetensors, writeSafetensors } from '../weights/safetensors.ts';
import { compareClassifierToxicity } from './classifier-metrics.ts';
import { collectionGraphOptions, emptySums, type ActivationSums } from './collect-activations.ts';
import { CompareModelThread } from './compare-model-thread.ts';
import { loadModelPair } from './compare-models.ts';
import { neuronResults, summarise, type CompareInputs, type NeuronResults } from './derived-results.ts';
import { loadProbe } from './probe.ts';
import { assertNoLiveRun, failedRunFile, recordRunFailure, RunClaim } from './run-marker.ts';
import { countPrompts, readPrompts } from './prompts.ts';
import { writeCompareShard } from '../scale-out/compare-shard.ts';
import { shardPrompts, shardSize } from '../scale-out/shards.ts';

/** Bumped when the files compare writes change shape (also in manifest.json). */
export const compareFormatVersion = 1;

/**
 * Prompts run in windows of this many batches. Each window is sorted by prompt length, so a batch left-pads its
 * prompts to similar widths (on prompts of 8–32 tokens at batch 16 the prefills took ≈ 20% less time: see
 * docs/benchmarks.md). Sums and state are saved after every batch; a window's continuations are appended in prompt
 * order when it ends, and until then they are kept in the state, so a resumed run finishes the window it was in (at
 * the --batch it is given now).
 */
const batchesPerWindow = 4;

export const neuronsCsvHeader = [
  'layer',
  'neuron',
  'cos_pre',
  'cos_dpo',
  's_pre',
  's_dpo',
  'mean_act_pre',
  'mean_act_dpo',
  'proj_pre',
  'proj_dpo',
  'delta',
  'delta_act',
  'group',
  'group_v3',
];

/** Bump when `.partial/` changes shape, so a run interrupted by another version starts over instead of misreading it. */
const partialStateVersion = 2;

interface PartialState {
  settingsHash: string;
  /** Prompts whose activations are in the saved sums: finished windows and the open window's finished rows. */
  promptsDone: number;
  /** Which sums files hold those activations (`base.N.safetensors`, `dpo.N.safetensors`); absent before the first. */
  checkpoint?: number;
  /** The window in progress, once one of its batches is done; absent between windows. */
  window?: OpenWindow;
}

/** A window (see batchesPerWindow) interrupted part-way: what a resume needs to finish it. */
interface OpenWindow {
  /** Index of its first prompt; base.jsonl and dpo.jsonl hold the continuations of every prompt before it. */
  start: number;
  /** Its prompts, whatever --batch a resume is given. */
  size: number;
  /** Its first rowsDone prompts in length order are done (a resume finishes the rest at the new --batch). */
  rowsDone: number;
  /** Each model's continuations (JSON lines) by row of the window; null for rows not run yet. */
  base: (string | null)[];
  dpo: (string | null)[];
}

const sumsPath = (partialDir: string, label: 'base' | 'dpo', checkpoint: number) =>
  join(partialDir, `${label}.${checkpoint}.safetensors`);

/** Appends text to a file and flushes it to disk (the state saved after it must never promise lines that are lost). */
function appendDurably(path: string, text: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Truncates a resumed run's continuation file to its first `count` lines (`count` 0 removes it). */
function keepFirstLines(path: string, count: number): void {
  if (count === 0) return rmSync(path, { force: true });
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  let end = 0;
  for (let line = 0; line < count; line++) {
    end = text.indexOf('\n', end) + 1;
    if (end === 0)
      raise(
        'INPUT_INVALID',
        `${path} holds fewer continuations than the interrupted run's state says it finished (${count}).`,
        'The unfinished run cannot be resumed: delete the .partial folder inside the output folder and run again.',
      );
  }
  if (end < text.length) writeFileAtomic(path, text.slice(0, end));
}

/**
 * Tokenises prompts as the analysis does, all in one tokenizer call: each one's first max-prompt-tokens tokens, after
 * BOS when asked. As TransformerLens' to_tokens, the text is tokenized without the tokenizer's own special tokens, so
 * a Llama, Mistral or Gemma prompt gets exactly one BOS (with prependBos) or none, never two.
 */
export async function promptIds(
  model: LoadedModel,
  texts: readonly string[],
  maxPromptTokens: number,
  prependBos: boolean,
): Promise<number[][]> {
  const bos = bosTokenIdOf(model);
  return (await model.tokenizer.tokenizer.encodeBatch(texts, { addSpecialTokens: false })).map((encoded) => {
    const ids = encoded.slice(0, maxPromptTokens);
    if (prependBos && bos !== null) return [bos, ...ids];
    if (ids.length === 0) return [model.config.eosTokenId ?? 0]; // an empty prompt still needs one token to continue from
    return ids;
  });
}

/**
 * Refuses a prompt set whose longest prompt (as promptIds cuts it) plus the new tokens overruns the positions of any of
 * the models. The prompts are tokenized only when the longest possible prompt would not fit.
 */
export async function assertPromptSetFits(
  models: readonly LoadedModel[],
  request: { prompts: string; column?: string; maxPromptTokens: number; maxNewTokens: number; prependBos: boolean },
  total: number,
): Promise<void> {
  const model = models[0]!;
  const addedTokens = request.prependBos && bosTokenIdOf(model) !== null ? 1 : 0;
  const positions = Math.min(...models.map((each) => each.config.nCtx));
  if (request.maxPromptTokens + addedTokens + request.maxNewTokens <= positions) return;
  // The longest prompt, measured 256 prompts at a time so a large set is never held whole.
  const longestOf = async (texts: string[], firstNumber: number, longest: PromptLength | null) => {
    const candidate = longestPrompt(
      await promptIds(model, texts, request.maxPromptTokens, request.prependBos),
      firstNumber,
    );
    return candidate && (!longest || candidate.tokens > longest.tokens) ? candidate : longest;
  };
  let longest: PromptLength | null = null;
  let chunk: string[] = [];
  let measured = 0;
  for await (const prompt of readPrompts(request.prompts, request.column)) {
    if (prompt.index >= total) break;
    chunk.push(prompt.text);
    if (chunk.length === 256) {
      longest = await longestOf(chunk, measured + 1, longest);
      measured += chunk.length;
      chunk = [];
    }
  }
  longest = await longestOf(chunk, measured + 1, longest);
  if (longest)
    assertGenerationFits(models, longest, request.maxNewTokens, {
      prompts: 'set',
      promptCut: { addedTokens },
    });
}

/**
 * How the two models share the intra-op threads. On the CPU they run side by side, each on half of them (the
 * operating system's count of logical cores when --threads is not given): on 2 cores the gpt2-medium compare took
 * 15.1–17.8 s side by side against 17.8–20.0 s in turns on both threads, the Llama-3.2-1B-shaped one 40.3–48.2 against
 * 48.9–51.0 s, for a second KV cache and a second thread's working memory (gpt2-medium: about 0.3 GiB more at the
 * peak since graph builder 11; see docs/benchmarks.md). A GPU, or a single thread, runs them in turns with all the
 * threads.
 */
export function threadSplit(device: DeviceReport, threads?: number): { sideBySide: boolean; threads?: number } {
  const cores = threads ?? availableParallelism();
  if (device.used !== 'cpu' || cores < 2) return { sideBySide: false, threads };
  return { sideBySide: true, threads: Math.floor(cores / 2) };
}

export function meansOf(sums: ActivationSums): Float64Array {
  return sums.post.map((value) => value / Math.max(1, sums.positions));
}

/** L^ℓ: mean MLP output projected on ŵ, centred over d_model when W_out is (TransformerLens processing). */
export function layerProjection(sums: ActivationSums, unitSum: number, centred: boolean): Float64Array {
  return sums.outProjection.map(
    (value, layer) => (value - (centred ? sums.outMean[layer]! * unitSum : 0)) / Math.max(1, sums.positions),
  );
}

function saveSums(path: string, sums: ActivationSums): void {
  writeSafetensors(path, [
    { name: 'post', dtype: 'F64', shape: [sums.post.length], data: sums.post },
    { name: 'out_projection', dtype: 'F64', shape: [sums.nLayers], data: sums.outProjection },
    { name: 'out_mean', dtype: 'F64', shape: [sums.nLayers], data: sums.outMean },
    { name: 'counts', dtype: 'F64', shape: [2], data: Float64Array.of(sums.positions, sums.prompts) },
  ]);
}

function loadSums(path: string, nLayers: number, dMlp: number): ActivationSums {
  const file = openSafetensors(path);
  const counts = file.readFloat64('counts');
  return {
    nLayers,
    dMlp,
    post: file.readFloat64('post'),
    outProjection: file.readFloat64('out_projection'),
    outMean: file.readFloat64('out_mean'),
    positions: counts[0]!,
    prompts: counts[1]!,
  };
}

export function writeNeuronsCsv(path: string, inputs: CompareInputs, results: NeuronResults): void {
  const lines = [csvLine(neuronsCsvHeader)];
  for (let index = 0; index < inputs.nLayers * inputs.dMlp; index++) {
    lines.push(
      csvLine([
        Math.floor(index / inputs.dMlp),
        index % inputs.dMlp,
        inputs.pre.cos[index]!,
        inputs.dpo.cos[index]!,
        inputs.pre.s[index]!,
        inputs.dpo.s[index]!,
        inputs.meanPre[index]!,
        inputs.meanDpo[index]!,
        results.projPre[index]!,
        results.projDpo[index]!,
        results.delta[index]!,
        results.deltaAct[index]!,
        results.groupV1[index]!,
        results.groupV3[index]!,
      ]),
    );
  }
  writeFileAtomic(path, lines.join(''));
}

/**
 * A failed run keeps what it finished in `.partial/`: the error says where, and that running again resumes there
 * (the results history lists the folder too, with its error). A cancel is not a failure and stays as it is.
 */
function notePartialFolder(thrown: unknown, partialDir: string): unknown {
  const error = toAppError(thrown);
  if (error.code === 'CANCELLED') return thrown;
  recordRunFailure(partialDir, error);
  const kept = `What finished is kept in ${partialDir}`;
  return new AppErrorException({
    ...error,
    hint: `${error.hint} ${kept}: run the same command again to resume there, or delete ${dirname(partialDir)}.`,
    appHint: `${error.appHint ?? error.hint} ${kept}: resume or delete it on the Results page.`,
  });
}

export const compareJob: Job<CompareRequest, CompareFrame, CompareResult> = async (request, context) => {
  const started = performance.now();
  context.progress({ done: 0, total: null, message: 'Loading the models, the probe and the prompts' });
  const { base, dpo, sources } = loadModelPair(request.base, request.baseWeights, request.dpo);
  const probe = loadProbe(request.probe, base.config.dModel);
  // Checked (and its weights hashed) now, so a bad classifier fails before the generation, not after it.
  const classifier = request.classifier
    ? loadToxicityClassifier(request.classifier, request.classifierTokenizer)
    : null;
  const available = await countPrompts(request.prompts, request.column);
  // With --shard, `total` and every prompt index below count only the shard's prompts (see scale-out/shards.ts).
  const runTotal = Math.min(available, request.limit ?? available);
  const total = request.shard ? shardSize(runTotal, request.shard) : runTotal;
  const prompts = () => shardPrompts(readPrompts(request.prompts, request.column), runTotal, request.shard);
  await assertPromptSetFits([base, dpo], request, runTotal);
  const device = await resolveDevice(request.device);
  const { nLayers, dMlp } = base.config;

  // Everything that changes the numbers, so a resume only continues a run with the same inputs.
  const settings = {
    formatVersion: compareFormatVersion,
    partialStateVersion,
    base: base.fingerprint(),
    dpo: dpo.fingerprint(),
    probe: probe.sha256,
    prompts: sha256File(request.prompts),
    column: request.column ?? null,
    total,
    maxNewTokens: request.maxNewTokens,
    maxPromptTokens: request.maxPromptTokens,
    prependBos: request.prependBos,
    ...(request.shard ? { shard: request.shard } : {}),
  };
  const settingsHash = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
  const partialDir = join(request.out, '.partial');
  const statePath = join(partialDir, 'state.json');
  mkdirSync(partialDir, { recursive: true });
  assertNoLiveRun(partialDir, request.out);
  let state: PartialState = { settingsHash, promptsDone: 0 };
  let sumsBase = emptySums(nLayers, dMlp);
  let sumsDpo = emptySums(nLayers, dMlp);
  if (existsSync(statePath)) {
    const previous = JSON.parse(readFileSync(statePath, 'utf8')) as PartialState;
    if (previous.settingsHash === settingsHash && previous.promptsDone > 0 && previous.checkpoint) {
      state = previous;
      sumsBase = loadSums(sumsPath(partialDir, 'base', previous.checkpoint), nLayers, dMlp);
      sumsDpo = loadSums(sumsPath(partialDir, 'dpo', previous.checkpoint), nLayers, dMlp);
    } else {
      rmSync(partialDir, { recursive: true, force: true }); // another run's leftovers: start over
      mkdirSync(partialDir, { recursive: true });
    }
  }
  const resumedFrom = state.promptsDone;
  // While it runs, the folder is claimed: a second run into it is refused and the results history shows it running.
  const claim = new RunClaim(partialDir);
  rmSync(join(partialDir, failedRunFile), { force: true });
  try {
    return await generateAndWrite();
  } catch (thrown) {
    throw notePartialFolder(thrown, partialDir);
  } finally {
    claim.release();
  }

  /** Everything after the claim: generation batch by batch, then the output files. */
  async function generateAndWrite(): Promise<CompareResult> {
    // The request that resumes this run, for the results history (a run it interrupted can be resumed from there).
    writeFileAtomic(join(partialDir, 'request.json'), JSON.stringify(request, null, 2) + '\n');
    // The continuation files hold exactly the prompts before the first unfinished window (a crash between appending
    // a window and saving the state can leave that window's lines behind).
    const windowStart = state.window?.start ?? state.promptsDone;
    for (const file of ['base.jsonl', 'dpo.jsonl']) keepFirstLines(join(partialDir, file), windowStart);

    const graphOptions = { ...collectionGraphOptions(nLayers), interventions: false };
    const length = request.maxPromptTokens + 1 + request.maxNewTokens;
    const split = threadSplit(device, request.threads);
    const run = { device, threads: split.threads, batch: request.batch, length };
    assertSessionsFit([base, dpo], graphOptions, run);
    // Each model on a thread of its own: both sessions open at once, and their batches run side by side when `split`
    // says so. If one fails to start, the other is released before the error is reported.
    const start = (label: 'base' | 'dpo', sums: ActivationSums) =>
      CompareModelThread.start(
        context.workerDir,
        {
          source: sources[label],
          unit: probe.unit,
          weightProcessing: request.weightProcessing,
          graphOptions,
          run,
          sums,
          maxNewTokens: request.maxNewTokens,
          padTokenId: base.config.eosTokenId ?? 0,
        },
        label === 'base' ? 'the base model' : 'the DPO model',
        context.signal,
      );
    const starts = await Promise.allSettled([start('base', sumsBase), start('dpo', sumsDpo)]);
    const failed = starts.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      for (const outcome of starts) if (outcome.status === 'fulfilled') await outcome.value.release();
      throw failed.reason;
    }
    const [baseThread, dpoThread] = starts.map(
      (outcome) => (outcome as PromiseFulfilledResult<CompareModelThread>).value,
    ) as [CompareModelThread, CompareModelThread];
    const preStatic = baseThread.statics;
    const dpoStatic = dpoThread.statics;
    const unitSum = probe.unit.reduce((sum, value) => sum + value, 0);
    const centred = request.weightProcessing === 'center';
    const inputsFromSums = (): CompareInputs => ({
      nLayers,
      dMlp,
      meanPre: meansOf(sumsBase),
      meanDpo: meansOf(sumsDpo),
      pre: preStatic,
      dpo: dpoStatic,
      layerProjectionPre: layerProjection(sumsBase, unitSum, centred),
      layerProjectionDpo: layerProjection(sumsDpo, unitSum, centred),
      prompts: sumsBase.prompts,
      positions: sumsBase.positions,
      weightProcessing: request.weightProcessing,
      neuronContribution: base.config.sandwichNorms ? 'before-post-feedforward-norm' : 'exact',
    });

    /** One batch through both models: side by side or in turns; side by side, both finish before an error is thrown. */
    const collectBoth = async (batch: number[][]) => {
      if (!split.sideBySide) return [await baseThread.collect(batch), await dpoThread.collect(batch)] as const;
      const [baseIds, dpoIds] = await Promise.allSettled([baseThread.collect(batch), dpoThread.collect(batch)]);
      if (baseIds.status === 'rejected') throw baseIds.reason;
      if (dpoIds.status === 'rejected') throw dpoIds.reason;
      return [baseIds.value, dpoIds.value] as const;
    };
    const tokenizer = base.tokenizer.tokenizer;
    const runStarted = performance.now();
    let tokensThisRun = 0;
    try {
      /** Progress and a partial-results frame after every batch. */
      const report = (promptsDone: number) => {
        claim.touch();
        const seconds = (performance.now() - runStarted) / 1000;
        const tokensPerSecond = tokensThisRun / seconds;
        const remaining = total - promptsDone;
        const secondsLeft = tokensPerSecond > 0 ? (remaining * 2 * request.maxNewTokens) / tokensPerSecond : null;
        context.progress({
          done: promptsDone,
          total,
          message: `${promptsDone} of ${total} prompts, ${tokensPerSecond.toFixed(1)} tokens/s${secondsLeft !== null && remaining > 0 ? `, about ${Math.ceil(secondsLeft)} s left` : ''}`,
        });
        const inputs = inputsFromSums();
        context.frame({
          promptsDone,
          promptsTotal: total,
          tokensPerSecond,
          secondsLeft,
          summary: summarise(inputs, neuronResults(inputs)),
        });
      };

      /**
       * Saves the sums as checkpoint N + 1, then the state that points to them, then drops checkpoint N: a crash at any
       * point leaves a state whose sums match it.
       */
      const checkpoint = () => {
        const previous = state.checkpoint;
        const next = (previous ?? 0) + 1;
        saveSums(sumsPath(partialDir, 'base', next), sumsBase);
        saveSums(sumsPath(partialDir, 'dpo', next), sumsDpo);
        writeFileAtomic(statePath, JSON.stringify({ ...state, checkpoint: next }));
        state.checkpoint = next;
        if (previous)
          for (const label of ['base', 'dpo'] as const) rmSync(sumsPath(partialDir, label, previous), { force: true });
      };

      /**
       * One window of prompts (see batchesPerWindow), or the rest of an interrupted one: batches of prompts of
       * similar length, a checkpoint after each, then the window's continuations in prompt order.
       */
      const runWindow = async (prompts: { index: number; text: string }[], resumed: OpenWindow | null) => {
        const open: OpenWindow = resumed ?? {
          start: prompts[0]!.index,
          size: prompts.length,
          rowsDone: 0,
          base: prompts.map(() => null),
          dpo: prompts.map(() => null),
        };
        const ids = await promptIds(
          base,
          prompts.map((prompt) => prompt.text),
          request.maxPromptTokens,
          request.prependBos,
        );
        const byLength = ids.map((_, row) => row).sort((a, b) => ids[a]!.length - ids[b]!.length || a - b);
        for (let start = open.rowsDone; start < byLength.length; start += request.batch) {
          const rows = byLength.slice(start, start + request.batch);
          const generated = await collectBoth(rows.map((row) => ids[row]!));
          sumsBase = baseThread.sums;
          sumsDpo = dpoThread.sums;
          for (const [label, continuations] of [
            ['base', generated[0]],
            ['dpo', generated[1]],
          ] as const) {
            (await tokenizer.decodeBatch(continuations, { skipSpecialTokens: true })).forEach((text, k) => {
              open[label][rows[k]!] = JSON.stringify(text) + '\n';
            });
            tokensThisRun += rows.length * request.maxNewTokens;
          }
          open.rowsDone += rows.length;
          state.promptsDone += rows.length;
          state.window = open;
          checkpoint();
          report(state.promptsDone);
        }
        if ([...open.base, ...open.dpo].some((line) => line === null))
          raise(
            'INTERNAL',
            'The interrupted window of prompts no longer sorts as it did (the tokenizer or the prompts changed).',
            'Delete the .partial folder inside the output folder and run again.',
          );
        for (const label of ['base', 'dpo'] as const)
          appendDurably(join(partialDir, `${label}.jsonl`), open[label].join(''));
        delete state.window;
        writeFileAtomic(statePath, JSON.stringify(state));
      };

      // Windows are cut from the first unfinished one on; an interrupted window keeps its own prompts.
      let resumed = state.window ?? null;
      let window: { index: number; text: string }[] = [];
      for await (const prompt of prompts()) {
        if (prompt.index >= total) break;
        if (prompt.index < windowStart) continue;
        throwIfCancelled(context.signal);
        window.push(prompt);
        if (window.length === (resumed?.size ?? request.batch * batchesPerWindow)) {
          await runWindow(window, resumed);
          resumed = null;
          window = [];
        }
      }
      if (window.length > 0) await runWindow(window, resumed);
    } finally {
      await Promise.all([baseThread.release(), dpoThread.release()]);
    }

    context.progress({
      done: total,
      total,
      message: classifier
        ? `Scoring the continuations with ${classifier.identity.reference}; writing the results`
        : 'Writing neurons.csv, summary.json, generations.jsonl and manifest.json',
    });
    const inputs = inputsFromSums();
    const results = neuronResults(inputs);
    if (!request.shard) writeNeuronsCsv(join(request.out, 'neurons.csv'), inputs, results);

    // generations.jsonl: the prompts and both continuations (and, with a classifier, their toxicity), streamed side
    // by side into a temporary file, then renamed.
    const generationsPath = join(request.out, 'generations.jsonl');
    const temporary = `${generationsPath}.${process.pid}.tmp`;
    writeFileSync(temporary, ''); // a shard can have no prompts
    const readers = ['base', 'dpo'].map((label) =>
      createInterface({ input: createReadStream(join(partialDir, `${label}.jsonl`), 'utf8'), crlfDelay: Infinity })[
        Symbol.asyncIterator
      ](),
    );
    const scorer: ToxicityScorer | null = classifier
      ? await openToxicityScorer(classifier, { device, threads: request.threads })
      : null;
    // [prompts]: each model's continuations' toxicity, in prompt order (with a classifier).
    const classifierScores = { base: [] as number[], dpo: [] as number[] };
    let pending: { prompt: string; base: string; dpo: string }[] = [];
    /** Appends the pending rows, each continuation scored first when there is a classifier. */
    const flush = async () => {
      if (pending.length === 0) return;
      throwIfCancelled(context.signal);
      const scores = scorer
        ? {
            base: await scorer.score(pending.map((row) => row.base)),
            dpo: await scorer.score(pending.map((row) => row.dpo)),
          }
        : null;
      if (scores) {
        classifierScores.base.push(...scores.base);
        classifierScores.dpo.push(...scores.dpo);
      }
      const lines = pending.map(
        (row, index) =>
          JSON.stringify(scores ? { ...row, baseToxicity: scores.base[index], dpoToxicity: scores.dpo[index] } : row) +
          '\n',
      );
      appendFileSync(temporary, lines.join(''));
      pending = [];
    };
    try {
      for await (const prompt of prompts()) {
        if (prompt.index >= total) break;
        const [baseLine, dpoLine] = await Promise.all(readers.map((reader) => reader.next()));
        if (baseLine!.done || dpoLine!.done)
          raise(
            'INTERNAL',
            'The saved continuations are shorter than the prompt set.',
            'Delete the output folder and run again.',
          );
        pending.push({
          prompt: prompt.text,
          base: JSON.parse(baseLine!.value) as string,
          dpo: JSON.parse(dpoLine!.value) as string,
        });
        if (pending.length >= 1000) await flush();
      }
      await flush();
    } finally {
      await scorer?.release();
    }
    await Promise.all(readers.map((reader) => reader.return?.()));
    renameSync(temporary, generationsPath);

    const summary = {
      ...summarise(inputs, results),
      classifier: classifier
        ? compareClassifierToxicity(classifier.identity, classifierScores.base, classifierScores.dpo)
        : null,
    };
    if (!request.shard) writeFileAtomic(join(request.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');

    const modelEntry = (model: LoadedModel) => ({
      reference: model.resolved.reference,
      folder: model.resolved.folder,
      weightsFiles: model.stateDict.files,
      sha256: model.fingerprint(),
    });
    const manifest = {
      app: 'ToxScope',
      appVersion,
      formatVersion: compareFormatVersion,
      command: 'compare',
      createdAt: new Date().toISOString(),
      models: { base: modelEntry(base), dpo: modelEntry(dpo) },
      probe: { path: probe.path, format: probe.format, sha256: probe.sha256, norm: probe.norm },
      classifier: classifier ? classifierManifestEntry(classifier) : null,
      prompts: { path: request.prompts, column: request.column ?? null, sha256: settings.prompts, count: total },
      settings: {
        maxNewTokens: request.maxNewTokens,
        maxPromptTokens: request.maxPromptTokens,
        batch: request.batch,
        prependBos: request.prependBos,
        weightProcessing: request.weightProcessing,
        decoding: 'greedy, exactly max-new-tokens per prompt',
        threads: request.threads ?? null,
      },
      device,
      onnxruntime: onnxruntimeVersion(),
      resumedFrom,
      request,
      timings: {
        totalSeconds: (performance.now() - started) / 1000,
        generationSeconds: (performance.now() - runStarted) / 1000,
      },
    };
    if (request.shard)
      writeCompareShard(request.out, {
        shard: request.shard,
        runTotal,
        total,
        settings,
        manifest,
        sums: { base: sumsBase, dpo: sumsDpo },
        statics: { pre: preStatic, dpo: dpoStatic },
        unitSum,
        neuronContribution: inputs.neuronContribution,
        weightProcessing: request.weightProcessing,
        classifier: classifier?.identity ?? null,
        batch: request.batch,
      });
    else writeFileAtomic(join(request.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    rmSync(partialDir, { recursive: true, force: true });
    return { out: request.out, device, summary, resumedFrom };
  }
};
