// Evaluation metrics (spec dpo-neurons.md §7), offline: probe toxicity of continuations scored by an unmodified
// model and the probe (the stand-in for Perspective API / Detoxify), perplexity over non-overlapping n_ctx windows,
// and token F1 against gold continuations.

import { throwIfCancelled } from '../jobs/job.ts';
import type { DecoderInterventions, DecoderSession } from '../models/decoder/decoder-session.ts';
import type { Probe } from './probe.ts';

/** Left-pads a batch of id lists; returns flat ids, mask and position ids ([batch, width] each). */
function leftPad(rows: number[][], padTokenId: number) {
  const width = Math.max(...rows.map((row) => row.length));
  const inputIds = new BigInt64Array(rows.length * width);
  const attentionMask = new BigInt64Array(rows.length * width);
  const positionIds = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    const offset = r * width + (width - row.length);
    row.forEach((id, p) => {
      inputIds[offset + p] = BigInt(id);
      attentionMask[offset + p] = 1n;
      positionIds[offset + p] = BigInt(p);
    });
    for (let p = 0; p < width - row.length; p++) inputIds[r * width + p] = BigInt(padTokenId);
  });
  return { width, inputIds, attentionMask, positionIds };
}

/**
 * One forward pass over a left-padded batch of (non-empty) id lists, and the mean over each row's real tokens of a
 * hook the session exposes at every position → one vector per row. Used by probe scoring and probe training.
 */
export async function meanHookOverTokens(
  session: DecoderSession,
  rows: number[][],
  hook: string,
  padTokenId: number,
): Promise<Float64Array[]> {
  const { width, inputIds, attentionMask, positionIds } = leftPad(rows, padTokenId);
  const { outputs } = await session.step({
    batch: rows.length,
    pos: width,
    inputIds,
    attentionMask,
    positionIds,
    cache: null,
  });
  const values = outputs[hook]!.data as Float32Array; // [batch, width, d]
  const d = values.length / (rows.length * width);
  return rows.map((ids, row) => {
    const mean = new Float64Array(d);
    for (let p = width - ids.length; p < width; p++)
      for (let j = 0; j < d; j++) mean[j]! += values[(row * width + p) * d + j]! / ids.length;
    return mean;
  });
}

/**
 * The probe's logit for each text: w · mean over the text's tokens of the probe's hook (+ bias), computed by the
 * scorer session (hooks: [hook], all positions). Empty texts score null.
 */
export async function probeLogits(
  session: DecoderSession,
  texts: number[][],
  probe: Probe,
  hook: string,
  options: { batch: number; padTokenId: number; nCtx: number; signal?: AbortSignal },
): Promise<(number | null)[]> {
  const scores: (number | null)[] = [];
  const bias = probe.metadata?.bias ?? 0;
  for (let start = 0; start < texts.length; start += options.batch) {
    if (options.signal) throwIfCancelled(options.signal);
    const batch = texts.slice(start, start + options.batch).map((ids) => ids.slice(0, options.nCtx));
    const nonEmpty = batch.filter((ids) => ids.length > 0);
    const batchScores = new Map<number[], number>();
    if (nonEmpty.length > 0) {
      const means = await meanHookOverTokens(session, nonEmpty, hook, options.padTokenId);
      nonEmpty.forEach((ids, row) => {
        const mean = means[row]!;
        batchScores.set(ids, mean.reduce((sum, value, d) => sum + value * probe.vector[d]!, 0) + bias);
      });
    }
    for (const ids of batch) scores.push(batchScores.get(ids) ?? null);
  }
  return scores;
}

/** exp(mean negative log-likelihood) over non-overlapping windows of the context length (§7). */
export async function perplexity(
  session: DecoderSession,
  ids: number[],
  options: {
    nCtx: number;
    interventions?: DecoderInterventions;
    signal?: AbortSignal;
    onWindow?: (done: number, total: number) => void;
  },
): Promise<{ perplexity: number; tokens: number; windows: number }> {
  let nll = 0;
  let predicted = 0;
  const windows = Math.ceil(ids.length / options.nCtx);
  for (let window = 0; window < windows; window++) {
    if (options.signal) throwIfCancelled(options.signal);
    const chunk = ids.slice(window * options.nCtx, (window + 1) * options.nCtx);
    if (chunk.length < 2) continue;
    const { outputs } = await session.step({
      batch: 1,
      pos: chunk.length,
      inputIds: BigInt64Array.from(chunk, BigInt),
      attentionMask: new BigInt64Array(chunk.length).fill(1n),
      positionIds: BigInt64Array.from(chunk, (_, p) => BigInt(p)),
      cache: null,
      interventions: options.interventions ? { ...options.interventions, positions: 'all' } : undefined,
    });
    const logits = outputs.logits!.data as Float32Array; // [1, pos, d_vocab]
    const vocab = outputs.logits!.dims[2]!;
    for (let p = 0; p + 1 < chunk.length; p++) {
      const row = logits.subarray(p * vocab, (p + 1) * vocab);
      let max = -Infinity;
      for (const value of row) if (value > max) max = value;
      let sum = 0;
      for (const value of row) sum += Math.exp(value - max);
      nll += max + Math.log(sum) - row[chunk[p + 1]!]!;
      predicted++;
    }
    options.onWindow?.(window + 1, windows);
  }
  return { perplexity: Math.exp(nll / Math.max(1, predicted)), tokens: ids.length, windows };
}

/** Bag-of-token-ids F1 (multiset intersection), 0 when nothing overlaps (Lee et al.'s run_f1). */
export function tokenF1(predicted: number[], gold: number[]): number {
  const counts = new Map<number, number>();
  for (const id of gold) counts.set(id, (counts.get(id) ?? 0) + 1);
  let common = 0;
  for (const id of predicted) {
    const left = counts.get(id) ?? 0;
    if (left > 0) {
      common++;
      counts.set(id, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / gold.length;
  return (2 * precision * recall) / (precision + recall);
}
