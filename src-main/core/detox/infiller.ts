// MaRCo's rewriting step (spec marco.md §4): a product of experts decodes every sentence greedily. The base model
// reads the original sentence, the expert and the anti-expert read the masked one; at each step
//   s = (α_b/T)·z_base + α_e·z_expert − α_a·z_anti,
// then the repetition penalty over the prefix, then argmax (or seeded sampling). The decoder prefix starts [2, 0];
// all three sessions keep their KV caches; finished rows are fed padding until every row has emitted </s>.

import { throwIfCancelled } from '../jobs/job.ts';
import type { BartSession } from '../models/bart/bart-session.ts';
import { applyRepetitionPenalty, argmax, sampleToken, seededRandom } from '../runtime/logits-processors.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { DetoxSettings } from '../../shared/index.ts';

export interface InfillOptions {
  tokenizer: Tokenizer;
  base: BartSession;
  expert: BartSession;
  anti: BartSession;
  settings: DetoxSettings;
  signal?: AbortSignal;
}

/** Generated ids per sentence (after the [2, 0] prefix, up to and excluding </s>). */
export async function infillIds(originals: string[], masked: string[], options: InfillOptions): Promise<number[][]> {
  const { tokenizer, settings } = options;
  const config = options.base.model.config;
  const { eosTokenId: eos, padTokenId: pad, bosTokenId: bos, decoderStartTokenId: start } = config;
  const batch = originals.length;
  const [originalIds, maskedIds] = await Promise.all([tokenizer.encodeBatch(originals), tokenizer.encodeBatch(masked)]);
  const [encodedBase, encodedExpert, encodedAnti] = await Promise.all([
    options.base.encode(originalIds, { crossOnly: true }),
    options.expert.encode(maskedIds, { crossOnly: true }),
    options.anti.encode(maskedIds, { crossOnly: true }),
  ]);
  const prefixes: number[][] = originals.map(() => [start, bos]);
  const finished = new Array<boolean>(batch).fill(false);
  const randoms = originals.map((_, row) => seededRandom(((settings.sampling?.seed ?? 0) * 7919 + row) >>> 0));
  let feed: number[][] = prefixes.map((prefix) => [...prefix]); // first step: the whole [2, 0] prefix

  // The decoder's learned positions end at n_ctx: a smaller model stops there even under a larger max-length.
  const maxLength = Math.min(settings.maxLength, config.nCtx);
  while (prefixes[0]!.length < maxLength && !finished.every(Boolean)) {
    if (options.signal) throwIfCancelled(options.signal);
    const width = feed[0]!.length;
    const past = prefixes[0]!.length - width; // positions already in the sessions' caches
    const ids = BigInt64Array.from(feed.flat(), BigInt);
    const logits: Float32Array[] = [];
    for (const [session, encoded] of [
      [options.base, encodedBase],
      [options.expert, encodedExpert],
      [options.anti, encodedAnti],
    ] as const) {
      // Decoders built to read out one chosen position per row (the masker's) read the last one here.
      const positions = session.readsChosenPositions ? new BigInt64Array(batch).fill(BigInt(width - 1)) : undefined;
      const outputs = await session.decode(encoded, ids, width, past, positions);
      logits.push(outputs.logits!.data as Float32Array); // [batch, d_vocab]
    }
    const vocab = logits[0]!.length / batch;
    const next = prefixes.map((prefix, row) => {
      if (finished[row]) return pad;
      const scores = new Float32Array(vocab);
      const offset = row * vocab;
      for (let v = 0; v < vocab; v++) {
        scores[v] =
          (settings.alphaBase / settings.temperature) * logits[0]![offset + v]! +
          settings.alphaExpert * logits[1]![offset + v]! -
          settings.alphaAnti * logits[2]![offset + v]!;
      }
      applyRepetitionPenalty(scores, prefix, settings.repetitionPenalty);
      return settings.sampling
        ? sampleToken(scores, { temperature: 1, ...settings.sampling }, randoms[row]!)
        : argmax(scores);
    });
    next.forEach((token, row) => {
      prefixes[row]!.push(token);
      if (token === eos) finished[row] = true;
    });
    feed = next.map((token) => [token]);
  }
  return prefixes.map((prefix) => {
    const generated = prefix.slice(2);
    const end = generated.indexOf(eos);
    return end < 0 ? generated : generated.slice(0, end);
  });
}

/** transformers 4.10's clean_up_tokenization_spaces, then whitespace collapsed (§4.5). */
export function cleanUpText(text: string): string {
  return text
    .replace(/ \./g, '.')
    .replace(/ \?/g, '?')
    .replace(/ !/g, '!')
    .replace(/ ,/g, ',')
    .replace(/ ' /g, "'")
    .replace(/ n't/g, "n't")
    .replace(/ 'm/g, "'m")
    .replace(/ 's/g, "'s")
    .replace(/ 've/g, "'ve")
    .replace(/ 're/g, "'re")
    .replace(/\s+/g, ' ')
    .trim();
}

export async function infill(originals: string[], masked: string[], options: InfillOptions): Promise<string[]> {
  const ids = await infillIds(originals, masked, options);
  return (await options.tokenizer.decodeBatch(ids, { skipSpecialTokens: true })).map(cleanUpText);
}
