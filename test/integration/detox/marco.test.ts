// MaRCo against the independent PyTorch reference (test/reference/marco_reference.py) on tiny byte-level BART
// models: per-word divergences to 1e-4 and identical mask decisions (with and without the index quirk), and
// identical greedy product-of-experts tokens from the KV-cached, batched infiller.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infillIds } from '../../../src-main/core/detox/infiller.ts';
import { maskSentences } from '../../../src-main/core/detox/masker.ts';
import { presets, type DetoxSettings } from '../../../src-main/shared/index.ts';
import { BartSession } from '../../../src-main/core/models/bart/bart-session.ts';
import { loadBartModel } from '../../../src-main/core/models/load-model.ts';
import { tinyBartFixture } from '../../support/bart-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

interface GoldenSentence {
  text: string;
  words: string[];
  divergence: (number | null)[];
  masked: number[];
  maskedQuirk: number[];
  maskedText: string;
  infill: number[] | null;
}
const golden = JSON.parse(readFileSync(new URL('../../golden/marco-tiny.json', import.meta.url), 'utf8')) as {
  format_version: string;
  settings: Pick<
    DetoxSettings,
    'threshold' | 'alphaBase' | 'alphaExpert' | 'alphaAnti' | 'temperature' | 'repetitionPenalty' | 'maxLength'
  >;
  sentences: GoldenSentence[];
};
const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const sessions: BartSession[] = [];
let readers: { expert: BartSession; anti: BartSession };
let generators: { base: BartSession; expert: BartSession; anti: BartSession };
let tokenizer: ReturnType<typeof loadBartModel>['tokenizer']['tokenizer'];

beforeAll(async () => {
  expect(golden.format_version).toBe('1');
  useTemporaryDataDir();
  const [base, expert, anti] = (['bart-tiny', 'bart-tiny-expert', 'bart-tiny-anti'] as const).map((name) =>
    loadBartModel(tinyBartFixture(name)),
  );
  tokenizer = base!.tokenizer.tokenizer;
  const open = async (model: typeof base, logits: 'gather' | 'last') => {
    const session = await BartSession.open(model!, {
      decoder: { hooks: [], hookPositions: 'last', logits, kvCache: logits === 'last' },
      device: cpu,
      batch: 16,
      length: 40,
    });
    sessions.push(session);
    return session;
  };
  readers = { expert: await open(expert, 'gather'), anti: await open(anti, 'gather') };
  generators = { base: await open(base, 'last'), expert: await open(expert, 'last'), anti: await open(anti, 'last') };
});

afterAll(async () => {
  for (const session of sessions) await session.release();
});

describe('masking vs the reference', () => {
  const mask = (indexQuirk: boolean, rowsPerBatch = 64, rowsPerDecoderRun?: number) =>
    maskSentences(
      golden.sentences.map((sentence) => sentence.text),
      {
        tokenizer,
        expert: readers.expert,
        anti: readers.anti,
        threshold: golden.settings.threshold,
        divergence: 'symmetric-kl',
        indexQuirk,
        rowsPerBatch,
        rowsPerDecoderRun,
      },
    );

  it('segments the sentences into the reference words', async () => {
    const masked = await mask(false);
    expect(masked.map((sentence) => sentence.words.map((word) => word.text))).toEqual(
      golden.sentences.map((sentence) => sentence.words),
    );
  });

  it('gives every word the reference divergence to 1e-4 and masks the same words', async () => {
    const masked = await mask(false);
    masked.forEach((sentence, index) => {
      const expected = golden.sentences[index]!;
      sentence.words.forEach((word, w) => {
        if (expected.divergence[w] === null) expect(word.divergence).toBeNull();
        else expect(Math.abs(word.divergence! - expected.divergence[w]!)).toBeLessThan(1e-4);
      });
      expect(sentence.words.flatMap((word, w) => (word.masked ? [w] : []))).toEqual(expected.masked);
      expect(sentence.masked).toBe(expected.maskedText);
    });
  });

  it('reproduces the reference code’s index quirk behind its flag (["Hey", ",", "\\"", "you", "\\"", "idiot"])', async () => {
    const masked = await mask(true);
    masked.forEach((sentence, index) =>
      expect(sentence.words.flatMap((word, w) => (word.masked ? [w] : []))).toEqual(
        golden.sentences[index]!.maskedQuirk,
      ),
    );
    expect(masked[1]!.words.filter((word) => word.masked).map((word) => word.text)).toEqual(['"']);
  });

  it('gives the same scores whatever the batch size and the decoder groups', async () => {
    const scores = (sentences: Awaited<ReturnType<typeof mask>>) =>
      sentences.map((sentence) => sentence.words.map((word) => word.divergence));
    const whole = scores(await mask(false, 64));
    expect(scores(await mask(false, 3))).toEqual(whole);
    // The 16 candidates in groups of 5, 5, 5 and 1 by <mask> position, each decoded up to its own last <mask>.
    expect(scores(await mask(false, 64, 5))).toEqual(whole);
  });
});

describe('rewriting vs the reference', () => {
  it('gives the reference greedy product-of-experts tokens, batched and KV-cached', async () => {
    const settings: DetoxSettings = {
      ...presets.magr,
      ...golden.settings,
      repetitionPenalty: golden.settings.repetitionPenalty,
    };
    const rows = golden.sentences.filter((sentence) => sentence.infill !== null);
    const ids = await infillIds(
      rows.map((sentence) => sentence.text),
      rows.map((sentence) => sentence.maskedText),
      { tokenizer, ...generators, settings },
    );
    expect(ids).toEqual(rows.map((sentence) => sentence.infill));
  });
});
