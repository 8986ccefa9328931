// `compare`, `intervene` and `probe train` as users run them (the real `toxscope` process): the contract's files and
// fields, and its exit codes.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { dpoCheckpoint, tinyGpt2Folder } from '../../support/gpt2-fixtures.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-data-'));
let folder: string;
let compareOut: string;

const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);

beforeAll(() => {
  requireBuild();
  folder = tinyGpt2Folder('hub');
  compareOut = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-compare-'));
});

describe('toxscope compare', () => {
  it('writes neurons.csv, summary.json, generations.jsonl and manifest.json with the contract fields', () => {
    const run = toxscope(
      'compare',
      '--base',
      folder,
      '--dpo',
      dpoCheckpoint,
      '--probe',
      join(fixtures, 'probe8.json'),
      '--prompts',
      join(fixtures, 'prompts.jsonl'),
      '--max-new-tokens',
      '5',
      '--batch',
      '4',
      '--out',
      compareOut,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^device: cpu/m);
    expect(run.stderr).toMatch(/gross reduction .*, net /);
    for (const file of ['neurons.csv', 'summary.json', 'generations.jsonl', 'manifest.json'])
      expect(existsSync(join(compareOut, file)), file).toBe(true);
    expect(existsSync(join(compareOut, '.partial'))).toBe(false);
    const summary = JSON.parse(readFileSync(join(compareOut, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({
      prompts: 10,
      positions: 50,
      weightProcessing: 'none',
      toxicNeuronShare: { topN: 128 },
    });
    for (const key of ['grossReduction', 'netReduction', 'groups', 'groupsV3', 'layers'])
      expect(summary).toHaveProperty(key);
    expect(Object.keys(summary.groups as object)).toEqual(['TP-', 'TN+', 'AP+', 'AN-', 'TP+', 'TN-', 'AP-', 'AN+']);
    expect((summary.groups as Record<string, object>)['TP-']).toEqual({
      count: expect.any(Number),
      sumDelta: expect.any(Number),
      share: expect.any(Number),
    });
    expect(Object.keys(summary.groupsV3 as object)).toEqual(['TP↓', 'TN↓', 'AP↓', 'AN↓']);
    expect((summary.layers as object[])[0]).toMatchObject({
      layer: 0,
      reduced: expect.any(Number),
      increased: expect.any(Number),
      byGroup: expect.any(Object),
    });
    const generation = JSON.parse(
      readFileSync(join(compareOut, 'generations.jsonl'), 'utf8').split('\n')[0]!,
    ) as object;
    // The default toxicity classifier (demo:classifier) scores both continuations.
    expect(Object.keys(generation)).toEqual(['prompt', 'base', 'dpo', 'baseToxicity', 'dpoToxicity']);
  });

  it('exits 3 for a probe that does not fit the model and 2 for a malformed prompt file', () => {
    const folderForBad = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-bad-'));
    writeFileSync(join(folderForBad, 'probe.json'), '[1, 2]');
    writeFileSync(join(folderForBad, 'prompts.jsonl'), '{"prompt": "ok"}\nnot json\n');
    const common = ['compare', '--base', folder, '--dpo', dpoCheckpoint, '--out', join(folderForBad, 'out')];
    const badProbe = toxscope(
      ...common,
      '--probe',
      join(folderForBad, 'probe.json'),
      '--prompts',
      join(fixtures, 'prompts.jsonl'),
    );
    expect(badProbe.status).toBe(3);
    expect(badProbe.stderr).toMatch(/has 2 numbers but the model's d_model is 8/);
    const badPrompts = toxscope(
      ...common,
      '--probe',
      join(fixtures, 'probe8.json'),
      '--prompts',
      join(folderForBad, 'prompts.jsonl'),
    );
    expect(badPrompts.status).toBe(2);
    expect(badPrompts.stderr).toMatch(/prompts\.jsonl, line 2: is not valid JSON/);
  });
});

describe('toxscope intervene', () => {
  it('patches the dampened groups of a compare output and writes the contract summary', () => {
    const out = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-intervene-'));
    const run = toxscope(
      'intervene',
      '--model',
      folder,
      '--probe',
      join(fixtures, 'probe8.json'),
      '--prompts',
      join(fixtures, 'prompts.jsonl'),
      '--intervention',
      `patch:groups=TP-+AN-,from=${compareOut}`,
      '--max-new-tokens',
      '5',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ toxicity: { probe: expect.any(Number) }, perplexity: null, prompts: 10 });
    expect(existsSync(join(out, 'generations.jsonl')) && existsSync(join(out, 'manifest.json'))).toBe(true);
  });

  it('patches a list of neurons (the explorer selection) to their DPO means from a compare output', () => {
    const out = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-intervene-'));
    const common = ['--model', folder, '--probe', join(fixtures, 'probe8.json'), '--prompts'];
    const run = toxscope(
      'intervene',
      ...common,
      join(fixtures, 'prompts.jsonl'),
      '--intervention',
      `patch:neurons=L0N1+L1N3,from=${compareOut}`,
      '--max-new-tokens',
      '5',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { intervention: unknown };
    expect(summary.intervention).toMatchObject({
      neurons: 2,
      description: 'patch 2 neurons selected to their DPO mean activations',
    });
    const missing = toxscope(
      'intervene',
      ...common,
      join(fixtures, 'prompts.jsonl'),
      '--intervention',
      `patch:neurons=L0N1+L9N3,from=${compareOut}`,
      '--out',
      out,
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/Neuron \(9, 3\) does not exist/);
  });

  it('exits 2 with the list of specs for an unknown intervention', () => {
    const run = toxscope(
      'intervene',
      '--model',
      folder,
      '--probe',
      join(fixtures, 'probe8.json'),
      '--prompts',
      join(fixtures, 'prompts.jsonl'),
      '--intervention',
      'zap:x=1',
      '--out',
      mkdtempSync(join(os.tmpdir(), 'x-')),
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/hint: Use one of: none; ablate:top=N/);
  });
});

describe('toxscope probe train', () => {
  it('trains on a CSV, reports held-out accuracy, and the probe loads back with its metadata', () => {
    const work = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-probe-'));
    const rows = ['text,label'];
    for (let index = 0; index < 60; index++)
      rows.push(
        index % 2 ? `"you are an idiot and a fool, ${index}",hate` : `"what a lovely sunny day, ${index}",nothate`,
      );
    writeFileSync(join(work, 'data.csv'), rows.join('\n') + '\n');
    const run = toxscope(
      'probe',
      'train',
      '--model',
      folder,
      '--data',
      join(work, 'data.csv'),
      '--text-column',
      'text',
      '--label-column',
      'label',
      '--out',
      join(work, 'probe.safetensors'),
    );
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      heldOutAccuracy: number;
      trainExamples: number;
      heldOutExamples: number;
      hook: string;
    };
    expect(report).toMatchObject({ trainExamples: 54, heldOutExamples: 6, hook: 'blocks.1.hook_resid_post' });
    expect(report.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    const metadata = JSON.parse(readFileSync(join(work, 'probe.safetensors.json'), 'utf8')) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      hook: 'blocks.1.hook_resid_post',
      heldOutAccuracy: report.heldOutAccuracy,
      dataSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // The trained probe is accepted by compare.
    const compare = toxscope(
      'compare',
      '--base',
      folder,
      '--dpo',
      dpoCheckpoint,
      '--probe',
      join(work, 'probe.safetensors'),
      '--prompts',
      join(fixtures, 'prompts.jsonl'),
      '--max-new-tokens',
      '2',
      '--limit',
      '2',
      '--out',
      join(work, 'compare'),
      '--quiet',
    );
    expect(compare.status, compare.stderr).toBe(0);
  });

  it('exits 2 naming the columns when a column is missing', () => {
    const work = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-probe-'));
    writeFileSync(join(work, 'data.csv'), 'comment,label\nhello,0\n');
    const run = toxscope(
      'probe',
      'train',
      '--model',
      folder,
      '--data',
      join(work, 'data.csv'),
      '--text-column',
      'text',
      '--label-column',
      'label',
      '--out',
      join(work, 'p.safetensors'),
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/has no column "text" \(columns: comment, label\)/);
  });
});

describe('toxscope detox', () => {
  const fixtures = (name: string) => new URL(`../../fixtures/${name}/`, import.meta.url).pathname;
  // MaRCo alone (no toxicity gate), whether or not demo:classifier is installed: the contract of cli.md §7.
  const trio = [
    '--base',
    fixtures('bart-tiny'),
    '--expert',
    fixtures('bart-tiny-expert'),
    '--anti-expert',
    fixtures('bart-tiny-anti'),
    '--classifier',
    'none',
  ];

  it('rewrites a Markdown file into --out, keeps its structure, and writes the --explain JSON of the contract', () => {
    const work = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-detox-'));
    const input = '## Heading\r\n\r\nYou are an idiot. Nice day!\r\n* item\r\n';
    writeFileSync(join(work, 'in.md'), input);
    const run = toxscope(
      'detox',
      ...trio,
      '--in',
      join(work, 'in.md'),
      '--out',
      join(work, 'out.md'),
      '--explain',
      join(work, 'explain.json'),
      '--threshold',
      '1.0',
      '--max-length',
      '10',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/sentences rewritten/);
    const output = readFileSync(join(work, 'out.md'), 'utf8');
    expect(output.startsWith('## ')).toBe(true);
    expect(output.endsWith('\r\n')).toBe(true);
    expect(output.split('\r\n').length).toBe(input.split('\r\n').length);
    const explanation = JSON.parse(readFileSync(join(work, 'explain.json'), 'utf8')) as {
      settings: Record<string, unknown>;
      segments: Record<string, unknown>[];
    };
    expect(explanation.settings).toMatchObject({ threshold: 1, alphaExpert: 4.25, alphaAnti: 1.5, temperature: 2.5 });
    expect(Object.keys(explanation.segments[0]!)).toEqual(['text', 'start', 'end', 'words', 'masked', 'rewrite']);
    expect(Object.keys((explanation.segments[0]!.words as object[])[0]!)).toEqual([
      'text',
      'start',
      'end',
      'divergence',
      'score',
      'masked',
    ]);
  });

  it('prints the rewrite of --text to stdout, and exits 2 without input', () => {
    const run = toxscope(
      'detox',
      ...trio,
      '--text',
      'You are an idiot.',
      '--threshold',
      '1.0',
      '--max-length',
      '8',
      '--quiet',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.endsWith('\n')).toBe(true);
    const missing = toxscope('detox', ...trio);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/exactly one of --text T or --in FILE/);
  });
});
