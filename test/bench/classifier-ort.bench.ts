// ToxScope's side of the classifier benchmark (issue 15) on a BERT-base-shaped folder, one process per run so each
// peak RSS is that run's own. `prepare` is the model's first use (weights hashed, graph built) and writes the token
// ids the PyTorch side scores; `score` times classifying the first --count sentences as the classify job does.
// Usage (prints one JSON object):
//   tsx test/bench/classifier-ort.bench.ts --folder DIR --sentences FILE --threads N --mode prepare --ids FILE
//   tsx test/bench/classifier-ort.bench.ts --folder DIR --sentences FILE --threads N --mode score --count N
//       [--batch N] [--window N] [--scores FILE]

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  classifierMaxLength,
  encodeForClassifier,
  loadClassifierTokenizer,
  openTextClassifier,
} from '../../src-main/core/models/classifier/classifier-text.ts';
import { loadClassifier } from '../../src-main/core/models/classifier/load-classifier.ts';
import { onnxruntimeVersion } from '../../src-main/core/runtime/onnxruntime.ts';

const { values } = parseArgs({
  options: {
    folder: { type: 'string' },
    sentences: { type: 'string' },
    threads: { type: 'string' },
    mode: { type: 'string' },
    ids: { type: 'string' },
    count: { type: 'string' },
    batch: { type: 'string' },
    window: { type: 'string' },
    scores: { type: 'string' },
  },
});
const threads = Number(values.threads);
const device = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const result: Record<string, number | string> = { onnxruntime: onnxruntimeVersion(), threads };
/** The sentences, one JSON string per line (written by classifier-runtime.bench.ts from the shared data). */
const sentences = readFileSync(values.sentences!, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as string);
const optional = (value: string | undefined) => (value === undefined ? undefined : Number(value));

if (values.mode === 'prepare') {
  const started = performance.now();
  const model = loadClassifier(values.folder!);
  const classifier = await openTextClassifier(model, { device, threads });
  await classifier.release();
  result.prepareMs = performance.now() - started;
  const maxLength = classifierMaxLength(model, undefined);
  const rows = await encodeForClassifier(loadClassifierTokenizer(model), sentences, maxLength);
  writeFileSync(values.ids!, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  const lengths = rows.map((row) => row.length);
  result.maxLength = maxLength;
  result.meanTokens = lengths.reduce((sum, length) => sum + length, 0) / lengths.length;
  result.maxTokens = Math.max(...lengths);
  result.truncated = lengths.filter((length) => length === maxLength).length;
  result.unknownShare =
    rows.flat().filter((id) => id === 100).length / lengths.reduce((sum, length) => sum + length - 2, 0);
} else if (values.mode === 'score') {
  const texts = sentences.slice(0, Number(values.count));
  const loadStarted = performance.now();
  const model = loadClassifier(values.folder!);
  const classifier = await openTextClassifier(model, {
    device,
    threads,
    batch: optional(values.batch),
    window: optional(values.window),
  });
  result.openMs = performance.now() - loadStarted;
  result.batch = classifier.batch;
  result.window = classifier.window;
  await classifier.classify(texts.slice(0, classifier.batch)); // warm-up: one batch
  // As the classify job does: a window of texts per classify call, results kept (the job writes them out).
  const started = performance.now();
  const scores: number[][] = [];
  for (let start = 0; start < texts.length; start += classifier.window) {
    const results = await classifier.classify(texts.slice(start, start + classifier.window));
    for (const scored of results) scores.push(model.labels.map((label) => scored.scores[label]!));
  }
  const seconds = (performance.now() - started) / 1000;
  await classifier.release();
  result.sentences = texts.length;
  result.seconds = seconds;
  result.sentencesPerSecond = texts.length / seconds;
  if (values.scores) writeFileSync(values.scores, scores.map((row) => `${JSON.stringify(row)}\n`).join(''));
} else throw new RangeError(`unknown mode ${String(values.mode)}`);
result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify(result)}\n`);
