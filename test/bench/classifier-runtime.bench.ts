// The classifier benchmark (issue 15): ToxScope's classify path against Detoxify-style batched PyTorch inference on a
// BERT-base-shaped classifier with random weights, scoring 1,000 real posts (Social Bias Frames' test set) with the
// same thread count in one command. Three alternating rounds (ToxScope, then PyTorch, each a fresh process that warms
// up first), medians compared; PyTorch runs its best batch with OpenBLAS on this CPU's best core (issue 19).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { median } from '../../src-main/core/diagnostics/statistics.ts';
import { parseCsv } from '../../src-main/core/files/csv.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';
import {
  blasCoreType,
  blasSettings,
  cpuFlags,
  hasTorch,
  lastJson,
  python,
  torchEnv,
  torchMissing,
  waitForMemory,
  type Measurement,
  pageSettings,
  toxscopeEnv,
} from './torch-baseline.ts';

const here = new URL('.', import.meta.url).pathname;
const roundCount = 3;
const sentenceCount = 1000;
/** The "memory flat in the number of sentences" run. */
const manySentences = 4000;
/** PyTorch's batch sizes, compared in round 1 on the first `sweepCount` sentences; every round runs the fastest. */
const torchBatches = [8, 32, 128, 256];
const sweepCount = 250;
const dataFile = new URL('../../../shared/data/marco/sbf-sbftst.csv', import.meta.url).pathname;

export interface ClassifierBench {
  rows: BenchRow[];
  /** The settings line of the section: threads, shapes, data, PyTorch's BLAS core, CPU flags, load. */
  settings: string;
}

/** The BERT-base-shaped folder (config.json, model.safetensors, vocab.txt, tokenizer_config.json), made once. */
function bertFolder(): string {
  const folder = join(os.tmpdir(), 'toxscope-bench-bert-base');
  const files = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json'];
  if (!files.every((file) => existsSync(join(folder, file))))
    execFileSync(python, [join(here, 'make_bert_base_random.py'), folder], { stdio: 'inherit' });
  return folder;
}

/** The first `count` posts of Social Bias Frames' test split (1–44 words; tweets, Reddit and Gab posts). */
function readPosts(count: number): string[] {
  const [header, ...records] = parseCsv(readFileSync(dataFile, 'utf8')).map((entry) => entry.record);
  const column = header!.indexOf('post');
  const posts = records.map((record) => record[column] ?? '').filter((post) => post.trim() !== '');
  if (posts.length < count) throw new Error(`${dataFile} has ${posts.length} posts, the bench needs ${count}`);
  return posts.slice(0, count);
}

/** Padded tokens / real tokens of scoring `lengths` in batches of `batch`, in `order`. */
function paddingOverhead(lengths: number[], batch: number, order: number[]): number {
  let padded = 0;
  for (let offset = 0; offset < order.length; offset += batch) {
    const picked = order.slice(offset, offset + batch).map((index) => lengths[index]!);
    padded += picked.length * Math.max(...picked);
  }
  return padded / lengths.reduce((sum, length) => sum + length, 0) - 1;
}

/** ToxScope's order: each window longest first, ties in input order (classifier-text.ts lengthOrder). */
function windowOrder(lengths: number[], window: number): number[] {
  const order: number[] = [];
  for (let start = 0; start < lengths.length; start += window) {
    const indexes = Array.from({ length: Math.min(window, lengths.length - start) }, (_, index) => start + index);
    order.push(...indexes.sort((a, b) => lengths[b]! - lengths[a]! || a - b));
  }
  return order;
}

function maxDifference(a: string, b: string): number {
  const rows = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as number[]);
  const [left, right] = [rows(a), rows(b)];
  if (left.length !== right.length) return Infinity;
  return Math.max(...left.map((row, r) => Math.max(...row.map((value, l) => Math.abs(value - right[r]![l]!)))));
}

