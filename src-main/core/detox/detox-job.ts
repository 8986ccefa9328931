// The detox job (cli.md §7, spec marco.md §3–4): a document is split into sentences; each distinct sentence is
// masked and, when any word was masked, rewritten by the product of experts; everything else in the document is
// kept byte for byte. Sentences are batched, identical sentences computed once; cancelling keeps what is done.
// The models are opened once by openDetoxEngine, so a batch of files (batch-job.ts) shares them. With a toxicity
// gate (cli.md "Detox safety", toxicity-gate.ts) only sentences the classifier scores above the threshold are masked,
// and every candidate rewrite is judged: refused ones are re-sampled, and after maxResamples the original is kept.

import { existsSync, readFileSync } from 'node:fs';
import {
  raise,
  type DetoxFrame,
  type DetoxFrameSegment,
  type DetoxGateAttempt,
  type DetoxGateCounts,
  type DetoxGateReport,
  type DetoxGateSettings,
  type DetoxSegmentGate,
  type DetoxModelFingerprints,
  type DetoxRequest,
  type DetoxResult,
  type DetoxSegment,
  type DetoxSettings,
  type DeviceChoice,
  type DeviceReport,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import type { Job, JobContext } from '../jobs/job.ts';
import { BartSession } from '../models/bart/bart-session.ts';
import { loadBartModel, type LoadedBartModel } from '../models/load-model.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { infill } from './infiller.ts';
import { maskSentences, type MaskedSentence } from './masker.ts';
import { replaceSegments, splitSegmentsToFit, type Segment } from './segments.ts';
import { openToxicityGate, refusalOf, type GateScore, type ToxicityGate } from './toxicity-gate.ts';

/** Length of the longest valid UTF-8 prefix (the offset of the first invalid byte). */
export function validUtf8Prefix(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead < 0xe0
          ? 2
          : lead >= 0xe0 && lead < 0xf0
            ? 3
            : lead >= 0xf0 && lead < 0xf5
              ? 4
              : 0;
    if (length === 0 || index + length > bytes.length) return index;
    for (let k = 1; k < length; k++) if ((bytes[index + k]! & 0xc0) !== 0x80) return index;
    index += length;
  }
  return index;
}

/** Reads a UTF-8 document, refusing invalid bytes with their offset (nothing is written for such a file). */
export function readDocument(path: string): string {
  if (!existsSync(path)) raise('INPUT_INVALID', `No file at ${path}.`, 'Check the path given to --in.');
  const bytes = readFileSync(path);
  try {
    // ignoreBOM keeps a byte-order mark as a character, so it is written back unchanged.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const valid = validUtf8Prefix(bytes);
    return raise(
      'INPUT_INVALID',
      `${path} is not valid UTF-8 (the first invalid byte is at offset ${valid}).`,
      'Save the file as UTF-8 (most editors offer it under "Save as…"), then run again.',
    );
  }
}

function sameTokenizer(models: LoadedBartModel[]): void {
  const [first, ...rest] = models;
  for (const model of rest) {
    if (model.tokenizerSha256 !== first!.tokenizerSha256 || model.config.dVocab !== first!.config.dVocab) {
      raise(
        'INPUT_INVALID',
        `${model.resolved.reference} and ${first!.resolved.reference} use different vocabularies; their logits cannot be combined.`,
        "The base, expert and anti-expert must share BART's tokenizer (e.g. bart-base and its fine-tunes).",
      );
    }
  }
}

/** What openDetoxEngine needs: the trio, where to run, and the settings that size the sessions. */
export interface DetoxEngineOptions {
  base: string;
  expert: string;
  antiExpert: string;
  device: DeviceChoice;
  threads?: number;
  settings: DetoxSettings;
  batch: number;
  /** The toxicity gate; omitted or null = MaRCo on every sentence. */
  gate?: DetoxGateSettings | null;
}

