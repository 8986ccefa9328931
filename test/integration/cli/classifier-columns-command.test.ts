// `intervene` and `compare` with --classifier as users run them (the real `toxscope` process): the classifier's
// numbers in summary.json, generations.jsonl and stderr, equal to what `toxscope classify` prints for the same
// continuations; the default (demo:classifier), `none`, and a stray --classifier-tokenizer.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { dpoCheckpoint, tinyGpt2Folder } from '../../support/gpt2-fixtures.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-data-'));
const work = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-classifier-columns-'));
const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);
let folder: string;

beforeAll(() => {
  requireBuild();
  folder = tinyGpt2Folder('hub');
});

const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** What `toxscope classify demo:classifier --in texts.jsonl` prints as each text's toxicity. */
function classifyCommand(texts: string[], name: string): number[] {
  const input = join(work, `${name}.jsonl`);
  writeFileSync(input, texts.map((text) => JSON.stringify({ text }) + '\n').join(''));
  const run = toxscope('classify', 'demo:classifier', '--in', input, '--device', 'cpu');
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { scores: Record<string, number> }).scores.toxicity!);
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, index) => expect(Math.abs(value - expected[index]!), `text ${index}`).toBeLessThan(1e-5));
}

const promptArgs = ['--probe', join(fixtures, 'probe8.json'), '--prompts', join(fixtures, 'prompts.jsonl')];

describe('toxscope intervene --classifier', () => {
  it('scores every continuation as `classify` does and prints the mean and fraction toxic', () => {
    const out = mkdtempSync(join(work, 'intervene-'));
    const run = toxscope(
      'intervene',
      '--model',
      folder,
      ...promptArgs,
      '--intervention',
      'ablate:top=4',
      '--max-new-tokens',
      '5',
      '--classifier',
      'demo:classifier',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /toxicity \(classifier demo:classifier, toxicity, mean of 10\): 0\.\d{4}; fraction toxic \(above 0\.5\): \d+\.\d%/,
    );
    const lines = readLines(join(out, 'generations.jsonl'));
    const scores = lines.map((line) => line.classifierToxicity as number);
    expectClose(
      scores,
      classifyCommand(
        lines.map((line) => line.continuation as string),
        'intervene',
      ),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      toxicity: { classifier: { mean: number; fractionToxic: number; sha256: string } };
    };
    const { classifier } = summary.toxicity;
    expect(classifier.mean).toBeGreaterThanOrEqual(0);
    expect(classifier.mean).toBeLessThanOrEqual(1);
    expect(classifier.fractionToxic).toBeGreaterThanOrEqual(0);
    expect(classifier.fractionToxic).toBeLessThanOrEqual(1);
    expect(classifier.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--classifier none writes classifier: null; --classifier-tokenizer without a classifier is exit 2', () => {
    const out = mkdtempSync(join(work, 'intervene-none-'));
    const common = ['intervene', '--model', folder, ...promptArgs, '--intervention', 'none', '--max-new-tokens', '3'];
    const none = toxscope(...common, '--classifier', 'none', '--out', out);
    expect(none.status, none.stderr).toBe(0);
    expect(none.stderr).not.toMatch(/toxicity \(classifier/);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({
      toxicity: { classifier: null },
    });
    const stray = toxscope(...common, '--classifier', 'none', '--classifier-tokenizer', folder, '--out', out);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toMatch(/--classifier-tokenizer needs a toxicity classifier/);
  });
});

describe('toxscope compare --classifier', () => {
  it("scores both models' continuations with the default classifier and prints base → DPO", () => {
    const out = mkdtempSync(join(work, 'compare-'));
    const run = toxscope(
      'compare',
      '--base',
      folder,
      '--dpo',
      dpoCheckpoint,
      ...promptArgs,
      '--max-new-tokens',
      '5',
      '--batch',
      '4',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/toxicity \(classifier demo:classifier, toxicity\): base 0\.\d{4} → DPO 0\.\d{4}/);
    const lines = readLines(join(out, 'generations.jsonl'));
    expectClose(
      lines.map((line) => line.baseToxicity as number),
      classifyCommand(
        lines.map((line) => line.base as string),
        'compare-base',
      ),
    );
    expectClose(
      lines.map((line) => line.dpoToxicity as number),
      classifyCommand(
        lines.map((line) => line.dpo as string),
        'compare-dpo',
      ),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      classifier: { base: { mean: number }; dpo: { mean: number }; reduction: number };
    };
    expect(summary.classifier.reduction).toBeCloseTo(summary.classifier.base.mean - summary.classifier.dpo.mean, 12);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      classifier: { reference: string; sha256: string };
    };
    expect(manifest.classifier.reference).toBe('demo:classifier');
    expect(manifest.classifier.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
