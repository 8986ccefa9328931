// `npm run eval:marco`: the MaRCo masker and rewriter over the MAgr, SBF and DynaHate dev/test selections of
// ../shared/data/marco (spec marco.md §6.1), reporting masking rate, words changed, rewrite length ratio,
// sentences/s, and a toxicity classifier's mean score and fraction above 0.5 of the inputs and of the rewrites (issue
// 15 §3: the paper's Perspective columns, offline). Models default to the bundled demo trio and demo:classifier; pass
// --base/--expert/--anti-expert and --classifier (a folder, org/name, Detoxify .ckpt, or none) for real checkpoints.
// Usage: tsx scripts/eval-marco.ts [--split dev|test] [--datasets magr,sbf,dynahate] [--limit N] [--base M ...]
//        [--classifier M|none] [--classifier-tokenizer DIR]

import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CsvParser } from '../src-main/core/files/csv.ts';
import { infill } from '../src-main/core/detox/infiller.ts';
import { maskSentences } from '../src-main/core/detox/masker.ts';
import { defaultToxicityClassifier, presets, type PresetName } from '../src-main/shared/index.ts';
import { summariseClassifierScores } from '../src-main/core/interp/classifier-metrics.ts';
import { loadToxicityClassifier, openToxicityScorer } from '../src-main/core/models/classifier/toxicity-scorer.ts';
import { splitSegmentsToFit } from '../src-main/core/detox/segments.ts';
import { segmentWords } from '../src-main/core/detox/words.ts';
import { BartSession } from '../src-main/core/models/bart/bart-session.ts';
import { loadBartModel } from '../src-main/core/models/load-model.ts';
import { resolveDevice } from '../src-main/core/runtime/onnxruntime.ts';

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'dev' },
    datasets: { type: 'string', default: 'magr,sbf,dynahate' },
    limit: { type: 'string' },
    base: { type: 'string', default: 'demo:bart-base' },
    expert: { type: 'string', default: 'demo:bart-expert' },
    'anti-expert': { type: 'string', default: 'demo:bart-anti-expert' },
    data: { type: 'string', default: new URL('../../shared/data/marco/', import.meta.url).pathname },
    batch: { type: 'string', default: '8' },
    classifier: { type: 'string', default: defaultToxicityClassifier },
    'classifier-tokenizer': { type: 'string' },
  },
});

async function readCsv(path: string): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = [];
  let header: string[] | null = null;
  const parser = new CsvParser();
  const emit = (record: string[]) => {
    if (!header) header = record;
    else if (record.length > 1) rows.push(Object.fromEntries(header.map((name, index) => [name, record[index] ?? ''])));
  };
  for await (const chunk of createReadStream(path, 'utf8')) parser.push(chunk as string, emit);
  parser.end(emit);
  return rows;
}

/** MAgr's preprocess without ftfy (not available offline): HTML entities decoded, whitespace collapsed. */
function preprocessMagr(text: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return text
    .replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (whole, body: string) =>
      body.startsWith('#')
        ? String.fromCodePoint(Number.parseInt(body.slice(body[1] === 'x' ? 2 : 1), body[1] === 'x' ? 16 : 10))
        : (entities[body] ?? whole),
    )
    .replace(/\s+/g, ' ')
    .trim();
}

/** The selections of §6.1: MAgr every row; SBF redditMicroagressions with offensiveYN ≥ 0.5; DynaHate hate rows. */
async function selection(dataset: PresetName, split: 'dev' | 'test'): Promise<string[]> {
  const dir = values.data!;
  if (dataset === 'magr')
    return (await readCsv(join(dir, `microagressions-${split === 'dev' ? 'val' : 'test'}.csv`))).map((row) =>
      preprocessMagr(row.actual_quote ?? ''),
    );
  if (dataset === 'sbf')
    return (await readCsv(join(dir, `sbf-sbf${split === 'dev' ? 'dev' : 'tst'}.csv`)))
      .filter((row) => row.dataSource === 'redditMicroagressions' && Number(row.offensiveYN) >= 0.5)
      .map((row) => row.post ?? '');
  return (await readCsv(join(dir, `dynabench-db_${split}.csv`)))
    .filter((row) => row.label === 'hate')
    .map((row) => row.text ?? '');
}

const split = values.split === 'test' ? 'test' : 'dev';
if (!existsSync(values.data!))
  throw new Error(`No data folder at ${values.data}; pass --data DIR (the folder of the MaRCo CSVs).`);
const device = await resolveDevice('cpu');
const [base, expert, anti] = [values.base!, values.expert!, values['anti-expert']!].map((reference) =>
  loadBartModel(reference),
);
const open = (model: typeof base) =>
  BartSession.open(model!, {
    decoder: { hooks: [], hookPositions: 'last', logits: 'gather', kvCache: true },
    device,
    batch: 256,
    length: 128,
  });
