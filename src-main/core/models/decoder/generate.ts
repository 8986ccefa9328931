// Batched generation for every decoder family: left-pad the prompts, prefill, then one token per step from the KV cache (or by
// recomputing everything, the slow path tests compare against). Greedy or seeded sampling; stops at EOS or the
// token budget; cancellation is checked between steps; each step is streamed to the caller.

import { throwIfCancelled } from '../../jobs/job.ts';
import {
  applyRepetitionPenalty,
  argmax,
  sampleToken,
  seededRandom,
  type SamplingSettings,
} from '../../runtime/logits-processors.ts';
import type { Tensor } from '../../runtime/onnxruntime.ts';
import type { DecoderInterventions, DecoderSession, KvCache } from './decoder-session.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** null = greedy. */
  sampling: SamplingSettings | null;
  repetitionPenalty?: number;
  eosTokenId: number | null;
  /** Token fed at padding positions (masked out, so its value never matters). */
  padTokenId: number;
  useCache: boolean;
  signal?: AbortSignal;
  interventions?: DecoderInterventions;
  /** After every forward pass: the outputs at the last position, the picked tokens, and which rows were still running. */
  onStep?: (step: GenerationStep) => void;
}

export interface GenerationStep {
  index: number;
  outputs: Record<string, Tensor>;
  tokens: number[];
  /** Rows that had not finished before this step (their outputs are real continuations). */
  active: boolean[];
}

export interface GenerationResult {
  /** Generated ids per prompt (prompt excluded; EOS included when it ended the row). */
  generated: number[][];
}

function logitsRow(logits: Tensor, row: number): Float32Array {
  const vocab = logits.dims[logits.dims.length - 1]!;
  return Float32Array.from((logits.data as Float32Array).subarray(row * vocab, (row + 1) * vocab));
}

export async function generate(
  session: DecoderSession,
  prompts: number[][],
  options: GenerateOptions,
): Promise<GenerationResult> {
  if (prompts.length === 0) return { generated: [] };
  if (prompts.some((prompt) => prompt.length === 0)) throw new RangeError('every prompt needs at least one token');
  const batch = prompts.length;
  const width = Math.max(...prompts.map((prompt) => prompt.length));
  // Left padding: every row's last real token sits at the last position.
  const sequences = prompts.map((prompt) => [
    ...Array<number>(width - prompt.length).fill(options.padTokenId),
    ...prompt,
  ]);
  const masks = prompts.map((prompt) => [
    ...Array<number>(width - prompt.length).fill(0),
    ...Array<number>(prompt.length).fill(1),
  ]);
  const generated: number[][] = prompts.map(() => []);
  const finished = prompts.map(() => false);
  const randoms = prompts.map((_, row) => seededRandom(((options.sampling?.seed ?? 0) * 7919 + row) >>> 0));
  let cache: KvCache | null = null;
  try {
    for (let stepIndex = 0; stepIndex < options.maxNewTokens; stepIndex++) {
      if (options.signal) throwIfCancelled(options.signal);
      const prefill = !options.useCache || cache === null;
      const newPositions = prefill ? sequences[0]!.length : 1;
      const inputIds = new BigInt64Array(batch * newPositions);
      const positionIds = new BigInt64Array(batch * newPositions);
      const totalLength = masks[0]!.length;
      const attentionMask = new BigInt64Array(batch * totalLength);
      for (let row = 0; row < batch; row++) {
        const sequence = sequences[row]!;
        const mask = masks[row]!;
        let realBefore = 0;
        for (let p = 0; p < totalLength; p++) {
          attentionMask[row * totalLength + p] = BigInt(mask[p]!);
          const newIndex = p - (totalLength - newPositions);
          if (newIndex >= 0) {
            inputIds[row * newPositions + newIndex] = BigInt(sequence[p]!);
            positionIds[row * newPositions + newIndex] = BigInt(Math.max(0, realBefore));
          }
          // Position ids count the real tokens before each one (HF: cumsum(mask) - 1); padding's are never read.
          realBefore += mask[p]!;
        }
      }
      const { outputs, cache: nextCache } = await session.step({
        batch,
        pos: newPositions,
        inputIds,
        attentionMask,
        positionIds,
        cache: options.useCache ? cache : null,
        interventions: options.interventions,
      });
      if (options.useCache) cache = nextCache;
      else if (nextCache) session.releaseCache(nextCache); // recomputing everything: this step's cache is not used
      const active = finished.map((done) => !done);
      // A 'next-token' graph has already picked the greedy tokens; logits would only be copied out to repeat that.
      const picked = outputs.next_token ? (outputs.next_token.data as BigInt64Array) : null;
      if (picked && (options.sampling || options.repetitionPenalty))
        throw new RangeError('sampling and the repetition penalty need a graph that outputs logits');
      const tokens = prompts.map((prompt, row) => {
        if (finished[row]) return options.padTokenId;
        if (picked) return Number(picked[row]);
        const logits = logitsRow(outputs.logits!, row);
        if (options.repetitionPenalty)
          applyRepetitionPenalty(logits, [...prompt, ...generated[row]!], options.repetitionPenalty);
        return options.sampling ? sampleToken(logits, options.sampling, randoms[row]!) : argmax(logits);
      });
      options.onStep?.({ index: stepIndex, outputs, tokens, active });
      tokens.forEach((token, row) => {
        if (!finished[row]) {
          generated[row]!.push(token);
          if (token === options.eosTokenId) finished[row] = true;
        }
        sequences[row]!.push(token);
        masks[row]!.push(1);
      });
      if (finished.every(Boolean)) break;
    }
  } finally {
    // A cache kept in GPU memory is freed however the generation ends (done, cancelled or failed).
    if (cache) session.releaseCache(cache);
  }
  return { generated };
}
