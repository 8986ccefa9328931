// The `classify` job (cli.md §9): scores one text or every text of a .txt/.jsonl file with a toxicity classifier,
// batch by batch, writing JSONL to a file or streaming it as frames. Input is read and output written as it goes, so
// memory stays flat in the number of texts.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import {
  raise,
  type ClassifiedText,
  type ClassifyFrame,
  type ClassifyRequest,
  type ClassifyResult,
} from '../../../shared/index.ts';
import { writeFileAtomicStreamedAsync } from '../../files/atomic-write.ts';
import { throwIfCancelled, type Job } from '../../jobs/job.ts';
import { resolveDevice } from '../../runtime/onnxruntime.ts';
import { openTextClassifier } from './classifier-text.ts';
import { loadClassifier } from './load-classifier.ts';

/** The lines of a UTF-8 file without their `\n` or `\r\n`, read in chunks; invalid UTF-8 is bad input. */
async function* readLines(path: string): AsyncGenerator<{ line: string; number: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let number = 0;
  const decode = (chunk?: Buffer) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      return raise(
        'INPUT_INVALID',
        `${path} is not valid UTF-8 (after line ${number}).`,
        'Save the file as UTF-8, then run again.',
      );
    }
  };
  for await (const chunk of createReadStream(path)) {
    pending += decode(chunk as Buffer);
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      yield { line: line.endsWith('\r') ? line.slice(0, -1) : line, number: ++number };
    }
  }
  pending += decode();
  if (pending !== '') yield { line: pending.endsWith('\r') ? pending.slice(0, -1) : pending, number: ++number };
}

/** The texts of an input file: .txt one per line, .jsonl one {"text": …} object per line; empty lines skipped. */
export async function* readClassifyInput(path: string): AsyncGenerator<string> {
  if (!existsSync(path) || !statSync(path).isFile())
    raise('INPUT_INVALID', `No file at ${path}.`, 'Check the path given to --in.');
  const kind = extname(path).toLowerCase();
  if (kind !== '.txt' && kind !== '.jsonl')
    raise('INPUT_INVALID', `${path} is neither .txt nor .jsonl.`, 'Give --in a .txt (one text a line) or .jsonl file.');
  for await (const { line, number } of readLines(path)) {
    if (line.trim() === '') continue;
    if (kind === '.txt') {
      yield line;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      raise(
        'INPUT_INVALID',
        `${path}, line ${number}, is not JSON.`,
        'Write one JSON object per line: {"text": "..."}.',
      );
    }
    const text = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).text : undefined;
    if (typeof text !== 'string')
      raise(
        'INPUT_INVALID',
        `${path}, line ${number}, has no string field "text".`,
        'Write one JSON object per line: {"text": "..."}.',
      );
    yield text;
  }
}

/** Groups an async sequence into arrays of `size` (the last may be shorter). */
async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

async function* single(text: string): AsyncGenerator<string> {
  yield text;
}

export const classifyJob: Job<ClassifyRequest, ClassifyFrame, ClassifyResult> = async (request, context) => {
  const started = performance.now();
  context.progress({ done: 0, total: null, message: `Loading ${request.model}` });
  const model = loadClassifier(request.model, { tokenizerFolder: request.tokenizer });
  const device = await resolveDevice(request.device);
  // Inputs are checked before the session opens: a bad file fails fast.
  if (request.input !== undefined) await readClassifyInput(request.input).next();
  const classifier = await openTextClassifier(model, {
    device,
    threads: request.threads,
    batch: request.batch,
    maxLength: request.maxLength,
  });
  const texts = request.text !== undefined ? single(request.text) : readClassifyInput(request.input!);
  let done = 0;
  const run = async (emit: (results: ClassifiedText[]) => Promise<void>) => {
    // A window at a time: classify sorts it by length, so its batches pad little (and checks the signal per batch).
    for await (const chunk of chunked(texts, classifier.window)) {
      throwIfCancelled(context.signal);
      const results = await classifier.classify(chunk, context.signal);
      done += results.length;
      await emit(results);
      context.progress({ done, total: null, message: `${done} texts scored` });
    }
  };
  try {
    if (request.output) {
      const encoder = new TextEncoder();
      await writeFileAtomicStreamedAsync(request.output, (write) =>
        run((results) => write(encoder.encode(results.map((result) => `${JSON.stringify(result)}\n`).join('')))),
      );
    } else {
      await run(async (results) => context.frame({ done, results }));
    }
  } finally {
    await classifier.release();
  }
  return {
    texts: done,
    output: request.output ?? null,
    model: {
      reference: request.model,
      sha256: model.fingerprint(),
      labels: model.labels,
      activation: model.activation,
    },
    maxLength: classifier.maxLength,
    batch: classifier.batch,
    seconds: (performance.now() - started) / 1000,
    device,
  };
};
