// Tokenizer benchmark: ToxScope's tokenizer (Hugging Face tokenizers) against the hand-written byte-level BPE it
// replaced (test/support/reference-byte-level-bpe.ts) on GPT-2's real files: loading both file layouts, and encoding
// and decoding 2,000 sentences of MaRCo's data (../shared/data/marco) cold and warm, batched and one at a time.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvParser } from '../../src-main/core/files/csv.ts';
import { loadTokenizer } from '../../src-main/core/tokenizer/load-tokenizer.ts';
import { writeGpt2TokenizerJsonFolder, writeGpt2VocabMergesFolder } from '../support/gpt2-tokenizer-files.ts';
import { referenceByteLevelTokenizer, type ByteLevelBpeTokenizer } from '../support/reference-byte-level-bpe.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';

const marcoDir = fileURLToPath(new URL('../../../shared/data/marco/', import.meta.url));

/** `count` texts from MaRCo's SBF, DynaHate and microaggression files, in file order. */
function marcoSentences(count: number): string[] {
  const sources: [string, string][] = [
    ['sbf-sbfdev.csv', 'post'],
    ['dynabench-db_dev.csv', 'text'],
    ['microagressions-train.csv', 'actual_quote'],
  ];
  const texts: string[] = [];
  for (const [file, column] of sources) {
    let header: string[] | null = null;
    const parser = new CsvParser();
    const emit = (record: string[]) => {
      if (!header) header = record;
      else if (texts.length < count) texts.push(record[header.indexOf(column)] ?? '');
    };
    parser.push(readFileSync(join(marcoDir, file), 'utf8'), emit);
    parser.end(emit);
  }
  return texts.slice(0, count);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeMs(action: () => unknown): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** Medians of both sides, their rounds interleaved so that load from elsewhere on the machine hits both alike. */
async function pairedMedians(
  rounds: number,
  ours: (round: number) => unknown,
  baseline: (round: number) => unknown,
): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    times[0].push(await timeMs(() => ours(round)));
    times[1].push(await timeMs(() => baseline(round)));
  }
  return [median(times[0]), median(times[1])];
}

/** The load ToxScope did before: files parsed into the hand-written tokenizer, plus load-model's content hash. */
function loadReference(folder: string, layout: 'vocab.json+merges.txt' | 'tokenizer.json'): ByteLevelBpeTokenizer {
  let vocab: Record<string, number>;
  let merges: string;
  if (layout === 'tokenizer.json') {
    const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number>; merges: string[] };
    };
    vocab = json.model.vocab;
    merges = json.model.merges.join('\n');
  } else {
    vocab = JSON.parse(readFileSync(join(folder, 'vocab.json'), 'utf8')) as Record<string, number>;
    merges = readFileSync(join(folder, 'merges.txt'), 'utf8');
  }
  const tokenizer = referenceByteLevelTokenizer(vocab, merges, 'gpt2');
  const hash = createHash('sha256');
  const spec = tokenizer.spec;
  for (const [token, id] of [...spec.vocab].sort((a, b) => a[1] - b[1])) hash.update(`${id}\t${token}\n`);
  for (const [left, right] of spec.merges) hash.update(`${left} ${right}\n`);
  for (const added of spec.addedTokens) hash.update(`+${added.id}\t${added.content}\n`);
  hash.digest('hex');
  return tokenizer;
}

export async function benchTokenizer(log: (line: string) => void): Promise<BenchRow[]> {
  if (!existsSync(marcoDir)) {
    log(`tokenizer: skipped, no MaRCo data at ${marcoDir}`);
    return [];
  }
  const texts = marcoSentences(2000);
  const characters = texts.reduce((sum, text) => sum + text.length, 0);
  const rows: BenchRow[] = [];
  const rounds = 7;

  for (const layout of ['vocab.json+merges.txt', 'tokenizer.json'] as const) {
    log(`tokenizer: loading GPT-2 from ${layout}, ${rounds} rounds each`);
    const write = layout === 'tokenizer.json' ? writeGpt2TokenizerJsonFolder : writeGpt2VocabMergesFolder;
    // A new folder per round: loadTokenizer keeps the last tokenizers by folder and file times.
    const folders = Array.from({ length: rounds }, () => write());
    const [ours, reference] = await pairedMedians(
      rounds,
      (round) => loadTokenizer(folders[round]!, 'gpt2'),
      (round) => loadReference(folders[round]!, layout),
    );
    rows.push({
      name: `load GPT-2's tokenizer from ${layout} (parse, build, content hash)`,
      value: ours,
      unit: 'ms',
      baseline: 'hand-written BPE (before)',
      baselineValue: reference,
      comparison: speedup(ours, reference),
      note: '',
    });
  }

  log(`tokenizer: encoding ${texts.length} sentences (${characters} characters), ${rounds} rounds each`);
  const vocabMerges = writeGpt2VocabMergesFolder();
  // Cold: a new tokenizer per round on both sides (no word cache yet); building them is not timed.
  const coldOurs = Array.from({ length: rounds }, () => loadTokenizer(writeGpt2VocabMergesFolder(), 'gpt2').tokenizer);
  const coldReference = Array.from({ length: rounds }, () => loadReference(vocabMerges, 'vocab.json+merges.txt'));
  const [cold, coldBaseline] = await pairedMedians(
    rounds,
    (round) => coldOurs[round]!.encodeBatch(texts),
    (round) => texts.forEach((text) => coldReference[round]!.encode(text)),
  );
  rows.push({
    name: `encode ${texts.length} MaRCo sentences, cold (encodeBatch, one call)`,
    value: cold,
    unit: 'ms',
    baseline: 'hand-written BPE, one sentence at a time',
    baselineValue: coldBaseline,
    comparison: speedup(cold, coldBaseline),
    note: `${characters} characters; a fresh tokenizer each round`,
  });

  const ours = coldOurs[0]!;
  const reference = coldReference[0]!;
  const [warm, warmBaseline] = await pairedMedians(
    rounds,
    () => ours.encodeBatch(texts),
    () => texts.forEach((text) => reference.encode(text)),
  );
  rows.push({
    name: 'encode the same sentences again, warm (word caches filled)',
    value: warm,
    unit: 'ms',
    baseline: 'hand-written BPE, one sentence at a time',
    baselineValue: warmBaseline,
    comparison: speedup(warm, warmBaseline),
    note: 'both cache words; the library still pre-tokenizes and builds encodings',
  });

  const [oneByOne, batched] = await pairedMedians(
    3,
    async () => {
      for (const text of texts) await ours.encode(text);
    },
    () => ours.encodeBatch(texts),
  );
  rows.push({
    name: 'encode the same sentences one awaited encode() at a time',
    value: oneByOne,
    unit: 'ms',
    baseline: 'encodeBatch, one call',
    baselineValue: batched,
    comparison: `${(oneByOne / batched).toFixed(1)}× slower`,
    note: `≈ ${((oneByOne / texts.length) * 1000).toFixed(0)} µs per call (a thread-pool round trip): callers batch`,
  });

  const ids = await ours.encodeBatch(texts);
  const [decode, decodeBaseline] = await pairedMedians(
    rounds,
    () => ours.decodeBatch(ids, { skipSpecialTokens: true }),
    () => ids.forEach((row) => reference.decode(row, { skipSpecialTokens: true })),
  );
  rows.push({
    name: `decode the ${texts.length} encodings (decodeBatch, one call)`,
    value: decode,
    unit: 'ms',
    baseline: 'hand-written BPE, one at a time',
    baselineValue: decodeBaseline,
    comparison: speedup(decode, decodeBaseline),
    note: '',
  });
  return rows;
}