export function benchClassifier(threads: number, log: (line: string) => void): ClassifierBench | null {
  if (!hasTorch()) {
    log(`classifier: PyTorch baseline skipped: ${torchMissing}.`);
    return null;
  }
  const folder = bertFolder();
  const flags = cpuFlags();
  const coreType = blasCoreType(flags);
  const modelBytes = statSync(join(folder, 'model.safetensors')).size;
  const work = mkdtempSync(join(os.tmpdir(), 'toxscope-bench-classifier-'));
  const path = (name: string) => join(work, name);
  const toxscope = (mode: string, extra: string[]): Measurement => {
    waitForMemory(4 * modelBytes, `ToxScope ${mode}`, log);
    const args = [join(here, 'classifier-ort.bench.ts'), '--folder', folder, '--sentences', path('sentences.jsonl')];
    const measurement = lastJson(
      execFileSync(
        join(here, '../../node_modules/.bin/tsx'),
        [...args, '--threads', String(threads), '--mode', mode, ...extra],
        { encoding: 'utf8', env: toxscopeEnv({ TOXSCOPE_DATA_DIR: path('data') }), maxBuffer: 64 * 2 ** 20 },
      ),
    );
    log(`ToxScope ${mode} ${extra.join(' ')}: ${JSON.stringify(measurement)}`);
    return measurement;
  };
  const pytorch = (extra: string[]): Measurement => {
    waitForMemory(4 * modelBytes, 'PyTorch', log);
    const args = [join(here, 'classifier_torch_bench.py'), '--folder', folder, '--ids', path('ids.jsonl')];
    const measurement = lastJson(
      execFileSync(python, [...args, '--threads', String(threads), '--count', String(sentenceCount), ...extra], {
        encoding: 'utf8',
        env: torchEnv(coreType),
      }),
    );
    log(`PyTorch ${extra.join(' ')}: ${JSON.stringify(measurement)}`);
    return measurement;
  };

  try {
    const loadBefore = os.loadavg()[0]!;
    writeFileSync(
      path('sentences.jsonl'),
      readPosts(manySentences)
        .map((post) => `${JSON.stringify(post)}\n`)
        .join(''),
    );
    log('classifier: first use (weights hashed, graph built) and the token ids for PyTorch, not counted');
    const prepared = toxscope('prepare', ['--ids', path('ids.jsonl')]);
    const runs: { ours: Measurement; theirs: Measurement }[] = [];
    let torchBatch = 0;
    for (let round = 1; round <= roundCount; round++) {
      log(`classifier: round ${round} of ${roundCount}, ToxScope then PyTorch, ${sentenceCount} sentences`);
      const first = round === 1;
      const ours = toxscope('score', [
        '--count',
        String(sentenceCount),
        ...(first ? ['--scores', path('ours.jsonl')] : []),
      ]);
      const theirs = pytorch(
        first
          ? [
              '--batches',
              torchBatches.join(','),
              '--sweep',
              String(sweepCount),
              '--sorted-batch',
              String(ours.batch),
              '--window',
              String(ours.window),
              '--scores',
              path('theirs.jsonl'),
            ]
          : ['--batches', String(torchBatch), '--sorted-batch', String(ours.batch), '--window', String(ours.window)],
      );
      if (first) torchBatch = Number(theirs.bestBatch);
      runs.push({ ours, theirs });
    }
    log(`classifier: ToxScope in input order (window = batch), then ${manySentences} sentences (memory)`);
    const unsorted = toxscope('score', ['--count', String(sentenceCount), '--window', String(runs[0]!.ours.batch)]);
    const many = toxscope('score', ['--count', String(manySentences)]);
    const loadAfter = os.loadavg()[0]!;
    const lengths = readFileSync(path('ids.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, sentenceCount)
      .map((line) => (JSON.parse(line) as number[]).length);
    return {
      rows: rowsOf({
        runs,
        unsorted,
        many,
        prepared,
        lengths,
        torchBatch,
        difference: maxDifference(path('ours.jsonl'), path('theirs.jsonl')),
      }),
      settings: settingsOf(threads, runs[0]!.theirs, prepared, coreType, flags, modelBytes, loadBefore, loadAfter),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const met = (ok: boolean) => (ok ? 'met' : 'missed');
const mib = (bytes: number) => bytes / 2 ** 20;

function rowsOf(results: {
  runs: { ours: Measurement; theirs: Measurement }[];
  unsorted: Measurement;
  many: Measurement;
  prepared: Measurement;
  lengths: number[];
  torchBatch: number;
  difference: number;
}): BenchRow[] {
  const { runs, unsorted, many, lengths, torchBatch, difference } = results;
  const n = (measurement: Measurement, key: string) => Number(measurement[key]);
  const medianOf = (side: 'ours' | 'theirs', key: string) => median(runs.map((run) => n(run[side], key)));
  const maxOf = (side: 'ours' | 'theirs', key: string) => Math.max(...runs.map((run) => n(run[side], key)));
  const ours = medianOf('ours', 'sentencesPerSecond');
  const theirs = medianOf('theirs', 'sentencesPerSecond');
  const ratio = ours / theirs;
  const first = runs[0]!;
  const batch = n(first.ours, 'batch');
  const window = n(first.ours, 'window');
  const torchName = `PyTorch ${String(first.theirs.torch)} eager, Detoxify-style batches`;
  const sweep = torchBatches
    .map((size) => `${size}: ${n(first.theirs, `sweepSentencesPerSecond_batch${size}`).toFixed(1)}`)
    .join(', ');
  const inputOrder = lengths.map((_, index) => index);
  const overhead = (size: number, order: number[]) =>
    `${(100 * paddingOverhead(lengths, size, order)).toFixed(0)}% padding`;
  const seconds = (rate: number) => sentenceCount / rate;
  const sorted = medianOf('theirs', 'sortedSentencesPerSecond');
  const ourRss = maxOf('ours', 'peakRssBytes');
  // PyTorch's round 1 also tries the wider batches (batch 256 alone holds ≈ 1 GiB more): its memory at its best batch
  // is that of rounds 2 and 3, which run only that batch (and the sorted one).
  const theirRss = Math.max(...runs.slice(1).map((run) => n(run.theirs, 'peakRssBytes')));
  const sweepRss = n(first.theirs, 'peakRssBytes');
  return [
    {
      name: `(a) score ${sentenceCount.toLocaleString('en')} sentences, auto batch (${batch}), tokenization included`,
      value: seconds(ours),
      unit: 's',
      baseline: `${torchName} at its best batch (${torchBatch} of ${torchBatches.join(', ')}), same token ids, tokenization not counted`,
      baselineValue: seconds(theirs),
      comparison: `${ratio.toFixed(2)}× the sentences/s (${ours.toFixed(1)} vs ${theirs.toFixed(1)})`,
      note: `target ≥ 1.5×: ${met(ratio >= 1.5)}; rounds: ${runs.map((run) => (n(run.ours, 'sentencesPerSecond') / n(run.theirs, 'sentencesPerSecond')).toFixed(2)).join(', ')}×; PyTorch sentences/s by batch (round 1, first ${sweepCount} sentences): ${sweep}; ToxScope ${overhead(batch, windowOrder(lengths, window))} (windows of ${window} sorted by length), PyTorch ${overhead(torchBatch, inputOrder)}; max |score difference| ${difference.toExponential(1)}`,
    },
    {
      name: '(b) the same in input order (no length sorting: window = batch), one run',
      value: seconds(n(unsorted, 'sentencesPerSecond')),
      unit: 's',
      baseline: 'ToxScope with length-sorted windows (a)',
      baselineValue: seconds(ours),
      comparison: `sorted: ${(ours / n(unsorted, 'sentencesPerSecond')).toFixed(2)}× the sentences/s`,
      note: `${overhead(batch, inputOrder)}; ${(n(unsorted, 'sentencesPerSecond') / theirs).toFixed(2)}× PyTorch's best`,
    },
    {
      name: '(c) ToxScope (a) against PyTorch given the same length sorting',
      value: seconds(ours),
      unit: 's',
      baseline: `${torchName}, batch ${batch}, windows of ${window} sorted by length (not what Detoxify does)`,
      baselineValue: seconds(sorted),
      comparison: `${(ours / sorted).toFixed(2)}× the sentences/s`,
      note: `how much of (a) is the runtime rather than the batching; rounds: ${runs.map((run) => (n(run.ours, 'sentencesPerSecond') / n(run.theirs, 'sortedSentencesPerSecond')).toFixed(2)).join(', ')}×`,
    },
    {
      name: `(d) peak RSS, ${sentenceCount.toLocaleString('en')} sentences`,
      value: mib(ourRss),
      unit: 'MiB',
      baseline: `PyTorch at its best batch (${torchBatch}) and sorted at ${batch}, rounds 2 and 3`,
      baselineValue: mib(theirRss),
      comparison: `${(ourRss / theirRss).toFixed(2)}× its memory`,
      note: `largest of the rounds on each side; PyTorch's round 1, which also tried batches up to ${Math.max(...torchBatches)}: ${mib(sweepRss).toFixed(0)} MiB`,
    },
    {
      name: `(e) peak RSS, ${manySentences.toLocaleString('en')} sentences`,
      value: mib(n(many, 'peakRssBytes')),
      unit: 'MiB',
      baseline: `ToxScope, ${sentenceCount.toLocaleString('en')} sentences (d)`,
      baselineValue: mib(ourRss),
      comparison: `${mib(n(many, 'peakRssBytes') - ourRss) >= 0 ? '+' : ''}${mib(n(many, 'peakRssBytes') - ourRss).toFixed(0)} MiB for 4× the sentences`,
      note: `memory flat in the number of sentences: ${met(n(many, 'peakRssBytes') < 1.1 * ourRss)} (within 10%); ${n(many, 'sentencesPerSecond').toFixed(1)} sentences/s`,
    },
    {
      name: '(f) phase: load + open (graph cached) / read weights',
      value: medianOf('ours', 'openMs'),
      unit: 'ms',
      baseline: 'PyTorch: model.safetensors read into tensors',
      baselineValue: medianOf('theirs', 'loadMs'),
      comparison: speedup(medianOf('ours', 'openMs'), medianOf('theirs', 'loadMs')),
      note: `first use (hash weights, build the graph, open): ${(n(results.prepared, 'prepareMs') / 1000).toFixed(1)} s, not counted`,
    },
  ];
}

function settingsOf(
  threads: number,
  torch: Measurement,
  prepared: Measurement,
  coreType: string,
  flags: string[],
  modelBytes: number,
  loadBefore: number,
  loadAfter: number,
): string {
  const n = (key: string) => Number(prepared[key]);
  return [
    `${threads} threads on both sides (onnxruntime intra-op threads, torch.set_num_threads)`,
    `BERT-base shapes as unitary/toxic-bert (12 layers, d_model 768, 12 heads, 3072 neurons, vocab 30,522, six sigmoid labels), random fp32 weights (${(modelBytes / 2 ** 20).toFixed(0)} MiB), a WordPiece vocab.txt built from the shared data's words`,
    `the first ${sentenceCount.toLocaleString('en')} (and ${manySentences.toLocaleString('en')}) posts of MaRCo's sbf-sbftst.csv: ${n('meanTokens').toFixed(1)} tokens on average, at most ${n('maxTokens')} (max_length ${n('maxLength')}, ${n('unknownShare') * 100 < 0.05 ? 'no' : `${(n('unknownShare') * 100).toFixed(1)}%`} [UNK])`,
    blasSettings(torch, coreType),
    pageSettings(),
    `CPU flags: ${flags.join(' ')}`,
    `medians of ${roundCount} alternating rounds (ToxScope, then PyTorch, each process warmed up on one batch); 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (a shared machine)`,
  ].join('; ');
}