const sessions = { base: await open(base), expert: await open(expert), anti: await open(anti) };
// The classifier that scores every input sentence and its rewrite (the detox gate's label rule); none = no columns.
const scorer =
  values.classifier === 'none'
    ? null
    : await openToxicityScorer(loadToxicityClassifier(values.classifier!, values['classifier-tokenizer']), { device });
const tokenizer = base!.tokenizer.tokenizer;
const batch = Number(values.batch);
const rows: string[] = [];
for (const dataset of values.datasets!.split(',') as PresetName[]) {
  const limit = Math.min(base!.config.nCtx, presets[dataset].maxLength) - 2;
  const fitsAll = async (texts: string[]) =>
    (await tokenizer.encodeBatch(texts, { addSpecialTokens: false })).map((ids) => ids.length <= limit);
  // Each text's sentences (long ones split to fit the model), as the detox job rewrites them.
  const texts: string[] = [];
  for (const text of (await selection(dataset, split)).slice(0, values.limit ? Number(values.limit) : undefined))
    texts.push(...(await splitSegmentsToFit(text, fitsAll)).map((segment) => segment.text));
  const settings = presets[dataset];
  const started = performance.now();
  let maskedSentences = 0;
  let maskedWords = 0;
  let totalWords = 0;
  let changedWords = 0;
  let lengthRatio = 0;
  // [sentences]: the classifier's toxicity of each input sentence and of its rewrite.
  const toxicityIn: number[] = [];
  const toxicityOut: number[] = [];
  for (let start = 0; start < texts.length; start += batch) {
    const sentences = texts.slice(start, start + batch);
    const masked = await maskSentences(sentences, {
      tokenizer,
      expert: sessions.expert,
      anti: sessions.anti,
      threshold: settings.threshold,
      divergence: settings.divergence,
      indexQuirk: false,
      rowsPerBatch: 64,
    });
    // As the detox job does: sentences with no masked word are kept as they are.
    const toRewrite = masked.filter((sentence) => sentence.masked !== sentence.text);
    const generated = toRewrite.length
      ? await infill(
          toRewrite.map((sentence) => sentence.text),
          toRewrite.map((sentence) => sentence.masked),
          { tokenizer, ...sessions, settings },
        )
      : [];
    const rewrites = masked.map((sentence) =>
      toRewrite.includes(sentence) ? generated[toRewrite.indexOf(sentence)]! : sentence.text,
    );
    if (scorer) {
      toxicityIn.push(...(await scorer.score(sentences)));
      toxicityOut.push(...(await scorer.score(rewrites)));
    }
    masked.forEach((sentence, index) => {
      const count = sentence.words.filter((word) => word.masked).length;
      maskedSentences += count > 0 ? 1 : 0;
      maskedWords += count;
      const before = segmentWords(sentence.text).map((word) => word.text);
      const after = new Set(segmentWords(rewrites[index]!).map((word) => word.text));
      totalWords += before.length;
      changedWords += before.filter((word) => !after.has(word)).length;
      lengthRatio += rewrites[index]!.length / Math.max(1, sentence.text.length);
    });
  }
  // sentences/s counts the rewriting and the scoring: the classifier is part of what a user runs.
  const seconds = (performance.now() - started) / 1000;
  const n = Math.max(1, texts.length);
  const [scoresIn, scoresOut] = [toxicityIn, toxicityOut].map((scores) => summariseClassifierScores(scores));
  const classifierCells = scorer
    ? ` ${scoresIn!.mean.toFixed(3)} → ${scoresOut!.mean.toFixed(3)} | ${(100 * scoresIn!.fractionToxic).toFixed(1)}% → ${(100 * scoresOut!.fractionToxic).toFixed(1)}% |`
    : '';
  rows.push(
    `| ${dataset} | ${split} | ${texts.length} | ${((100 * maskedSentences) / n).toFixed(1)}% | ${(maskedWords / n).toFixed(2)} | ${((100 * changedWords) / Math.max(1, totalWords)).toFixed(1)}% | ${(lengthRatio / n).toFixed(2)} | ${(texts.length / seconds).toFixed(2)} |${classifierCells}`,
  );
}
for (const session of Object.values(sessions)) await session.release();
await scorer?.release();
const classifierNote = scorer
  ? `; toxicity = ${scorer.identity.reference}'s "${scorer.identity.label}" probability (sha256 ${scorer.identity.sha256}), input → rewrite, fraction toxic = share above 0.5`
  : '';
process.stdout.write(
  [
    `MaRCo evaluation, models ${values.base} / ${values.expert} / ${values['anti-expert']}, presets per dataset, greedy, CPU${classifierNote}:`,
    '',
    `| dataset | split | sentences | sentences masked | masked words per sentence | words changed | rewrite length ratio | sentences/s |${scorer ? ' toxicity | fraction toxic |' : ''}`,
    `| --- | --- | --- | --- | --- | --- | --- | --- |${scorer ? ' --- | --- |' : ''}`,
    ...rows,
    '',
  ].join('\n'),
);
