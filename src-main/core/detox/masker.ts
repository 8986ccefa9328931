// MaRCo's masking step (spec marco.md §3): each word is masked in turn, the expert and the anti-expert read the
// masked sentence teacher-forced up to the <mask>, and the divergence of their next-token distributions there says
// how much the word matters to toxicity. Words whose divergence is ≥ τ × the sentence mean are masked.
// Candidates run through each model in batches of similar length, their decoder passes in groups of similar <mask>
// position (see decoderGroups).

import { throwIfCancelled } from '../jobs/job.ts';
import { selectRows, type BartSession } from '../models/bart/bart-session.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { Divergence } from '../../shared/index.ts';
import { isPunctuationOnly, segmentWords, type Word } from './words.ts';

export interface ScoredWord extends Word {
  /** Raw expert/anti-expert divergence at the word's <mask> (null for punctuation-only words, never masked). */
  divergence: number | null;
  /** divergence / mean divergence of the sentence's candidate words. */
  score: number | null;
  masked: boolean;
}

export interface MaskedSentence {
  text: string;
  words: ScoredWord[];
  /** The sentence with masked words replaced by <mask> (whitespace before each <mask> removed, §3.5). */
  masked: string;
}

const mask = '<mask>';

/** The sentence with the given words replaced by <mask>, each absorbing the whitespace before it. */
export function maskWords(text: string, words: Word[], indices: Iterable<number>): string {
  const chosen = [...new Set(indices)].sort((a, b) => a - b);
  let out = '';
  let cursor = 0;
  for (const index of chosen) {
    const word = words[index]!;
    out += text.slice(cursor, word.start).replace(/\s+$/, '') + mask;
    cursor = word.end;
  }
  return out + text.slice(cursor);
}

/**
 * Softmax of one logits row in float64, written into `into`; returns its log-partition log Σ exp(logit), so that
 * log p = logit − logPartition.
 */
function softmaxInto(logits: Float32Array, into: Float64Array): number {
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) if (logits[v]! > max) max = logits[v]!;
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += into[v] = Math.exp(logits[v]! - max);
  for (let v = 0; v < logits.length; v++) into[v]! /= sum;
  return max + Math.log(sum);
}

/** Scratch rows for divergenceOf, grown to the vocabulary once (a masking job reads hundreds of rows). */
let scratch = { expert: new Float64Array(0), anti: new Float64Array(0) };

/**
 * ½KL(A‖E) + ½KL(E‖A) = ½ Σ (pE − pA)(log pE − log pA), or the true Jensen–Shannon divergence, in float64. One
 * exponential per logit and model: a row of bart-base's 50,265 logits takes about 2 ms (with four per logit and
 * per-row allocations it took 12 ms, a fifth of a 20-sentence masking job).
 */
export function divergenceOf(expert: Float32Array, anti: Float32Array, kind: Divergence): number {
  const vocab = expert.length;
  if (scratch.expert.length < vocab) scratch = { expert: new Float64Array(vocab), anti: new Float64Array(vocab) };
  const probabilitiesE = scratch.expert; // [vocab]
  const probabilitiesA = scratch.anti; // [vocab]
  const logPartitionE = softmaxInto(expert, probabilitiesE);
  const logPartitionA = softmaxInto(anti, probabilitiesA);
  let total = 0;
  for (let v = 0; v < vocab; v++) {
    const pE = probabilitiesE[v]!;
    const pA = probabilitiesA[v]!;
    const logE = expert[v]! - logPartitionE;
    const logA = anti[v]! - logPartitionA;
    if (kind === 'symmetric-kl') total += 0.5 * (pE - pA) * (logE - logA);
    else {
      const logM = Math.log(0.5 * (pE + pA));
      if (pE > 0) total += 0.5 * pE * (logE - logM);
      if (pA > 0) total += 0.5 * pA * (logA - logM);
    }
  }
  return total;
}

/** Candidate index (among non-punctuation words) → word index: the correct mapping, or the reference's quirk. */
export function candidateToWordIndex(
  candidate: number,
  candidates: number[],
  punctuation: number[],
  quirk: boolean,
): number {
  if (!quirk) return candidates[candidate]!;
  return candidate + punctuation.filter((index) => index <= candidate).length;
}

export interface MaskOptions {
  tokenizer: Tokenizer;
  expert: BartSession;
  anti: BartSession;
  threshold: number;
  divergence: Divergence;
  indexQuirk: boolean;
  /** Candidate rows per forward pass. */
  rowsPerBatch: number;
  /**
   * Rows per decoder run within a batch (default 16, enough rows for efficient GEMMs): each run decodes rows of
   * similar <mask> position up to its own last one (see decoderGroups).
   */
  rowsPerDecoderRun?: number;
  signal?: AbortSignal;
}

/**
 * A batch's row indices in groups of similar <mask> position, each of at most `size` rows; a batch of at most `size`
 * rows is one group in its own order (so the decoder reads its encoder outputs as they are).
 */
export function decoderGroups(batch: readonly { position: number }[], size: number): number[][] {
  if (batch.length <= size) return batch.length ? [batch.map((_, r) => r)] : [];
  const order = batch.map((_, r) => r).sort((a, b) => batch[a]!.position - batch[b]!.position);
  const groups: number[][] = [];
  for (let start = 0; start < order.length; start += size) groups.push(order.slice(start, start + size));
  return groups;
}

