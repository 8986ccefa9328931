// `toxscope detox` with the toxicity gate (cli.md "Detox safety") as users run it: --classifier, the threshold that
// leaves clean text byte for byte, scores before/after and refusal reasons in --explain, the summary line, --classifier
// none for MaRCo alone, and bad gate options as exit 2.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-data-'));
const work = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-gate-'));
const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);
const fixtures = (name: string) => new URL(`../../fixtures/${name}/`, import.meta.url).pathname;
const trio = [
  '--base',
  fixtures('bart-tiny'),
  '--expert',
  fixtures('bart-tiny-expert'),
  '--anti-expert',
  fixtures('bart-tiny-anti'),
  '--threshold',
  '1.0',
  '--max-length',
  '24',
  '--device',
  'cpu',
];
const input = '## Notes\r\n\r\nThe meeting has moved to room 4. You are a useless idiot.\r\n';
let classifier: string;

beforeAll(() => {
  requireBuild();
  classifier = classifierFixture('bert-multilabel');
  writeFileSync(join(work, 'in.md'), input);
});

describe('toxscope detox --classifier', () => {
  it('a threshold no sentence exceeds leaves the document byte for byte and says why in --explain', () => {
    const explain = join(work, 'clean.json');
    const out = join(work, 'clean.md');
    const run = toxscope(
      'detox',
      ...trio,
      '--classifier',
      classifier,
      '--toxicity-threshold',
      '1',
      '--in',
      join(work, 'in.md'),
      '--out',
      out,
      '--explain',
      explain,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(input);
    const explanation = JSON.parse(readFileSync(explain, 'utf8')) as {
      settings: { gate: Record<string, unknown> };
      segments: { gate: { outcome: string; before: number; reason: string } }[];
    };
    expect(explanation.settings.gate).toMatchObject({ toxicityThreshold: 1, maxResamples: 3 });
    expect(run.stderr).toContain(`0 rewritten, ${explanation.segments.length} left clean, 0 refused`);
    for (const segment of explanation.segments) {
      expect(segment.gate.outcome).toBe('clean');
      expect(segment.gate.reason).toMatch(/at or below the threshold/);
    }
  });

  it('with every sentence above the threshold, --explain has each candidate’s score and each refusal’s reason', () => {
    const explain = join(work, 'gated.json');
    const run = toxscope(
      'detox',
      ...trio,
      '--classifier',
      classifier,
      '--toxicity-threshold',
      '0',
      '--max-resamples',
      '1',
      '--text',
      'You are a useless idiot.',
      '--explain',
      explain,
    );
    expect(run.status, run.stderr).toBe(0);
    const { segments } = JSON.parse(readFileSync(explain, 'utf8')) as {
      segments: { text: string; rewrite: string; gate: Record<string, unknown> }[];
    };
    expect(segments.length).toBeGreaterThan(0);
    for (const segment of segments) {
      expect(segment.gate).toMatchObject({ label: 'toxic' });
      expect(typeof segment.gate.before).toBe('number');
      const attempts = segment.gate.attempts as { toxicity: number; refused: string | null }[];
      expect(attempts.length).toBeLessThanOrEqual(2);
      for (const attempt of attempts) expect(typeof attempt.toxicity).toBe('number');
      if (segment.gate.outcome === 'refused') {
        expect(segment.rewrite).toBe(segment.text);
        expect(segment.gate.reason).toMatch(/refused|no word was masked/);
      }
      expect(run.stdout).toContain(segment.rewrite);
    }
  });

  it('--classifier none runs MaRCo alone, with no gate in --explain', () => {
    const explain = join(work, 'none.json');
    const run = toxscope('detox', ...trio, '--classifier', 'none', '--text', 'You are an idiot.', '--explain', explain);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/toxicity gate/);
    const explanation = JSON.parse(readFileSync(explain, 'utf8')) as { settings: object; segments: object[] };
    expect(explanation.settings).not.toHaveProperty('gate');
    expect(explanation.segments[0]).not.toHaveProperty('gate');
  });

  it('gate options without a classifier, a threshold outside 0..1 and a missing blocklist are exit 2', () => {
    const noClassifier = toxscope(
      'detox',
      ...trio,
      '--classifier',
      'none',
      '--toxicity-threshold',
      '0.3',
      '--text',
      'x',
    );
    expect(noClassifier.status).toBe(2);
    expect(noClassifier.stderr).toMatch(/--toxicity-threshold needs a toxicity classifier/);
    const threshold = toxscope(
      'detox',
      ...trio,
      '--classifier',
      classifier,
      '--toxicity-threshold',
      '2',
      '--text',
      'x',
    );
    expect(threshold.status).toBe(2);
    const blocklist = toxscope(
      'detox',
      ...trio,
      '--classifier',
      classifier,
      '--blocklist',
      join(work, 'absent.txt'),
      '--text',
      'x',
    );
    expect(blocklist.status).toBe(2);
    expect(blocklist.stderr).toMatch(/No blocklist at/);
  });
});