/** The loaded trio; sessions open on the first document that has a sentence, and release() closes them. */
export interface DetoxEngine {
  tokenizer: Tokenizer;
  device: DeviceReport;
  fingerprints: DetoxModelFingerprints;
  /** Longest sentence in tokens (without <s> and </s>) that fits the encoder and leaves the rewrite room. */
  sentenceTokenLimit: number;
  sessions(): Promise<{ base: BartSession; expert: BartSession; anti: BartSession }>;
  /** The open toxicity gate, null without one. */
  gate: ToxicityGate | null;
  release(): Promise<void>;
}

/** Masked sentence variants (one per candidate word) run through the expert and anti-expert at once. */
const maskRowsPerBatch = 64;

export async function openDetoxEngine(options: DetoxEngineOptions): Promise<DetoxEngine> {
  const models = [options.base, options.expert, options.antiExpert].map((reference) => loadBartModel(reference));
  sameTokenizer(models);
  const [base, expert, anti] = models as [LoadedBartModel, LoadedBartModel, LoadedBartModel];
  const device = await resolveDevice(options.device);
  // One decoder graph per model serves both steps: the masker reads one position per row, the infiller the last.
  const open = (model: LoadedBartModel) =>
    BartSession.open(model, {
      decoder: { hooks: [], hookPositions: 'last', logits: 'gather', kvCache: true },
      device,
      threads: options.threads,
      batch: Math.max(maskRowsPerBatch, options.batch), // the masker's rows per run, or the rewriting's sentences
      length: options.settings.maxLength,
    });
  let opened: Promise<{ base: BartSession; expert: BartSession; anti: BartSession }> | null = null;
  const gate = options.gate ? await openToxicityGate(options.gate, { device, threads: options.threads }) : null;
  return {
    gate,
    tokenizer: base.tokenizer.tokenizer,
    device,
    fingerprints: { base: base.fingerprint(), expert: expert.fingerprint(), antiExpert: anti.fingerprint() },
    sentenceTokenLimit: Math.min(base.config.nCtx, options.settings.maxLength) - 2,
    sessions: () =>
      (opened ??= (async () => ({ base: await open(base), expert: await open(expert), anti: await open(anti) }))()),
    async release() {
      await gate?.release();
      if (!opened) return;
      const sessions = await opened;
      for (const session of Object.values(sessions)) await session.release();
    },
  };
}

/** A document detoxed as far as it got: its sentences, the explained ones (offsets in the document), the output. */
export interface DetoxedDocument {
  /** Sentences in the document. */
  segments: number;
  /** Distinct sentences, and how many of them were finished. */
  distinct: number;
  finished: number;
  /** Finished sentences in document order, offsets in the document (the --explain format). */
  explained: DetoxSegment[];
  /** The document with every finished, rewritten sentence replaced; every other byte is the input's. */
  output: string;
  cancelled: boolean;
  /** Sentences (every occurrence) by the gate's outcome, and the document's mean toxicity; null without a gate. */
  gate: (DetoxGateCounts & { documentBefore: number | null; documentAfter: number | null }) | null;
}

/** The settings of the k-th re-sample: seeded sampling (MaRCo's greedy decoding would repeat the refused rewrite). */
export function resampleSettings(settings: DetoxSettings, attempt: number): DetoxSettings {
  return {
    ...settings,
    sampling: {
      seed: (settings.sampling?.seed ?? 0) + attempt,
      topK: settings.sampling?.topK ?? 0,
      topP: settings.sampling?.topP ?? 0.9,
    },
  };
}

/**
 * Judges each sentence's candidate rewrites, re-sampling the refused ones up to maxResamples times; returns the kept
 * rewrite (or the original) and the gate's record per sentence.
 */
