// The detox job on the tiny BART trio: documents keep every byte that is not rewritten, the explanation's offsets
// point into the input, empty and whitespace-only input, invalid UTF-8, a 5 MB document, and cancel keeping what
// is done.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detoxJob } from '../../../src-main/core/detox/detox-job.ts';
import { presets } from '../../../src-main/shared/index.ts';
import { toAppError, type DetoxFrame, type DetoxRequest, type DetoxSegment } from '../../../src-main/shared/index.ts';
import { tinyBartFixture } from '../../support/bart-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

let models: { base: string; expert: string; antiExpert: string };
const work = mkdtempSync(join(os.tmpdir(), 'toxscope-detox-'));

beforeAll(() => {
  useTemporaryDataDir();
  models = {
    base: tinyBartFixture('bart-tiny'),
    expert: tinyBartFixture('bart-tiny-expert'),
    antiExpert: tinyBartFixture('bart-tiny-anti'),
  };
});

function request(overrides: Partial<DetoxRequest>): DetoxRequest {
  return {
    ...models,
    settings: { ...presets.magr, threshold: 1.0, maxLength: 64 },
    batch: 4,
    device: 'cpu',
    threads: 1,
    ...overrides,
  } as DetoxRequest;
}

const document =
  '# Notes\r\n\r\nYou are a stupid idiot.  Go away!\r\n- a list item here\r\n```\nkeep this code. exactly\n```\n\n\tLast line, with a tab.\n';

describe('detox documents', () => {
  it('rewrites masked sentences and keeps every other byte, line endings and Markdown included', async () => {
    const explain = join(work, 'explain.json');
    const result = await detoxJob(request({ text: document, explain }), testContext<DetoxFrame>().context);
    const output = result.document!;
    const explanation = JSON.parse(readFileSync(explain, 'utf8')) as { settings: object; segments: DetoxSegment[] };
    expect(Object.keys(explanation)).toEqual(['settings', 'segments']);
    // Rebuild the input from the output: put each rewritten segment's original back.
    let rebuilt = '';
    let inputCursor = 0;
    let outputCursor = 0;
    for (const segment of explanation.segments.filter((entry) => entry.rewrite !== entry.text)) {
      const untouched = document.slice(inputCursor, segment.start);
      expect(output.slice(outputCursor, outputCursor + untouched.length)).toBe(untouched);
      outputCursor += untouched.length;
      expect(output.slice(outputCursor, outputCursor + segment.rewrite.length)).toBe(segment.rewrite);
      outputCursor += segment.rewrite.length;
      rebuilt += untouched + segment.text;
      inputCursor = segment.end;
    }
    expect(output.slice(outputCursor)).toBe(document.slice(inputCursor));
    expect(rebuilt + document.slice(inputCursor)).toBe(document);
    expect(output).toContain('```\nkeep this code. exactly\n```');
    expect(output.startsWith('# ')).toBe(true);
    for (const segment of explanation.segments) {
      expect(document.slice(segment.start, segment.end)).toBe(segment.text);
      for (const word of segment.words) expect(document.slice(word.start, word.end)).toBe(word.text);
    }
    expect(result.rewritten).toBeGreaterThan(0);
  });

  it("streams each distinct sentence once with every place it occurs and the models' fingerprints", async () => {
    const text = 'You idiot. Fine.\r\nYou idiot. Go.';
    const { context, frames } = testContext<DetoxFrame>();
    const result = await detoxJob(request({ text, batch: 2 }), context);
    const segments = frames.flatMap((frame) => frame.segments);
    expect(segments.map((segment) => [segment.text, segment.occurrences])).toEqual([
      ['You idiot.', [0, 18]],
      ['Fine.', [11]],
      ['Go.', [29]],
    ]);
    for (const segment of segments)
      for (const start of segment.occurrences)
        expect(text.slice(start, start + segment.text.length)).toBe(segment.text);
    expect(frames[0]!.models.base).toMatch(/^[0-9a-f]{64}$/);
    expect(result.models).toEqual(frames[0]!.models);
  });

  it('skips the sentences a review already has, counting them as done in the progress', async () => {
    const text = 'You idiot. Fine.\r\nYou idiot. Go.';
    const { context, frames } = testContext<DetoxFrame>();
    await detoxJob(request({ text, batch: 1, skipSentences: ['You idiot.', 'Fine.'] }), context);
    expect(frames.flatMap((frame) => frame.segments.map((segment) => [segment.text, segment.occurrences]))).toEqual([
      ['Go.', [29]],
    ]);
    expect(frames.map((frame) => [frame.done, frame.total])).toEqual([[3, 3]]);
  });

  it('returns empty and whitespace-only documents unchanged without loading a sentence', async () => {
    expect((await detoxJob(request({ text: '' }), testContext<DetoxFrame>().context)).document).toBe('');
    expect((await detoxJob(request({ text: ' \n\t\r\n ' }), testContext<DetoxFrame>().context)).document).toBe(
      ' \n\t\r\n ',
    );
  });

  it('refuses invalid UTF-8 with the offset of the first bad byte, and writes nothing', async () => {
    const input = join(work, 'latin1.txt');
    writeFileSync(input, Buffer.from([0x48, 0x69, 0x20, 0xe9, 0x74, 0xe9]));
    const output = join(work, 'never-written.txt');
    const error = await detoxJob(request({ input, output }), testContext<DetoxFrame>().context).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.code).toBe('INPUT_INVALID');
    expect(error?.message).toMatch(/not valid UTF-8 \(the first invalid byte is at offset 3\)/);
    expect(() => readFileSync(output)).toThrow();
  });

  it('handles a 5 MB document, computing each distinct sentence once, in bounded memory', async () => {
    const sentences = ['You are an idiot.', 'Have a nice day.', 'What a stupid idea!', 'Fine.'];
    const order: number[] = [];
    let big = '';
    for (let index = 0; big.length < 5_000_000; index++) {
      order.push(index % 4);
      big += sentences[index % 4] + (index % 7 === 0 ? '\n\n' : ' ');
    }
    const before = process.memoryUsage().rss;
    const output = join(work, 'big-out.txt');
    const { context, frames } = testContext<DetoxFrame>();
    const result = await detoxJob(request({ text: big, output }), context);
    expect(frames.reduce((sum, frame) => sum + frame.segments.length, 0)).toBe(4);
    expect(result.segments).toBe(order.length);
    const rewrite = new Map(
      frames.flatMap((frame) => frame.segments.map((segment) => [segment.text, segment.rewrite] as const)),
    );
    const expected = order
      .map((sentence, index) => rewrite.get(sentences[sentence]!)! + (index % 7 === 0 ? '\n\n' : ' '))
      .join('');
    expect(readFileSync(output, 'utf8') === expected).toBe(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(600 * 2 ** 20);
  });

  it('keeps the finished sentences when cancelled, and says so', async () => {
    const output = join(work, 'partial.txt');
    const text = 'You are an idiot. Have a nice day. What a stupid idea! Totally dumb.';
    const cancelling = testContext<DetoxFrame>((_, controller) => controller.abort());
    const error = await detoxJob(request({ text, output, batch: 1 }), cancelling.context).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.code).toBe('CANCELLED');
    expect(error?.message).toMatch(/Cancelled after 1 of 4 sentences/);
    const partial = readFileSync(output, 'utf8');
    expect(partial.endsWith('Have a nice day. What a stupid idea! Totally dumb.')).toBe(true);
  });
});