interface Row {
  sentence: number;
  word: number;
  ids: number[];
  /** Decoder position that predicts the <mask> (= its index in ids). */
  position: number;
}

/** Scores and masks a batch of sentences. */
export async function maskSentences(sentences: string[], options: MaskOptions): Promise<MaskedSentence[]> {
  const maskId = options.tokenizer.tokenToId(mask);
  if (maskId === undefined) throw new RangeError('the tokenizer has no <mask> token');
  const segmented = sentences.map((text) => segmentWords(text));
  const candidates: { sentence: number; word: number; text: string }[] = [];
  segmented.forEach((words, sentence) => {
    words.forEach((word, index) => {
      if (!isPunctuationOnly(word.text))
        candidates.push({ sentence, word: index, text: maskWords(sentences[sentence]!, words, [index]) });
    });
  });
  const encoded = await options.tokenizer.encodeBatch(candidates.map((candidate) => candidate.text));
  const rows: Row[] = [];
  candidates.forEach(({ sentence, word }, candidate) => {
    const ids = encoded[candidate]!;
    // A literal "<mask>" in the text gives several mask positions: the divergence is their mean (§3.3 step 5).
    ids.forEach((id, position) => {
      if (id === maskId) rows.push({ sentence, word, ids, position });
    });
  });

  // Rows of similar length share a batch (less padding); each row's divergence goes back to its word, so the
  // order changes no result.
  rows.sort((a, b) => a.ids.length - b.ids.length);
  const divergences = segmented.map((words) => words.map((): number[] => []));
  for (let start = 0; start < rows.length; start += options.rowsPerBatch) {
    if (options.signal) throwIfCancelled(options.signal);
    const batch = rows.slice(start, start + options.rowsPerBatch);
    const readOut = async (session: BartSession) => {
      const encoded = await session.encode(
        batch.map((row) => row.ids),
        { crossOnly: true },
      );
      // The decoder is causal: a row's positions after its <mask> change no logit read here. Rows of similar <mask>
      // position are decoded together, each group up to its own last <mask> (on issue 19's bench sentences: 1.10×
      // the unpadded work instead of 1.33× with the whole batch decoded to its last <mask>).
      const logits: Float32Array[] = [];
      for (const group of decoderGroups(batch, options.rowsPerDecoderRun ?? 16)) {
        const decoderLength = Math.max(...group.map((r) => batch[r]!.position)) + 1;
        const decoderIds = new BigInt64Array(group.length * decoderLength).fill(
          BigInt(session.model.config.padTokenId),
        );
        group.forEach((r, g) => {
          // Teacher forcing as transformers does it: decoder input = [decoder_start, ids[0 .. L-2]].
          const shifted = [session.model.config.decoderStartTokenId, ...batch[r]!.ids.slice(0, decoderLength - 1)];
          shifted.forEach((id, p) => (decoderIds[g * decoderLength + p] = BigInt(id)));
        });
        const positions = BigInt64Array.from(group, (r) => BigInt(batch[r]!.position));
        const outputs = await session.decode(
          group.length === batch.length ? encoded : selectRows(encoded, group),
          decoderIds,
          decoderLength,
          0,
          positions,
          true,
        );
        const rowsLogits = outputs.logits!.data as Float32Array; // [group rows, d_vocab]
        const vocab = rowsLogits.length / group.length;
        group.forEach((r, g) => (logits[r] = rowsLogits.subarray(g * vocab, (g + 1) * vocab)));
      }
      return logits; // per batch row, [d_vocab]
    };
    const expertLogits = await readOut(options.expert);
    const antiLogits = await readOut(options.anti);
    batch.forEach((row, r) => {
      const value = divergenceOf(expertLogits[r]!, antiLogits[r]!, options.divergence);
      divergences[row.sentence]![row.word]!.push(value);
    });
  }

  return segmented.map((words, sentence) => {
    const text = sentences[sentence]!;
    const raw = words.map((word, index) =>
      isPunctuationOnly(word.text) ? null : mean(divergences[sentence]![index]!),
    );
    const candidates = words
      .map((_, index) => index)
      .filter((index) => raw[index] !== null && raw[index] !== undefined);
    const punctuation = words.map((_, index) => index).filter((index) => raw[index] === null);
    const meanDivergence = candidates.length
      ? candidates.reduce((sum, index) => sum + raw[index]!, 0) / candidates.length
      : NaN;
    const maskedIndices = new Set<number>();
    candidates.forEach((index, candidate) => {
      if (raw[index]! / meanDivergence >= options.threshold)
        maskedIndices.add(candidateToWordIndex(candidate, candidates, punctuation, options.indexQuirk));
    });
    const scored: ScoredWord[] = words.map((word, index) => ({
      ...word,
      divergence: raw[index] ?? null,
      score: raw[index] === null || raw[index] === undefined ? null : raw[index]! / meanDivergence,
      masked: maskedIndices.has(index),
    }));
    return { text, words: scored, masked: maskedIndices.size ? maskWords(text, words, maskedIndices) : text };
  });
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}
