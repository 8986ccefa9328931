// intervene and compare with a toxicity classifier (issue 15 §3) on the tiny GPT-2 and demo:classifier: every
// continuation's score equals what the classify job gives for the same text, the summary's mean and fraction toxic
// are those scores' mean and share above 0.5, and the manifests record the classifier's sha256 and label.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { classifyJob } from '../../../src-main/core/models/classifier/classify-job.ts';
import { demoFolder } from '../../../src-main/core/models/model-ref.ts';
import { sha256File } from '../../../src-main/core/weights/fingerprint.ts';
import type { ClassifyFrame, CompareFrame, CompareRequest, InterveneRequest } from '../../../src-main/shared/index.ts';
import { dpoCheckpoint, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
let folder: string;
let demoClassifierSha256: string;

beforeAll(() => {
  useTemporaryDataDir();
  folder = tinyGpt2Folder('hub');
  // Hashed here, apart from the code under test.
  demoClassifierSha256 = sha256File(join(demoFolder(), 'classifier', 'model.safetensors'));
});

const common = {
  probe: join(fixtures, 'probe8.json'),
  prompts: join(fixtures, 'prompts.jsonl'),
  maxNewTokens: 6,
  maxPromptTokens: 32,
  batch: 4,
  device: 'cpu' as const,
  threads: 1,
};

function interveneRequest(overrides: Partial<InterveneRequest> = {}): InterveneRequest {
  return {
    ...common,
    model: folder,
    weights: dpoCheckpoint,
    intervention: 'none',
    prependBos: false,
    out: mkdtempSync(join(os.tmpdir(), 'toxscope-intervene-classifier-')),
    ...overrides,
  };
}

function compareRequest(overrides: Partial<CompareRequest> = {}): CompareRequest {
  return {
    ...common,
    base: folder,
    dpo: dpoCheckpoint,
    weightProcessing: 'none',
    prependBos: true,
    out: mkdtempSync(join(os.tmpdir(), 'toxscope-compare-classifier-')),
    ...overrides,
  };
}

const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Each text's `label` probability as the classify job gives it (its own run, from a .jsonl file, one by one). */
async function classifyScores(model: string, texts: string[], label: string): Promise<number[]> {
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-classify-check-'));
  writeFileSync(join(work, 'texts.jsonl'), texts.map((text) => JSON.stringify({ text }) + '\n').join(''));
  await classifyJob(
    { model, input: join(work, 'texts.jsonl'), output: join(work, 'scores.jsonl'), batch: 1, device: 'cpu' },
    testContext<ClassifyFrame>().context,
  );
  return readLines(join(work, 'scores.jsonl')).map((line) => (line.scores as Record<string, number>)[label]!);
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, index) => expect(Math.abs(value - expected[index]!), `text ${index}`).toBeLessThan(1e-5));
}