async function gateRewrites(
  gate: ToxicityGate,
  sentences: MaskedSentence[],
  before: GateScore[],
  first: string[],
  resample: (indices: number[], attempt: number) => Promise<string[]>,
): Promise<{ rewrite: string; gate: DetoxSegmentGate }[]> {
  const attempts: DetoxGateAttempt[][] = sentences.map(() => []);
  let pending = sentences.map((_, i) => i);
  let candidates = first;
  for (let attempt = 0; ; attempt++) {
    const scores = await gate.score(candidates);
    const refused: number[] = [];
    pending.forEach((i, k) => {
      const candidate = { text: candidates[k]!, toxicity: scores[k]!.toxicity };
      const original = { text: sentences[i]!.text, toxicity: before[i]!.toxicity };
      const reason = refusalOf(original, candidate, gate.blocklist);
      attempts[i]!.push({
        rewrite: candidate.text,
        toxicity: candidate.toxicity,
        labelScores: scores[k]!.labelScores,
        refused: reason,
      });
      if (reason !== null) refused.push(i);
    });
    pending = refused;
    if (!pending.length || attempt >= gate.settings.maxResamples) break;
    candidates = await resample(pending, attempt + 1);
  }
  return sentences.map((sentence, i) => {
    const tried = attempts[i]!;
    const kept = tried.find((attempt) => attempt.refused === null);
    return {
      rewrite: kept ? kept.rewrite : sentence.text,
      gate: {
        outcome: kept ? 'rewritten' : 'refused',
        label: gate.label,
        before: before[i]!.toxicity,
        labelScores: before[i]!.labelScores,
        after: kept ? kept.toxicity : null,
        attempts: tried,
        reason: kept
          ? null
          : `every rewrite was refused (${tried.length} tried; last: ${tried[tried.length - 1]!.refused})`,
      },
    };
  });
}

function keptGate(
  gate: ToxicityGate,
  before: GateScore,
  outcome: 'clean' | 'refused',
  reason: string,
): DetoxSegmentGate {
  return {
    outcome,
    label: gate.label,
    before: before.toxicity,
    labelScores: before.labelScores,
    after: null,
    attempts: [],
    reason,
  };
}

