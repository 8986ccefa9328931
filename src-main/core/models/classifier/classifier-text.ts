// Text in, scores out for a loaded classifier (spec cli.md "Toxicity classifiers", tokenization, truncation and
// batching): texts are encoded exactly as `tokenizer(text, truncation=True, max_length=N)` encodes them, a window of
// them at a time is sorted by token count so each right-padded batch pads little, and the scores come back in input
// order; memory stays flat in the number of texts. The `classify` job's core, and what the detox gate scores with.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { raise, type ClassifiedText, type DeviceReport } from '../../../shared/index.ts';
import { throwIfCancelled } from '../../jobs/job.ts';
import { loadTokenizer } from '../../tokenizer/load-tokenizer.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { ClassifierSession, classifierWorkingBytes } from './classifier-session.ts';
import type { LoadedClassifier } from './load-classifier.ts';

/** The contract's default --max-length before the tokenizer's own limit and the model's positions apply. */
export const defaultClassifierMaxLength = 512;
/**
 * Largest automatic batch. Measured on BERT-base shapes, 2 CPU threads, 500 posts of 4–68 tokens in one sorted window:
 * batch 16: 46, 32: 46, 64: 42, 128: 36 sentences/s — sorted rows already fill the GEMMs, and wider batches only add
 * padding (2%, 4%, 8%, 16%) and longer attention rows.
 */
const maxAutoBatch = 32;
/**
 * Texts encoded and sorted by token count together (at least 8 batches): a window of 1,024 makes the rows of a batch
 * nearly equal in length (1,000 posts, batch 32: 4% padding sorted, 77% in input order; docs/benchmarks.md "Toxicity
 * classifier"), and holds only token ids and scores, so memory stays flat in the number of texts.
 */
const windowTexts = 1024;

/** tokenizer_config.json's model_max_length, when it is a sensible integer (transformers writes 1e30 for "none"). */
export function tokenizerModelMaxLength(folder: string): number | null {
  const path = join(folder, 'tokenizer_config.json');
  if (!existsSync(path)) return null;
  try {
    const value = (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).model_max_length;
    return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9 ? value : null;
  } catch {
    return null; // an unreadable tokenizer_config.json is reported by the tokenizer loader itself
  }
}

/**
 * The --max-length to use: the one asked for (refused when above the model's positions, or below 2 — the special
 * tokens alone), else 512, the tokenizer's model_max_length when smaller, and never more than the model's positions.
 */
export function classifierMaxLength(model: LoadedClassifier, requested: number | undefined): number {
  const positions = model.config.maxTokens;
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 2 || requested > positions) {
      raise(
        'INPUT_INVALID',
        `--max-length ${requested} does not fit ${model.reference}: it has ${positions} positions and every text needs 2 special tokens.`,
        `Pass a --max-length from 2 to ${positions}, or leave it out.`,
      );
    }
    return requested;
  }
  return Math.min(defaultClassifierMaxLength, tokenizerModelMaxLength(model.tokenizerFolder) ?? Infinity, positions);
}

/** The classifier's tokenizer: --tokenizer's folder, else the model's (for Detoxify, the base model's). */
export function loadClassifierTokenizer(model: LoadedClassifier): Tokenizer {
  const tokenizer = loadTokenizer(model.tokenizerFolder, model.config.architecture).tokenizer;
  if (tokenizer.vocabSize > model.config.dVocab) {
    raise(
      'INPUT_INVALID',
      `The tokenizer in ${model.tokenizerFolder} has ${tokenizer.vocabSize} tokens, more than ${model.reference}'s vocabulary of ${model.config.dVocab}.`,
      'The tokenizer does not belong to this model: pass the matching --tokenizer.',
    );
  }
  return tokenizer;
}

/**
 * `tokenizer(text, truncation=True, max_length=N)` for single texts: [CLS] … [SEP] / <s> … </s>, and a longer text
 * keeps its first N − 2 tokens and still ends with the separator (the post-processor adds exactly one at each end).
 */
export async function encodeForClassifier(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number,
): Promise<number[][]> {
  const rows = await tokenizer.encodeBatch(texts, { addSpecialTokens: true });
  return rows.map((ids) => (ids.length <= maxLength ? ids : [...ids.slice(0, maxLength - 1), ids[ids.length - 1]!]));
}

/** Texts per forward pass when none is asked for: what a quarter of the free memory holds at full length. */
export function autoClassifierBatch(model: LoadedClassifier, maxLength: number): number {
  const perRow = classifierWorkingBytes(model, 1, maxLength);
  return Math.max(1, Math.min(maxAutoBatch, Math.floor((os.freemem() * 0.25) / perRow)));
}

