// `toxscope probe train` (spec dpo-neurons.md §2.1–2.2): features = the mean over real tokens (no padding) of the
// model's last-layer residual (GPT-2: blocks.{L-1}.hook_resid_post; other families: the last hidden state,
// ln_final.hook_normalized); labels from a CSV; a seeded held-out split;
// L2 logistic regression; the probe saved as safetensors with its metadata beside it.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { raise, type ProbeTrainRequest, type ProbeTrainResult } from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { CsvParser } from '../files/csv.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { openDecoderSession } from '../models/decoder/open-session.ts';
import { loadModel } from '../models/load-model.ts';
import { positionsKeyOf } from '../models/position-limit.ts';
import { seededRandom } from '../runtime/logits-processors.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { writeSafetensors } from '../weights/safetensors.ts';
import { fitLogisticRegression, predictLogit } from './logistic-regression.ts';
import { meanHookOverTokens } from './metrics.ts';
import type { ProbeMetadata } from './probe.ts';

const positiveWords = new Set(['1', 'true', 'yes', 'toxic', 'hate', 'offensive']);
const negativeWords = new Set(['0', 'false', 'no', 'nontoxic', 'non-toxic', 'nothate', 'not hate', 'notoffensive']);

/** 1 = toxic, 0 = not, from a label cell; null when the cell says neither. */
export function parseLabel(cell: string, positiveLabel?: string): 0 | 1 | null {
  const value = cell.trim();
  if (positiveLabel !== undefined) return value === positiveLabel ? 1 : 0;
  if (value !== '' && Number.isFinite(Number(value))) return Number(value) >= 0.5 ? 1 : 0;
  const word = value.toLowerCase();
  if (positiveWords.has(word)) return 1;
  if (negativeWords.has(word)) return 0;
  return null;
}

async function readLabelledRows(request: ProbeTrainRequest): Promise<{ text: string; label: 0 | 1 }[]> {
  if (!existsSync(request.data))
    raise('INPUT_INVALID', `No data file at ${request.data}.`, 'Pass a CSV with a header row.');
  const rows: { text: string; label: 0 | 1 }[] = [];
  const parser = new CsvParser();
  let header: string[] | null = null;
  let textIndex = -1;
  let labelIndex = -1;
  const emit = (record: string[], line: number) => {
    if (!header) {
      header = record;
      textIndex = record.indexOf(request.textColumn);
      labelIndex = record.indexOf(request.labelColumn);
      for (const [index, name, flag] of [
        [textIndex, request.textColumn, '--text-column'],
        [labelIndex, request.labelColumn, '--label-column'],
      ] as const) {
        if (index < 0)
          raise(
            'INPUT_INVALID',
            `${request.data} has no column "${name}" (columns: ${record.join(', ')}).`,
            `Pass one of them with ${flag}.`,
          );
      }
      return;
    }
    if (record.length === 1 && record[0] === '') return;
    if (request.limit !== undefined && rows.length >= request.limit) return;
    const label = parseLabel(record[labelIndex] ?? '', request.positiveLabel);
    if (label === null)
      raise(
        'INPUT_INVALID',
        `${request.data}, line ${line}: the label "${record[labelIndex]}" is neither toxic nor non-toxic.`,
        'Pass --positive-label VALUE to say which value means toxic.',
      );
    const text = record[textIndex] ?? '';
    if (text.trim() !== '') rows.push({ text, label });
  };
  for await (const chunk of createReadStream(request.data, 'utf8')) parser.push(chunk as string, emit);
  parser.end(emit);
  const positives = rows.filter((row) => row.label === 1).length;
  if (positives === 0 || positives === rows.length) {
    raise(
      'INPUT_INVALID',
      `${request.data} has ${positives} toxic and ${rows.length - positives} non-toxic rows; a probe needs both.`,
      'Check --label-column and --positive-label.',
    );
  }
  return rows;
}

