// The batch detox job on the tiny BART trio: a folder of .txt and .md files into an output folder (same names,
// untouched bytes kept, explanations, summary, listed in the results history where it is), refusing to write into the
// inputs, failing one bad file without stopping, and resuming after a cancel without redoing finished files.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchRecordName, detoxBatchJob } from '../../../src-main/core/detox/batch-job.ts';
import { deleteResult, listResults, openResult } from '../../../src-main/core/results/result-bundles.ts';
import {
  presets,
  toAppError,
  type DetoxBatchFrame,
  type DetoxBatchRequest,
  type DetoxSegment,
} from '../../../src-main/shared/index.ts';
import { tinyBartFixture } from '../../support/bart-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

let models: { base: string; expert: string; antiExpert: string };
let dataDir: string;

beforeAll(() => {
  dataDir = useTemporaryDataDir();
  models = {
    base: tinyBartFixture('bart-tiny'),
    expert: tinyBartFixture('bart-tiny-expert'),
    antiExpert: tinyBartFixture('bart-tiny-anti'),
  };
});

const inputs: Record<string, string> = {
  'a-notes.md': '# Notes\r\n\r\nYou are a stupid idiot.  Go away!\r\n- a list item here\r\n',
  'b-plain.txt': 'What a dumb idea. Have a nice day.\n\nThanks!\n',
  'c-more.TXT': 'Totally dumb people, honestly.',
};

function inputFolderWith(files: Record<string, string | Buffer>): string {
  const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-batch-in-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(folder, name), content);
  return folder;
}

function request(inputFolder: string, outputFolder: string, overrides: Partial<DetoxBatchRequest> = {}) {
  return {
    ...models,
    inputFolder,
    outputFolder,
    settings: { ...presets.magr, threshold: 1.0, maxLength: 64 },
    batch: 4,
    device: 'cpu',
    threads: 1,
    ...overrides,
  } as DetoxBatchRequest;
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (thrown: unknown) => toAppError(thrown),
  );

