// The detox toxicity gate (issue 15 §4, cli.md "Detox safety") on the tiny BART trio with a tiny classifier: clean
// sentences are never touched, a kept rewrite is always less toxic and adds no blocklisted word, a refused one keeps
// the original byte for byte with its reason, re-samples are bounded, and without a gate MaRCo runs as before.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detoxBatchJob } from '../../../src-main/core/detox/batch-job.ts';
import { detoxJob, resampleSettings } from '../../../src-main/core/detox/detox-job.ts';
import {
  addedBlockedWords,
  defaultBlocklistPath,
  parseBlocklist,
  readBlocklist,
  refusalOf,
} from '../../../src-main/core/detox/toxicity-gate.ts';
import {
  presets,
  type DetoxBatchFrame,
  type DetoxFrame,
  type DetoxRequest,
  type DetoxSegment,
} from '../../../src-main/shared/index.ts';
import { tinyBartFixture } from '../../support/bart-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

let models: { base: string; expert: string; antiExpert: string };
let classifier: string;
const work = mkdtempSync(join(os.tmpdir(), 'toxscope-gate-'));

beforeAll(() => {
  useTemporaryDataDir();
  models = {
    base: tinyBartFixture('bart-tiny'),
    expert: tinyBartFixture('bart-tiny-expert'),
    antiExpert: tinyBartFixture('bart-tiny-anti'),
  };
  classifier = classifierFixture('bert-multilabel');
});

const document =
  'The meeting has moved to room 4. You are a useless idiot.\n\nThanks for the help yesterday, it made my week! Garbage ideas, all of them.\n';

function request(gate: Partial<NonNullable<DetoxRequest['gate']>> | null, explain?: string): DetoxRequest {
  return {
    ...models,
    text: document,
    explain,
    settings: { ...presets.magr, threshold: 1.0, maxLength: 48 },
    batch: 4,
    device: 'cpu',
    threads: 1,
    gate:
      gate === null
        ? null
        : { classifier, toxicityThreshold: 0.5, maxResamples: 2, blocklist: defaultBlocklistPath(), ...gate },
  };
}

async function run(gate: Parameters<typeof request>[0]) {
  const explain = join(work, `explain-${Math.random().toString(36).slice(2)}.json`);
  const result = await detoxJob(request(gate, explain), testContext<DetoxFrame>().context);
  const { segments, settings } = JSON.parse(readFileSync(explain, 'utf8')) as {
    segments: DetoxSegment[];
    settings: { gate?: Record<string, unknown> };
  };
  return { result, segments, settings };
}