export const probeTrainJob: Job<ProbeTrainRequest, never, ProbeTrainResult> = async (request, context) => {
  if (!request.out.endsWith('.safetensors'))
    raise(
      'INPUT_INVALID',
      `--out must name a .safetensors file, got ${request.out}.`,
      'For example --out probe.safetensors.',
    );
  context.progress({ done: 0, total: null, message: 'Reading the data and loading the model' });
  const rows = await readLabelledRows(request);
  const model = loadModel(request.model, request.weights);
  const { nLayers, dModel, eosTokenId } = model.config;
  // GPT-2's probes (Lee et al.) read the last block's residual; the other families' (Yang et al. §2.2) read Hugging
  // Face's last hidden state, i.e. after the final norm.
  const hook = model.config.family === 'gpt2' ? `blocks.${nLayers - 1}.hook_resid_post` : 'ln_final.hook_normalized';
  if (request.maxTokens > model.config.nCtx) {
    // Texts cut at --max-tokens must still fit the positions: checked on the texts before any is run.
    const lengths = (await model.tokenizer.tokenizer.encodeBatch(rows.map((row) => row.text))).map((ids) =>
      Math.min(ids.length, request.maxTokens),
    );
    const longest = lengths.reduce((best, length, index) => (length > lengths[best]! ? index : best), 0);
    if (lengths[longest]! > model.config.nCtx)
      raise(
        'INPUT_INVALID',
        `Text ${longest + 1} of ${request.data} is ${lengths[longest]} tokens long as read (--max-tokens ${request.maxTokens}), but ${model.resolved.reference} has ${model.config.nCtx} positions (${positionsKeyOf(model)} in its config.json).`,
        `Lower --max-tokens to ${model.config.nCtx}.`,
        { field: 'maxTokens', appHint: `Lower the token limit to ${model.config.nCtx}.` },
      );
  }
  const device = await resolveDevice(request.device);
  const { session } = await openDecoderSession(
    model,
    { hooks: [hook], hookPositions: 'all', logits: 'none', kvCache: false, interventions: false },
    { device, threads: request.threads, batch: request.batch, length: request.maxTokens },
  );
  const tokenizer = model.tokenizer.tokenizer;
  const features: Float64Array[] = [];
  try {
    for (let start = 0; start < rows.length; start += request.batch) {
      throwIfCancelled(context.signal);
      const encoded = await tokenizer.encodeBatch(rows.slice(start, start + request.batch).map((row) => row.text));
      const batch = encoded.map((ids) => ids.slice(0, request.maxTokens));
      const nonEmpty = batch.map((ids) => (ids.length > 0 ? ids : [eosTokenId ?? 0]));
      features.push(...(await meanHookOverTokens(session, nonEmpty, hook, eosTokenId ?? 0)));
      context.progress({
        done: Math.min(rows.length, start + request.batch),
        total: rows.length,
        message: `Features for ${Math.min(rows.length, start + request.batch)} of ${rows.length} texts`,
      });
    }
  } finally {
    await session.release();
  }

  // Seeded split: shuffle indices, hold out the first fraction.
  const random = seededRandom(request.seed);
  const order = rows.map((_, index) => index);
  for (let index = order.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [order[index], order[swap]] = [order[swap]!, order[index]!];
  }
  const heldOutCount = Math.max(1, Math.round(rows.length * request.heldOutFraction));
  const heldOut = order.slice(0, heldOutCount);
  const train = order.slice(heldOutCount);
  context.progress({
    done: rows.length,
    total: rows.length,
    message: `Fitting logistic regression on ${train.length} texts`,
  });
  const fitted = fitLogisticRegression(
    train.map((index) => features[index]!),
    Uint8Array.from(train, (index) => rows[index]!.label),
  );
  const accuracy = (indices: number[]) =>
    indices.filter((index) => (predictLogit(fitted, features[index]!) > 0 ? 1 : 0) === rows[index]!.label).length /
    indices.length;
  const metadata: ProbeMetadata = {
    hook,
    bias: fitted.bias,
    heldOutAccuracy: accuracy(heldOut),
    trainExamples: train.length,
    heldOutExamples: heldOut.length,
    dataSha256: sha256File(request.data),
    model: `${request.model}${request.weights ? ` + ${request.weights}` : ''} (${model.fingerprint()})`,
  };
  writeSafetensors(
    request.out,
    [{ name: 'probe', dtype: 'F32', shape: [dModel], data: Float32Array.from(fitted.weights) }],
    { producer: 'toxscope probe train', hook },
  );
  const metadataPath = `${request.out}.json`;
  writeFileAtomic(
    metadataPath,
    JSON.stringify(
      {
        ...metadata,
        trainAccuracy: accuracy(train),
        iterations: fitted.iterations,
        gradientNorm: fitted.gradientNorm,
        textColumn: request.textColumn,
        labelColumn: request.labelColumn,
        positiveLabel: request.positiveLabel ?? null,
        maxTokens: request.maxTokens,
        seed: request.seed,
        regularisation: 'L2, C = 1',
        settingsSha256: createHash('sha256').update(JSON.stringify(request)).digest('hex'),
      },
      null,
      2,
    ) + '\n',
  );
  return {
    out: request.out,
    metadata: metadataPath,
    hook,
    heldOutAccuracy: metadata.heldOutAccuracy,
    trainAccuracy: accuracy(train),
    trainExamples: train.length,
    heldOutExamples: heldOut.length,
    positives: rows.filter((row) => row.label === 1).length,
    device,
  };
};
