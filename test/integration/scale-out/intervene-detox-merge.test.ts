// Sharded intervene and batch-detox runs merge into what a single run writes (issue 18). intervene: one shard gives
// the single run's files byte for byte; three shards at other --batch sizes give the same continuations, and probe
// scores within 1e-6 (float32 round-off of the scorer's activations in other batches), perplexity and F1 exactly
// (shard 1 measures them as a single run does). detox: the documents and explanations byte for byte, and the one
// summary.json of a single run up to timings, also when a shard was cancelled and resumed.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detoxBatchJob } from '../../../src-main/core/detox/batch-job.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { mergeShards } from '../../../src-main/core/scale-out/merge.ts';
import {
  presets,
  toAppError,
  type DetoxBatchFrame,
  type DetoxBatchRequest,
  type DetoxBatchSummary,
  type InterveneRequest,
  type InterveneSummary,
} from '../../../src-main/shared/index.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const demo = new URL('../../../resources/demo/', import.meta.url).pathname;
const temporary = (name: string) => mkdtempSync(join(os.tmpdir(), `toxscope-${name}-`));
const read = (folder: string, file: string) => readFileSync(join(folder, file), 'utf8');
const mergedFolder = () => join(temporary('merge'), 'merged');

beforeAll(() => {
  useTemporaryDataDir();
});

describe('merging intervene shards', () => {
  let texts: string;
  let single: string;
  const request = (overrides: Partial<InterveneRequest> = {}): InterveneRequest => ({
    model: 'demo:gpt2-base',
    probe: 'demo:probe',
    prompts: join(demo, 'prompts.jsonl'),
    intervention: 'ablate:top=16',
    classifier: 'demo:classifier',
    pplText: join(texts, 'ppl.txt'),
    f1Data: join(texts, 'f1.jsonl'),
    maxNewTokens: 12,
    maxPromptTokens: 32,
    batch: 16,
    prependBos: false,
    out: temporary('intervene'),
    device: 'cpu',
    threads: 1,
    ...overrides,
  });
  const shardsOf = async (count: number, batchOf: (k: number) => number) => {
    const folders: string[] = [];
    for (let k = count; k >= 1; k--)
      folders.push(
        (await interveneJob(request({ shard: { index: k, count }, batch: batchOf(k) }), testContext<never>().context))
          .out,
      );
    return folders;
  };

  beforeAll(async () => {
    texts = temporary('intervene-texts');
    writeFileSync(join(texts, 'ppl.txt'), read(demo, 'detox-examples.txt').repeat(3));
    writeFileSync(
      join(texts, 'f1.jsonl'),
      ['{"prompt": "Thanks for the", "gold": " help yesterday"}', '{"prompt": "You are", "gold": " kind"}'].join('\n'),
    );
    single = (await interveneJob(request(), testContext<never>().context)).out;
  }, 120_000);

  it('gives byte for byte the single run from one shard', async () => {
    const out = mergedFolder();
    await mergeShards({ out, shards: await shardsOf(1, () => 16) });
    for (const file of ['summary.json', 'generations.jsonl']) expect(read(out, file), file).toBe(read(single, file));
  });

  it('gives the single run’s continuations and metrics from three shards at --batch 2, 5 and 16', async () => {
    const out = mergedFolder();
    const result = await mergeShards({ out, shards: await shardsOf(3, (k) => [2, 5, 16][k - 1]!) });
    expect(result).toMatchObject({ command: 'intervene', shards: 3, items: 40 });
    const rows = (folder: string) =>
      read(folder, 'generations.jsonl')
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as { prompt: string; continuation: string; toxicity: number; classifierToxicity: number },
        );
    const [mine, theirs] = [rows(out), rows(single)];
    expect(mine.map((row) => [row.prompt, row.continuation])).toEqual(
      theirs.map((row) => [row.prompt, row.continuation]),
    );
    mine.forEach((row, i) => {
      expect(Math.abs(row.toxicity - theirs[i]!.toxicity), `probe score of prompt ${i}`).toBeLessThan(
        1e-6 * Math.max(1, Math.abs(row.toxicity)),
      );
      expect(
        Math.abs(row.classifierToxicity - theirs[i]!.classifierToxicity),
        `classifier score of prompt ${i}`,
      ).toBeLessThan(1e-6);
    });
    const [summary, expected] = [
      JSON.parse(read(out, 'summary.json')),
      JSON.parse(read(single, 'summary.json')),
    ] as InterveneSummary[];
    expect(Object.keys(summary!)).toEqual(Object.keys(expected!));
    const { probe, classifier, ...toxicity } = summary!.toxicity;
    const { probe: expectedProbe, classifier: expectedClassifier, ...expectedToxicity } = expected!.toxicity;
    expect(probe).toBeCloseTo(expectedProbe, 6);
    expect(classifier!.mean).toBeCloseTo(expectedClassifier!.mean, 6);
    expect({ ...classifier!, mean: 0 }).toEqual({ ...expectedClassifier!, mean: 0 });
    expect(toxicity).toEqual(expectedToxicity);
    expect({ ...summary!, toxicity: null }).toEqual({ ...expected!, toxicity: null });
    expect(summary!.perplexity).not.toBeNull();
    expect(summary!.f1).not.toBeNull();
    const manifest = JSON.parse(read(out, 'manifest.json')) as { shards: unknown[]; settings: { batch: unknown } };
    expect(manifest.shards).toHaveLength(3);
    expect(manifest.settings.batch).toBeNull();
  });
});