/** An open classifier ready for text: a session, its tokenizer and the limits it was opened with. */
export interface TextClassifier {
  model: LoadedClassifier;
  tokenizer: Tokenizer;
  maxLength: number;
  /** Rows per forward pass at most. */
  batch: number;
  /** Texts sorted by length together: callers that stream texts hand `classify` this many at a time. */
  window: number;
  /**
   * Scores texts and returns them in input order. Each window of `window` texts is sorted by token count (longest
   * first) and cut into batches of `batch` rows, each padded to its own longest row; a row's scores do not depend on
   * its batch (padding is masked), so only the speed changes. `signal` is checked before every batch.
   */
  classify(texts: readonly string[], signal?: AbortSignal): Promise<ClassifiedText[]>;
  release(): Promise<void>;
}

export interface OpenTextClassifierOptions {
  device: DeviceReport;
  threads?: number;
  /** --batch; default autoClassifierBatch. */
  batch?: number;
  /** --max-length; default classifierMaxLength's. */
  maxLength?: number;
  /** Texts sorted together; default 1,024 (8 batches if more). `window: batch` keeps input order (the bench compares). */
  window?: number;
}

/**
 * The order to score a window's rows in: longest first (the session's arena grows once, at the first batch, and
 * later batches reuse it), ties in input order. Indexes into `rows`.
 */
export function lengthOrder(rows: readonly (readonly number[])[]): number[] {
  return rows.map((_, index) => index).sort((a, b) => rows[b]!.length - rows[a]!.length || a - b);
}

export async function openTextClassifier(
  model: LoadedClassifier,
  options: OpenTextClassifierOptions,
): Promise<TextClassifier> {
  const maxLength = classifierMaxLength(model, options.maxLength);
  const tokenizer = loadClassifierTokenizer(model);
  const batch = options.batch ?? autoClassifierBatch(model, maxLength);
  const window = Math.max(batch, options.window ?? Math.max(windowTexts, 8 * batch));
  const session = await ClassifierSession.open(model, {
    device: options.device,
    threads: options.threads,
    batch,
    length: maxLength,
  });
  return {
    model,
    tokenizer,
    maxLength,
    batch,
    window,
    async classify(texts, signal) {
      const results: ClassifiedText[] = [];
      for (let start = 0; start < texts.length; start += window) {
        const chunk = texts.slice(start, start + window);
        const rows = await encodeForClassifier(tokenizer, chunk, maxLength);
        const order = window > batch ? lengthOrder(rows) : rows.map((_, index) => index);
        const scored: ClassifiedText[] = new Array<ClassifiedText>(chunk.length);
        for (let offset = 0; offset < order.length; offset += batch) {
          if (signal) throwIfCancelled(signal);
          const picked = order.slice(offset, offset + batch); // indexes into chunk
          const { probabilities } = await session.score(picked.map((index) => rows[index]!));
          picked.forEach((index, r) => {
            const scores: Record<string, number> = {};
            model.labels.forEach((label, l) => (scores[label] = probabilities[r]![l]!));
            scored[index] = { text: chunk[index]!, labels: model.labels, scores, activation: model.activation };
          });
        }
        results.push(...scored);
      }
      return results;
    },
    release: () => session.release(),
  };
}

/**
 * The one number the detox gate compares: the probability of the label named toxicity (Detoxify) or toxic (Jigsaw
 * heads), else of a label that says toxic/offensive/hate (not "non-toxic"), else the second of two labels (the
 * positive class of a binary head such as ["LABEL_0", "LABEL_1"]), else the first label that is not neutral.
 */
export function toxicityLabel(labels: readonly string[]): string {
  const lower = labels.map((label) => label.toLowerCase());
  for (const name of ['toxicity', 'toxic']) {
    const index = lower.indexOf(name);
    if (index >= 0) return labels[index]!;
  }
  const negative = /^(non[-_ ]?|not[-_ ]?|neutral|normal|clean|ok)/;
  const match = lower.findIndex((label) => /tox|offens|hate|abus|insult/.test(label) && !negative.test(label));
  if (match >= 0) return labels[match]!;
  if (labels.length === 2) return labels[1]!;
  const positive = lower.findIndex((label) => !negative.test(label));
  return labels[positive >= 0 ? positive : 0]!;
}

/** A classified text's toxicity (see toxicityLabel). */
export function toxicityOf(result: ClassifiedText): number {
  return result.scores[toxicityLabel(result.labels)]!;
}