/** Detoxes one document with an open engine; `onFrame` gets each batch of finished distinct sentences. */
export async function detoxDocument(
  engine: DetoxEngine,
  document: string,
  options: {
    settings: DetoxSettings;
    batch: number;
    signal: AbortSignal;
    onFrame?: (frame: DetoxFrame) => void;
    /** Sentences already done elsewhere: not computed again, but counted as done in the frames' progress. */
    skip?: readonly string[];
  },
): Promise<DetoxedDocument> {
  const { tokenizer } = engine;
  const segments = await splitSegmentsToFit(document, async (texts) =>
    (await tokenizer.encodeBatch(texts, { addSpecialTokens: false })).map(
      (ids) => ids.length <= engine.sentenceTokenLimit,
    ),
  );
  const occurrences = new Map<string, number[]>();
  for (const segment of segments) {
    const starts = occurrences.get(segment.text);
    if (starts) starts.push(segment.start);
    else occurrences.set(segment.text, [segment.start]);
  }
  const skip = new Set(options.skip ?? []);
  const distinct = occurrences.size;
  const unique = [...occurrences.keys()].filter((text) => !skip.has(text));
  const skipped = distinct - unique.length;
  const done = new Map<string, Omit<DetoxSegment, 'start' | 'end'>>();
  const sessions = unique.length ? await engine.sessions() : null;
  let cancelled = false;
  try {
    for (let start = 0; start < unique.length && sessions; start += options.batch) {
      if (options.signal.aborted) {
        cancelled = true;
        break;
      }
      const sentences = unique.slice(start, start + options.batch);
      const gate = engine.gate;
      // [sentences]: each sentence's toxicity, when a gate decides which sentences MaRCo may touch.
      const before = gate ? await gate.score(sentences) : null;
      const threshold = gate?.settings.toxicityThreshold ?? 0;
      const toxic = before ? sentences.filter((_, i) => before[i]!.toxicity > threshold) : sentences;
      const masked = toxic.length
        ? await maskSentences(toxic, {
            tokenizer,
            expert: sessions.expert,
            anti: sessions.anti,
            threshold: options.settings.threshold,
            divergence: options.settings.divergence,
            indexQuirk: options.settings.indexQuirk,
            rowsPerBatch: maskRowsPerBatch,
            signal: options.signal,
          })
        : [];
      const toRewrite = masked.filter((sentence) => sentence.masked !== sentence.text);
      const rewriteWith = (indices: number[], settings: DetoxSettings) =>
        infill(
          indices.map((i) => toRewrite[i]!.text),
          indices.map((i) => toRewrite[i]!.masked),
          { tokenizer, ...sessions, settings, signal: options.signal },
        );
      const rewrites = toRewrite.length
        ? await rewriteWith(
            toRewrite.map((_, i) => i),
            options.settings,
          )
        : [];
      const toxicityOf = (text: string) => before![sentences.indexOf(text)]!;
      const judged =
        gate && toRewrite.length
          ? await gateRewrites(
              gate,
              toRewrite,
              toRewrite.map((sentence) => toxicityOf(sentence.text)),
              rewrites,
              (indices, attempt) => rewriteWith(indices, resampleSettings(options.settings, attempt)),
            )
          : null;
      const frameSegments: DetoxFrameSegment[] = [];
      const finish = (result: Omit<DetoxSegment, 'start' | 'end'>) => {
        done.set(result.text, result);
        frameSegments.push({
          ...result,
          start: 0,
          end: result.text.length,
          occurrences: occurrences.get(result.text)!,
        });
      };
      for (const text of sentences) {
        const sentence = masked.find((candidate) => candidate.text === text);
        if (!sentence) {
          // At or below the threshold: never masked, written back byte for byte.
          const toxicity = toxicityOf(text);
          finish({
            text,
            words: [],
            masked: text,
            rewrite: text,
            gate: keptGate(
              gate!,
              toxicity,
              'clean',
              `toxicity ${toxicity.toxicity.toFixed(3)} is at or below the threshold ${threshold}`,
            ),
          });
          continue;
        }
        const rewriteIndex = toRewrite.indexOf(sentence);
        const gated = judged && rewriteIndex >= 0 ? judged[rewriteIndex]! : null;
        finish({
          text: sentence.text,
          words: sentence.words.map(
            ({ text: wordText, start: wordStart, end, divergence, score, masked: isMasked }) => ({
              text: wordText,
              start: wordStart,
              end,
              divergence,
              score,
              masked: isMasked,
            }),
          ),
          masked: sentence.masked,
          rewrite: gated ? gated.rewrite : rewriteIndex >= 0 ? rewrites[rewriteIndex]! : sentence.text,
          ...(gated
            ? { gate: gated.gate }
            : gate
              ? { gate: keptGate(gate, toxicityOf(text), 'refused', 'no word was masked') }
              : {}),
        });
      }
      options.onFrame?.({
        done: skipped + Math.min(unique.length, start + options.batch),
        total: distinct,
        segments: frameSegments,
        models: engine.fingerprints,
      });
    }
  } catch (error) {
    if (!options.signal.aborted) throw error;
    cancelled = true; // cancelled inside a batch: keep the batches already done
  }

  // Offsets of words are relative to their sentence; the explanation gives them in the document.
  const explained: DetoxSegment[] = segments.flatMap((segment: Segment) => {
    const result = done.get(segment.text);
    if (!result) return [];
    return [
      {
        // The contract's key order: text, start, end, words, masked, rewrite.
        text: segment.text,
        start: segment.start,
        end: segment.end,
        words: result.words.map((word) => ({
          ...word,
          start: segment.start + word.start,
          end: segment.start + word.end,
        })),
        masked: result.masked,
        rewrite: result.rewrite,
        ...(result.gate ? { gate: result.gate } : {}),
      },
    ];
  });
  const output = replaceSegments(
    document,
    explained
      .filter((segment) => segment.rewrite !== segment.text)
      .map((segment) => ({
        segment: { start: segment.start, end: segment.end, text: segment.text },
        text: segment.rewrite,
      })),
  );
  return {
    segments: segments.length,
    distinct,
    finished: skipped + done.size,
    explained,
    output,
    cancelled,
    gate: engine.gate ? gateSummary(explained) : null,
  };
}