describe('merging batch-detox shards', () => {
  let input: string;
  let single: DetoxBatchSummary;
  const request = (outputFolder: string, overrides: Partial<DetoxBatchRequest> = {}): DetoxBatchRequest => ({
    base: 'demo:bart-base',
    expert: 'demo:bart-expert',
    antiExpert: 'demo:bart-anti-expert',
    inputFolder: input,
    outputFolder,
    settings: { ...presets.magr },
    batch: 4,
    gate: { classifier: 'demo:classifier', toxicityThreshold: 0.5, maxResamples: 1, blocklist: null },
    recursive: true,
    device: 'cpu',
    threads: 1,
    ...overrides,
  });
  /** A summary without what differs between any two runs: timings, the output folder, done vs resumed. */
  const comparable = (summary: DetoxBatchSummary) => ({
    ...summary,
    outputFolder: null,
    totals: { ...summary.totals, seconds: null },
    files: summary.files.map((file) => ({
      ...file,
      seconds: null,
      status: file.status === 'failed' ? 'failed' : 'done',
    })),
  });

  beforeAll(async () => {
    input = temporary('detox-in');
    const lines = read(demo, 'detox-examples.txt').trim().split('\n');
    const names = ['a.txt', 'b.md', 'c.txt', 'notes/d.txt', 'notes/e.md', 'notes/deeper/f.txt', 'g.txt'];
    names.forEach((name, i) => {
      mkdirSync(dirname(join(input, name)), { recursive: true });
      writeFileSync(
        join(input, name),
        `${lines[i % lines.length]} ${lines[(i + 1) % lines.length]}\n\n${lines[(i + 3) % lines.length]}\n`,
      );
    });
    writeFileSync(join(input, 'picture.png'), 'not a document');
    single = (await detoxBatchJob(request(temporary('detox-single')), testContext<DetoxBatchFrame>().context)).summary;
    expect(single.files.map((file) => file.name)).toEqual([
      'a.txt',
      'b.md',
      'c.txt',
      'g.txt',
      'notes/d.txt',
      'notes/deeper/f.txt',
      'notes/e.md',
    ]);
    expect(single.totals.rewritten).toBeGreaterThan(0);
    expect(single.gate).toMatchObject({ clean: expect.any(Number), refused: expect.any(Number) });
    expect(single.gate!.clean + single.gate!.rewritten + single.gate!.refused).toBe(single.totals.sentences);
  }, 120_000);

  it('gives the single batch’s documents, explanations and summary from three shards, one cancelled and resumed', async () => {
    const count = 3;
    const folders: string[] = [];
    for (let k = 1; k <= count; k++) {
      const out = temporary(`detox-shard-${k}`);
      if (k === 2) {
        const cancelled = testContext<DetoxBatchFrame>((frame, controller) => {
          if (frame.filesDone >= 1) controller.abort();
        });
        const stopped = await detoxBatchJob(request(out, { shard: { index: k, count } }), cancelled.context).then(
          () => null,
          (thrown: unknown) => toAppError(thrown),
        );
        expect(stopped).toMatchObject({ code: 'CANCELLED' });
      }
      const result = await detoxBatchJob(
        request(out, { shard: { index: k, count } }),
        testContext<DetoxBatchFrame>().context,
      );
      if (k === 2) expect(result.summary.files.map((file) => file.status)).toEqual(['resumed', 'done']);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
      folders.push(out);
    }
    const out = mergedFolder();
    const merged = await mergeShards({ out, shards: folders });
    expect(merged).toMatchObject({ command: 'detox', shards: 3, items: 7 });
    const summary = JSON.parse(read(out, 'summary.json')) as DetoxBatchSummary;
    expect(comparable(summary)).toEqual(comparable(single));
    expect(summary.outputFolder).toBe(out);
    for (const file of single.files) {
      expect(read(out, file.name), file.name).toBe(read(single.outputFolder, file.name));
      expect(read(out, `explain/${file.name}.json`)).toBe(read(single.outputFolder, `explain/${file.name}.json`));
    }
    expect(existsSync(join(out, 'picture.png'))).toBe(false);
    // The merged folder resumes as the single batch's does: running the whole batch into it redoes nothing.
    const rerun = await detoxBatchJob(request(out), testContext<DetoxBatchFrame>().context);
    expect(rerun.summary.files.every((file) => file.status === 'resumed')).toBe(true);
  });

  it('gives a shard with no files to do (N larger than the folder) that still merges', async () => {
    const folders: string[] = [];
    for (let k = 1; k <= 8; k++)
      folders.push(
        (
          await detoxBatchJob(
            request(temporary('detox-wide'), { shard: { index: k, count: 8 } }),
            testContext<DetoxBatchFrame>().context,
          )
        ).summary.outputFolder,
      );
    const out = mergedFolder();
    await mergeShards({ out, shards: folders });
    expect(comparable(JSON.parse(read(out, 'summary.json')) as DetoxBatchSummary)).toEqual(comparable(single));
  });
});