function expectProbabilities(scores: number[]): void {
  for (const score of scores) expect(score >= 0 && score <= 1, `${score} is a probability`).toBe(true);
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const fractionAbove = (values: number[]) => values.filter((value) => value > 0.5).length / values.length;

describe('intervene --classifier', () => {
  it('scores every continuation as classify does, and summarises them with the classifier recorded', async () => {
    const result = await interveneJob(
      interveneRequest({ intervention: 'ablate:top=4', classifier: 'demo:classifier' }),
      testContext<never>().context,
    );
    const lines = readLines(join(result.out, 'generations.jsonl'));
    expect(lines).toHaveLength(10);
    const scores = lines.map((line) => line.classifierToxicity as number);
    expectProbabilities(scores);
    expectClose(
      scores,
      await classifyScores(
        'demo:classifier',
        lines.map((line) => line.continuation as string),
        'toxicity',
      ),
    );

    const toxicity = result.summary.toxicity.classifier!;
    expect(toxicity).toMatchObject({
      reference: 'demo:classifier',
      tokenizer: null,
      label: 'toxicity',
      sha256: demoClassifierSha256,
      threshold: 0.5,
      scored: 10,
    });
    expect(toxicity.mean).toBeCloseTo(mean(scores), 12);
    expect(toxicity.fractionToxic).toBe(fractionAbove(scores));
    // The file says what the result says.
    const written = JSON.parse(readFileSync(join(result.out, 'summary.json'), 'utf8')) as typeof result.summary;
    expect(written.toxicity.classifier).toEqual(toxicity);
    const manifest = JSON.parse(readFileSync(join(result.out, 'manifest.json'), 'utf8')) as {
      classifier: Record<string, unknown>;
    };
    expect(manifest.classifier).toMatchObject({
      reference: 'demo:classifier',
      sha256: demoClassifierSha256,
      label: 'toxicity',
      labels: ['toxicity'],
      activation: 'sigmoid',
      format: 'huggingface',
    });
  });

  it('reads the label the detox gate reads from a multi-label head ("toxic" of four)', async () => {
    const bert = classifierFixture('bert-multilabel');
    const result = await interveneJob(interveneRequest({ classifier: bert }), testContext<never>().context);
    const toxicity = result.summary.toxicity.classifier!;
    expect(toxicity.label).toBe('toxic');
    expect(toxicity.sha256).toBe(sha256File(join(bert, 'model.safetensors')));
    const lines = readLines(join(result.out, 'generations.jsonl'));
    expectClose(
      lines.map((line) => line.classifierToxicity as number),
      await classifyScores(
        bert,
        lines.map((line) => line.continuation as string),
        'toxic',
      ),
    );
  });

  it('writes no classifier numbers when none is named', async () => {
    const result = await interveneJob(interveneRequest(), testContext<never>().context);
    expect(result.summary.toxicity.classifier).toBeNull();
    expect(readLines(join(result.out, 'generations.jsonl'))[0]).not.toHaveProperty('classifierToxicity');
    expect(JSON.parse(readFileSync(join(result.out, 'manifest.json'), 'utf8'))).toMatchObject({ classifier: null });
  });

  it('refuses a model that is not a classifier before generating anything (WEIGHTS_INVALID: exit 3)', async () => {
    const request = interveneRequest({ classifier: folder });
    await expect(interveneJob(request, testContext<never>().context)).rejects.toMatchObject({
      appError: { code: 'WEIGHTS_INVALID' },
    });
    expect(() => readFileSync(join(request.out, 'generations.jsonl'))).toThrow();
  });
});

describe('compare --classifier', () => {
  it("scores both models' continuations as classify does, and reports base → DPO with the classifier recorded", async () => {
    const result = await compareJob(
      compareRequest({ classifier: 'demo:classifier' }),
      testContext<CompareFrame>().context,
    );
    const lines = readLines(join(result.out, 'generations.jsonl'));
    expect(lines).toHaveLength(10);
    expect(Object.keys(lines[0]!)).toEqual(['prompt', 'base', 'dpo', 'baseToxicity', 'dpoToxicity']);
    const baseScores = lines.map((line) => line.baseToxicity as number);
    const dpoScores = lines.map((line) => line.dpoToxicity as number);
    expectProbabilities([...baseScores, ...dpoScores]);
    expectClose(
      baseScores,
      await classifyScores(
        'demo:classifier',
        lines.map((line) => line.base as string),
        'toxicity',
      ),
    );
    expectClose(
      dpoScores,
      await classifyScores(
        'demo:classifier',
        lines.map((line) => line.dpo as string),
        'toxicity',
      ),
    );

    const toxicity = result.summary.classifier!;
    expect(toxicity).toMatchObject({ reference: 'demo:classifier', label: 'toxicity', sha256: demoClassifierSha256 });
    expect(toxicity.base.mean).toBeCloseTo(mean(baseScores), 12);
    expect(toxicity.dpo.mean).toBeCloseTo(mean(dpoScores), 12);
    expect(toxicity.base.fractionToxic).toBe(fractionAbove(baseScores));
    expect(toxicity.dpo.fractionToxic).toBe(fractionAbove(dpoScores));
    expect(toxicity.reduction).toBeCloseTo(mean(baseScores) - mean(dpoScores), 12);
    const written = JSON.parse(readFileSync(join(result.out, 'summary.json'), 'utf8')) as typeof result.summary;
    expect(written.classifier).toEqual(toxicity);
    const manifest = JSON.parse(readFileSync(join(result.out, 'manifest.json'), 'utf8')) as {
      classifier: Record<string, unknown>;
      request: Record<string, unknown>;
    };
    expect(manifest.classifier).toMatchObject({ reference: 'demo:classifier', sha256: demoClassifierSha256 });
    expect(manifest.request.classifier).toBe('demo:classifier');
  });

  it('keeps generations.jsonl as before and writes classifier: null without one', async () => {
    const result = await compareJob(compareRequest(), testContext<CompareFrame>().context);
    expect(Object.keys(readLines(join(result.out, 'generations.jsonl'))[0]!)).toEqual(['prompt', 'base', 'dpo']);
    expect(result.summary.classifier).toBeNull();
  });
});
