// `toxscope classify` (cli.md §9) run as users run it: the real process on the tiny classifier fixtures, checked
// against the PyTorch text goldens, the output objects, the .txt/.jsonl inputs and the exit codes 2 and 3.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-data-'));
const work = mkdtempSync(join(os.tmpdir(), 'toxscope-classify-'));
const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);
const golden = openSafetensors(
  fileURLToPath(new URL('../../golden/classifier-text-bert-multilabel.safetensors', import.meta.url)),
);
const texts = JSON.parse(golden.metadata.texts!) as string[];
const labels = ['toxic', 'severe_toxic', 'obscene', 'insult'];
let bert: string;

beforeAll(() => {
  requireBuild();
  bert = classifierFixture('bert-multilabel');
});

function expectGolden(line: Record<string, unknown>, r: number): void {
  const expected = golden.readFloat32(`max24.text${r}.probabilities`);
  const scores = line.scores as Record<string, number>;
  labels.forEach((label, l) => expect(Math.abs(scores[label]! - expected[l]!), label).toBeLessThan(1e-4));
}

describe('toxscope classify', () => {
  it('--text prints one object with the labels in id order, the scores and the activation', () => {
    const run = toxscope('classify', bert, '--text', texts[0]!, '--device', 'cpu');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const object = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(object)).toEqual(['text', 'labels', 'scores', 'activation']);
    expect(object).toMatchObject({ text: texts[0], labels, activation: 'sigmoid' });
    expectGolden(object, 0);
  });

  it('--in .txt with CRLF and empty lines writes one line per text to --out, in order, batched', () => {
    const input = join(work, 'texts.txt');
    writeFileSync(input, `${texts[0]}\r\n\r\n${texts.slice(1).join('\n')}\n\n`);
    const out = join(work, 'scores.jsonl');
    const run = toxscope('classify', bert, '--in', input, '--out', out, '--batch', '3', '--device', 'cpu');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.text)).toEqual(texts);
    lines.forEach((line, r) => expectGolden(line, r));
  });

  it('--in .jsonl reads the "text" field and prints JSONL to stdout without --out', () => {
    const input = join(work, 'texts.jsonl');
    writeFileSync(input, texts.map((text, id) => JSON.stringify({ id, text })).join('\n'));
    const run = toxscope('classify', bert, '--in', input, '--device', 'cpu');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.text)).toEqual(texts);
    lines.forEach((line, r) => expectGolden(line, r));
  });

  it('--max-length truncates as tokenizer(text, truncation=True, max_length=N) does', () => {
    const run = toxscope('classify', bert, '--text', texts[3]!, '--max-length', '8', '--device', 'cpu');
    expect(run.status, run.stderr).toBe(0);
    const object = JSON.parse(run.stdout) as { scores: Record<string, number> };
    const expected = golden.readFloat32('max8.text3.probabilities');
    labels.forEach((label, l) => expect(Math.abs(object.scores[label]! - expected[l]!)).toBeLessThan(1e-4));
  });

  it('a .jsonl line without "text" is bad input: exit 2 naming the line', () => {
    const input = join(work, 'bad.jsonl');
    writeFileSync(input, '{"text": "fine"}\n{"body": "no text"}\n');
    const run = toxscope('classify', bert, '--in', input, '--device', 'cpu');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/line 2.*"text"/);
  });

  it('a missing input file and a --max-length above the positions are exit 2', () => {
    expect(toxscope('classify', bert, '--in', join(work, 'absent.txt')).status).toBe(2);
    const run = toxscope('classify', bert, '--text', 'hi', '--max-length', '25', '--device', 'cpu');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--max-length/);
  });

  it('a model without a classification head is exit 3 with a message', () => {
    const run = toxscope('classify', classifierFixture('bad/no-head'), '--text', 'hi');
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/toxscope: .+/);
  });

  it('a Detoxify checkpoint without --tokenizer and without its base in the cache is exit 2 naming --tokenizer', () => {
    const run = toxscope('classify', classifierFixture('detoxify-unbiased.ckpt'), '--text', 'hi');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--tokenizer/);
  });

  it('a Detoxify checkpoint with --tokenizer reports its renamed classes with sigmoid', () => {
    const run = toxscope(
      'classify',
      classifierFixture('detoxify-unbiased.ckpt'),
      '--tokenizer',
      classifierFixture('detoxify-base'),
      '--text',
      'Hello world!',
      '--device',
      'cpu',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      labels: ['toxicity', 'severe_toxicity', 'obscene', 'identity_attack'],
      activation: 'sigmoid',
    });
  });

  it('no --text or --in is bad usage: exit 2', () => {
    expect(toxscope('classify', bert).status).toBe(2);
  });
});