/** Sentences by the gate's outcome, and the document's mean toxicity before and after (every occurrence counted). */
function gateSummary(explained: DetoxSegment[]): NonNullable<DetoxedDocument['gate']> {
  const gated = explained.flatMap((segment) => (segment.gate ? [segment.gate] : []));
  const count = (outcome: DetoxSegmentGate['outcome']) => gated.filter((gate) => gate.outcome === outcome).length;
  const mean = (values: number[]) =>
    values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
  return {
    rewritten: count('rewritten'),
    clean: count('clean'),
    refused: count('refused'),
    documentBefore: mean(gated.map((gate) => gate.before)),
    documentAfter: mean(gated.map((gate) => gate.after ?? gate.before)),
  };
}

export const detoxJob: Job<DetoxRequest, DetoxFrame, DetoxResult> = async (request, context) => {
  const started = performance.now();
  const document = request.text ?? readDocument(request.input!);
  context.progress({ done: 0, total: null, message: 'Loading the base, expert and anti-expert' });
  const engine = await openDetoxEngine(request);
  let detoxed: DetoxedDocument;
  try {
    detoxed = await detoxDocument(engine, document, {
      settings: request.settings,
      batch: request.batch,
      signal: context.signal,
      onFrame: (frame) => reportFrame(context, frame),
      skip: request.skipSentences,
    });
  } finally {
    await engine.release();
  }
  const { explained, output } = detoxed;
  if (request.output) writeFileAtomic(request.output, output);
  if (request.explain)
    writeFileAtomic(
      request.explain,
      JSON.stringify(
        {
          settings: {
            ...request.settings,
            // The classifier's sha256 and label beside its reference: which weights produced the toxicity numbers.
            ...(request.gate && engine.gate
              ? { gate: { ...request.gate, sha256: engine.gate.sha256, label: engine.gate.label } }
              : {}),
          },
          segments: explained,
        },
        null,
        2,
      ) + '\n',
    );
  if (detoxed.cancelled)
    raise(
      'CANCELLED',
      `Cancelled after ${detoxed.finished} of ${detoxed.distinct} sentences${request.output ? `; ${request.output} holds them, the rest unchanged` : ''}.`,
      'Run again to rewrite the rest.',
    );
  return {
    document: request.output ? null : output,
    output: request.output ?? null,
    explain: request.explain ?? null,
    segments: detoxed.segments,
    rewritten: explained.filter((segment) => segment.rewrite !== segment.text).length,
    maskedWords: explained.reduce((sum, segment) => sum + segment.words.filter((word) => word.masked).length, 0),
    seconds: (performance.now() - started) / 1000,
    device: engine.device,
    models: engine.fingerprints,
    gate: engine.gate && detoxed.gate ? gateReport(engine.gate, detoxed.gate) : null,
  };
};

export function gateReport(gate: ToxicityGate, counts: NonNullable<DetoxedDocument['gate']>): DetoxGateReport {
  return {
    classifier: gate.settings.classifier,
    sha256: gate.sha256,
    label: gate.label,
    threshold: gate.settings.toxicityThreshold,
    ...counts,
  };
}

function reportFrame(context: JobContext<DetoxFrame>, frame: DetoxFrame): void {
  context.frame(frame);
  context.progress({ done: frame.done, total: frame.total, message: `${frame.done} of ${frame.total} sentences` });
}
