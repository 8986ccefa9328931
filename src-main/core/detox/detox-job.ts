// The detox job (cli.md §7, spec marco.md §3–4): a document is split into sentences; each distinct sentence is
// masked and, when any word was masked, rewritten by the product of experts; everything else in the document is
// kept byte for byte. Sentences are batched, identical sentences computed once; cancelling keeps what is done.

import { existsSync, readFileSync } from 'node:fs';
import { raise, type DetoxFrame, type DetoxRequest, type DetoxResult, type DetoxSegment } from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import type { Job } from '../jobs/job.ts';
import { BartSession } from '../models/bart/bart-session.ts';
import { loadBartModel, type LoadedBartModel } from '../models/load-model.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import { infill } from './infiller.ts';
import { maskSentences } from './masker.ts';
import { replaceSegments, splitSegments, type Segment } from './segments.ts';

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

export const detoxJob: Job<DetoxRequest, DetoxFrame, DetoxResult> = async (request, context) => {
  const started = performance.now();
  const document = request.text ?? readDocument(request.input!);
  context.progress({ done: 0, total: null, message: 'Loading the base, expert and anti-expert' });
  const models = [request.base, request.expert, request.antiExpert].map((reference) => loadBartModel(reference));
  sameTokenizer(models);
  const [base, expert, anti] = models as [LoadedBartModel, LoadedBartModel, LoadedBartModel];
  const device = await resolveDevice(request.device);
  const tokenizer = base.tokenizer.tokenizer;
  // A sentence must fit the encoder (<s> … </s>) and leave the rewrite room within max-length.
  const limit = Math.min(base.config.nCtx, request.settings.maxLength) - 2;
  const segments = splitSegments(
    document,
    (text) => tokenizer.encode(text, { addSpecialTokens: false }).length <= limit,
  );
  const unique = [...new Set(segments.map((segment) => segment.text))];
  const done = new Map<string, Omit<DetoxSegment, 'start' | 'end' | 'words'> & { words: DetoxSegment['words'] }>();

  // One decoder graph per model serves both steps: the masker reads one position per row, the infiller the last.
  const open = (model: LoadedBartModel) =>
    BartSession.open(model, {
      decoder: { hooks: [], hookPositions: 'last', logits: 'gather', kvCache: true },
      device,
      threads: request.threads,
      batch: request.batch * 32,
      length: request.settings.maxLength,
    });
  const sessions = unique.length
    ? { base: await open(base), expert: await open(expert), anti: await open(anti) }
    : null;
  let cancelled = false;
  try {
    for (let start = 0; start < unique.length && sessions; start += request.batch) {
      if (context.signal.aborted) {
        cancelled = true;
        break;
      }
      const sentences = unique.slice(start, start + request.batch);
      const masked = await maskSentences(sentences, {
        tokenizer,
        expert: sessions.expert,
        anti: sessions.anti,
        threshold: request.settings.threshold,
        divergence: request.settings.divergence,
        indexQuirk: request.settings.indexQuirk,
        rowsPerBatch: 64,
        signal: context.signal,
      });
      const toRewrite = masked.filter((sentence) => sentence.masked !== sentence.text);
      const rewrites = toRewrite.length
        ? await infill(
            toRewrite.map((sentence) => sentence.text),
            toRewrite.map((sentence) => sentence.masked),
            { tokenizer, ...sessions, settings: request.settings, signal: context.signal },
          )
        : [];
      const frameSegments: DetoxSegment[] = [];
      masked.forEach((sentence) => {
        const rewriteIndex = toRewrite.indexOf(sentence);
        const result = {
          text: sentence.text,
          masked: sentence.masked,
          rewrite: rewriteIndex >= 0 ? rewrites[rewriteIndex]! : sentence.text,
          words: sentence.words.map(({ text, start: wordStart, end, divergence, score, masked: isMasked }) => ({
            text,
            start: wordStart,
            end,
            divergence,
            score,
            masked: isMasked,
          })),
        };
        done.set(sentence.text, result);
        frameSegments.push({ ...result, start: 0, end: result.text.length });
      });
      context.frame({
        done: Math.min(unique.length, start + request.batch),
        total: unique.length,
        segments: frameSegments,
      });
      context.progress({
        done: Math.min(unique.length, start + request.batch),
        total: unique.length,
        message: `${Math.min(unique.length, start + request.batch)} of ${unique.length} sentences`,
      });
    }
  } catch (error) {
    if (!context.signal.aborted) throw error;
    cancelled = true; // cancelled inside a batch: keep the batches already done
  } finally {
    if (sessions) for (const session of Object.values(sessions)) await session.release();
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
  if (request.output) writeFileAtomic(request.output, output);
  if (request.explain)
    writeFileAtomic(
      request.explain,
      JSON.stringify({ settings: request.settings, segments: explained }, null, 2) + '\n',
    );
  if (cancelled)
    raise(
      'CANCELLED',
      `Cancelled after ${done.size} of ${unique.length} sentences${request.output ? `; ${request.output} holds them, the rest unchanged` : ''}.`,
      'Run again to rewrite the rest.',
    );
  return {
    document: request.output ? null : output,
    output: request.output ?? null,
    explain: request.explain ?? null,
    segments: segments.length,
    rewritten: explained.filter((segment) => segment.rewrite !== segment.text).length,
    maskedWords: explained.reduce((sum, segment) => sum + segment.words.filter((word) => word.masked).length, 0),
    seconds: (performance.now() - started) / 1000,
    device,
  };
};