describe('batch detox', () => {
  it('detoxes every .txt and .md file into the output folder with explanations and a summary, listed in Results', async () => {
    const input = inputFolderWith({ ...inputs, 'picture.png': Buffer.from([0x89, 0x50]) });
    mkdirSync(join(input, 'sub'));
    const output = join(input, 'clean'); // inside the input folder is fine: only its top level is read
    const { context, frames } = testContext<DetoxBatchFrame>();
    const { summary, summaryPath } = await detoxBatchJob(request(input, output), context);
    expect(summary.files.map((file) => [file.name, file.status])).toEqual([
      ['a-notes.md', 'done'],
      ['b-plain.txt', 'done'],
      ['c-more.TXT', 'done'],
    ]);
    expect(summary.skipped).toEqual(['picture.png', 'sub']);
    expect(frames.map((frame) => frame.filesDone)).toEqual([1, 2, 3]);
    expect(JSON.parse(readFileSync(summaryPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(summary.models.sha256.base).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.totals.rewritten).toBe(summary.files.reduce((sum, file) => sum + file.rewritten, 0));
    expect(summary.totals.rewritten).toBeGreaterThan(0);
    for (const [name, original] of Object.entries(inputs)) {
      expect(readFileSync(join(input, name), 'utf8')).toBe(original); // inputs untouched
      const written = readFileSync(join(output, name), 'utf8');
      const { segments } = JSON.parse(readFileSync(join(output, 'explain', `${name}.json`), 'utf8')) as {
        segments: DetoxSegment[];
      };
      // The output is the input with the explained rewrites put in at their offsets, every other byte the same.
      let expected = original;
      for (const segment of segments.filter((entry) => entry.rewrite !== entry.text).reverse())
        expected = expected.slice(0, segment.start) + segment.rewrite + expected.slice(segment.end);
      expect(written).toBe(expected);
    }
    const markdown = readFileSync(join(output, 'a-notes.md'), 'utf8');
    expect(markdown).toMatch(/^# [^]*\r\n\r\n[^]*\r\n- [^]*\r\n$/); // Markdown markers are structure, kept

    // The results history lists the batch where it was written (outside the results folder), and opens its summary.
    const listed = listResults(join(dataDir, 'results')).filter((entry) => entry.kind === 'detox');
    expect(listed).toEqual([expect.objectContaining({ path: output, complete: true, running: false })]);
    expect(listed[0]!.description).toBe(
      `Detox of 3 documents from ${input} · ${summary.totals.sentences} sentences, ${summary.totals.rewritten} rewritten`,
    );
    expect(openResult(output)).toMatchObject({ kind: 'detox', summary: JSON.parse(JSON.stringify(summary)) });
    expect(() => deleteResult(output)).toThrow(/outside ToxScope's results folder/); // the user's own folder
  });

  it('refuses the input folder as output, also through a link, and writes nothing', async () => {
    const input = inputFolderWith(inputs);
    const link = join(mkdtempSync(join(os.tmpdir(), 'toxscope-batch-link-')), 'same');
    symlinkSync(input, link);
    for (const output of [input, link, `${input}/.`]) {
      const error = await failure(detoxBatchJob(request(input, output), testContext<DetoxBatchFrame>().context));
      expect(error?.code).toBe('INPUT_INVALID');
      expect(error?.message).toMatch(/is the input folder; batch detox never overwrites its inputs/);
    }
    expect(existsSync(join(input, batchRecordName))).toBe(false);
    expect(readFileSync(join(input, 'b-plain.txt'), 'utf8')).toBe(inputs['b-plain.txt']);
  });

  it('refuses an output folder holding files it did not write (a same-named document, the summary of another run)', async () => {
    const input = inputFolderWith(inputs);
    const output = inputFolderWith({ 'b-plain.txt': 'my own notes' });
    const error = await failure(detoxBatchJob(request(input, output), testContext<DetoxBatchFrame>().context));
    expect(error?.message).toMatch(/already holds files \(b-plain\.txt\) from something other than a detox batch/);
    expect(readFileSync(join(output, 'b-plain.txt'), 'utf8')).toBe('my own notes');
    const compareRun = inputFolderWith({ 'summary.json': '{"netReduction": 1}' });
    const refused = await failure(detoxBatchJob(request(input, compareRun), testContext<DetoxBatchFrame>().context));
    expect(refused?.message).toMatch(/already holds files \(summary\.json\)/);
    expect(readFileSync(join(compareRun, 'summary.json'), 'utf8')).toBe('{"netReduction": 1}');
  });

  it('says what to do with a folder holding no .txt or .md file', async () => {
    const input = inputFolderWith({ 'report.docx': 'x' });
    const error = await failure(
      detoxBatchJob(request(input, join(input, 'out')), testContext<DetoxBatchFrame>().context),
    );
    expect(error?.message).toMatch(/holds no \.txt or \.md files \(only report\.docx\)/);
    expect(error?.hint).toMatch(/plain-text \(\.txt\) or Markdown \(\.md\)/);
  });

  it('records a file that is not UTF-8 as failed and detoxes the others', async () => {
    const input = inputFolderWith({ 'bad.txt': Buffer.from([0x48, 0x69, 0x20, 0xe9]), 'good.txt': 'You idiot.' });
    const output = join(input, 'out');
    const { summary } = await detoxBatchJob(request(input, output), testContext<DetoxBatchFrame>().context);
    expect(summary.files.map((file) => file.status)).toEqual(['failed', 'done']);
    expect(summary.files[0]!.error?.message).toMatch(/not valid UTF-8/);
    expect(summary.totals).toMatchObject({ files: 1, failed: 1 });
    expect(existsSync(join(output, 'bad.txt'))).toBe(false);
  });

  it('resumes after a cancel without redoing the files already written', async () => {
    const input = inputFolderWith(inputs);
    const output = join(mkdtempSync(join(os.tmpdir(), 'toxscope-batch-out-')), 'new folder');
    const cancelling = testContext<DetoxBatchFrame>((_, controller) => controller.abort());
    const error = await failure(detoxBatchJob(request(input, output), cancelling.context));
    expect(error?.code).toBe('CANCELLED');
    expect(error?.message).toMatch(/after 1 of 3 files/);
    expect(error?.hint).toMatch(/again with the same folders/);
    expect(existsSync(join(output, 'a-notes.md'))).toBe(true);
    expect(existsSync(join(output, 'b-plain.txt'))).toBe(false);
    const firstWrite = statSync(join(output, 'a-notes.md')).mtimeMs;

    const { summary } = await detoxBatchJob(request(input, output), testContext<DetoxBatchFrame>().context);
    expect(summary.files.map((file) => file.status)).toEqual(['resumed', 'done', 'done']);
    expect(statSync(join(output, 'a-notes.md')).mtimeMs).toBe(firstWrite);

    const other = await failure(
      detoxBatchJob(
        request(input, output, { settings: { ...presets.sbf, maxLength: 64 } }),
        testContext<DetoxBatchFrame>().context,
      ),
    );
    expect(other?.message).toMatch(/holds another batch \(it was made with other settings\)/);
  });
});