describe('the detox toxicity gate', () => {
  it('a sentence at or below the threshold is never masked and is written byte for byte', async () => {
    const { result, segments, settings } = await run({ toxicityThreshold: 1 });
    expect(result.document).toBe(document);
    expect(segments.length).toBeGreaterThan(0);
    for (const segment of segments) {
      expect(segment.gate).toMatchObject({ outcome: 'clean', after: null, attempts: [] });
      expect(segment.gate!.before).toBeGreaterThanOrEqual(0);
      expect(segment.gate!.reason).toMatch(/at or below the threshold 1/);
      expect(segment.words.filter((word) => word.masked)).toEqual([]);
    }
    expect(result.gate).toMatchObject({ clean: segments.length, rewritten: 0, refused: 0, threshold: 1 });
    expect(result.gate!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // --explain names the weights that produced the scores: the classifier's sha256 and label beside its reference.
    expect(settings.gate).toMatchObject({ classifier, sha256: result.gate!.sha256, label: 'toxic' });
  });

  it('every kept rewrite is less toxic than its original and adds no blocklisted word; refused ones keep the original', async () => {
    const { result, segments } = await run({ toxicityThreshold: 0, maxResamples: 2 });
    const blocklist = readBlocklist(defaultBlocklistPath());
    for (const segment of segments) {
      const gate = segment.gate!;
      expect(gate.outcome).not.toBe('clean');
      expect(gate.attempts.length).toBeLessThanOrEqual(3);
      // Every label's probability is recorded (the app's breakdown), the gate's label being the compared toxicity.
      expect(gate.labelScores![gate.label]).toBe(gate.before);
      for (const attempt of gate.attempts) expect(attempt.labelScores![gate.label]).toBe(attempt.toxicity);
      if (gate.outcome === 'rewritten') {
        expect(segment.rewrite).not.toBe(segment.text);
        expect(gate.after!).toBeLessThan(gate.before);
        expect(addedBlockedWords(segment.text, segment.rewrite, blocklist)).toEqual([]);
        expect(gate.attempts.at(-1)).toMatchObject({ rewrite: segment.rewrite, refused: null });
        expect(result.document).toContain(segment.rewrite);
      } else {
        expect(segment.rewrite).toBe(segment.text);
        expect(gate.after).toBeNull();
        expect(gate.reason).toMatch(/refused|no word was masked/);
        for (const attempt of gate.attempts) expect(attempt.refused).toMatch(/blocklisted|not less toxic|original/);
        expect(result.document).toContain(segment.text);
      }
    }
    const count = (outcome: string) => segments.filter((segment) => segment.gate!.outcome === outcome).length;
    // The tiny trio's rewrites are noise: some are refused and re-sampled (the seeded run refuses most of them).
    expect(segments.some((segment) => segment.gate!.attempts.length === 3)).toBe(true);
    expect(result.gate).toMatchObject({ rewritten: count('rewritten'), refused: count('refused'), clean: 0 });
    expect(result.rewritten).toBe(count('rewritten'));
  });

  it('with --max-resamples 0 each masked sentence gets exactly one candidate', async () => {
    const { segments } = await run({ toxicityThreshold: 0, maxResamples: 0 });
    for (const segment of segments.filter((entry) => entry.masked !== entry.text))
      expect(segment.gate!.attempts).toHaveLength(1);
  });

  it('a blocklist that blocks every word refuses every rewrite that adds one, keeping the original', async () => {
    const everything = join(work, 'everything.txt');
    writeFileSync(everything, '# every word\n*\n');
    const { result, segments } = await run({ toxicityThreshold: 0, maxResamples: 1, blocklist: everything });
    const blocklist = readBlocklist(everything);
    for (const segment of segments)
      if (segment.gate!.outcome === 'rewritten')
        expect(addedBlockedWords(segment.text, segment.rewrite, blocklist)).toEqual([]);
    expect(result.gate!.rewritten + result.gate!.refused).toBe(segments.length);
  });

  it('a batch counts sentences rewritten, left clean and refused per file and in total, and keeps clean files byte for byte', async () => {
    const input = join(work, 'batch-in');
    mkdirSync(input);
    writeFileSync(join(input, 'a.txt'), document);
    writeFileSync(join(input, 'b.md'), '# Title\n\nHello there.\n');
    const output = join(work, 'batch-out');
    const gate = { classifier, toxicityThreshold: 1, maxResamples: 1, blocklist: null };
    const { summary } = await detoxBatchJob(
      {
        ...models,
        inputFolder: input,
        outputFolder: output,
        settings: { ...presets.magr, threshold: 1.0, maxLength: 48 },
        batch: 4,
        gate,
        device: 'cpu',
        threads: 1,
      },
      testContext<DetoxBatchFrame>().context,
    );
    expect(readFileSync(join(output, 'a.txt'), 'utf8')).toBe(document);
    for (const file of summary.files) expect(file.gate).toEqual({ rewritten: 0, clean: file.sentences, refused: 0 });
    const sentences = summary.files.reduce((sum, file) => sum + file.sentences, 0);
    expect(summary.gate).toMatchObject({ ...gate, rewritten: 0, clean: sentences, refused: 0 });
    expect(summary.gate!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.gate!.label).toBe('toxic'); // the label its numbers are the probability of
  });

  it('without a gate MaRCo rewrites as before and reports no gate', async () => {
    const { result, segments } = await run(null);
    expect(result.gate).toBeNull();
    for (const segment of segments) expect(segment.gate).toBeUndefined();
  });
});

describe('the blocklist', () => {
  const blocklist = parseBlocklist('# comment\nIdiot\nfuck*  # a prefix\n\nasian*\n');

  it('ignores case and comments and matches whole words or prefixes, never substrings', () => {
    expect(addedBlockedWords('ideas', 'Garbage Asians', blocklist)).toEqual(['asians']);
    expect(addedBlockedWords('the room', 'the fucking room', blocklist)).toEqual(['fucking']);
    expect(addedBlockedWords('the idea', 'the idiotic idea', blocklist)).toEqual([]);
  });

  it('allows a word the original already had, and refuses one more of it', () => {
    expect(addedBlockedWords('you idiot', 'you are an idiot', blocklist)).toEqual([]);
    expect(addedBlockedWords('you idiot', 'idiot, you idiot', blocklist)).toEqual(['idiot']);
  });

  it('checks the parts of hyphenated words', () => {
    expect(addedBlockedWords('a plan', 'an idiot-proof plan', blocklist)).toEqual(['idiot']);
  });

  it('refuses a rewrite that is not less toxic, is the original, or adds a blocked word; keeps a better one', () => {
    const original = { text: 'you idiot', toxicity: 0.8 };
    expect(refusalOf(original, { text: 'you person', toxicity: 0.8 }, blocklist)).toMatch(/not less toxic/);
    expect(refusalOf(original, { text: 'you idiot', toxicity: 0.1 }, blocklist)).toMatch(/original/);
    expect(refusalOf(original, { text: 'you fucker', toxicity: 0.1 }, blocklist)).toMatch(/blocklisted word: fucker/);
    expect(refusalOf(original, { text: 'you person', toxicity: 0.2 }, blocklist)).toBeNull();
  });

  it('the shipped list blocks the issue’s examples', () => {
    const shipped = readBlocklist(defaultBlocklistPath());
    expect(addedBlockedWords('The meeting has moved', 'The fucking room has moved', shipped)).toEqual(['fucking']);
    expect(addedBlockedWords('garbage ideas', 'garbage asians', shipped)).toEqual(['asians']);
    expect(addedBlockedWords('it made my week', 'it was my fucking joking', shipped)).toEqual(['fucking']);
  });

  it('re-samples are seeded sampling, a different seed each time', () => {
    const first = resampleSettings({ ...presets.magr }, 1);
    const second = resampleSettings({ ...presets.magr }, 2);
    expect(first.sampling).toMatchObject({ seed: 1 });
    expect(second.sampling).toMatchObject({ seed: 2 });
  });
});
