// `compare` (cli.md §5): argument parsing and the progress line; the work is the compare job on the engine host.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  defaultCompareBatch,
  defaultMaxPromptTokens,
  presets,
  type ClassifierIdentity,
  type ClassifierToxicity,
  type CompareClassifierToxicity,
  type DetoxBatchRequest,
  type DetoxGateSettings,
  type InterveneRequest,
  type PresetName,
  type WeightProcessing,
} from '../../shared/index.ts';
import { defaultBlocklistPath, defaultGateClassifier, gateDefaults } from '../../core/detox/toxicity-gate.ts';
import { reportDevice, runJobFromCli } from '../job-runner.ts';
import { deviceOption, fileOrDemo, finiteNumber, positiveInteger, required, shardOption } from '../options.ts';
import { UsageError } from '../usage-error.ts';
import type { CommandContext } from './model-commands.ts';

export async function compareCommand(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      base: { type: 'string' },
      'base-weights': { type: 'string' },
      dpo: { type: 'string' },
      probe: { type: 'string' },
      prompts: { type: 'string' },
      column: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      'max-prompt-tokens': { type: 'string' },
      limit: { type: 'string' },
      batch: { type: 'string' },
      'weight-processing': { type: 'string', default: 'none' },
      'no-bos': { type: 'boolean', default: false },
      out: { type: 'string' },
      shard: { type: 'string' },
      classifier: { type: 'string' },
      'classifier-tokenizer': { type: 'string' },
      device: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const weightProcessing = values['weight-processing'];
  if (weightProcessing !== 'none' && weightProcessing !== 'center')
    throw new UsageError(`--weight-processing must be none or center, got "${weightProcessing}".`);
  const dpo = required(values.dpo, '--dpo <model|weights file>', 'compare');
  const result = await runJobFromCli(
    'interp:compare',
    {
      base: required(values.base, '--base <model>', 'compare'),
      baseWeights: values['base-weights'] === undefined ? undefined : resolve(values['base-weights']),
      dpo,
      probe: fileOrDemo(required(values.probe, '--probe FILE', 'compare')),
      prompts: resolve(required(values.prompts, '--prompts FILE', 'compare')),
      column: values.column,
      maxNewTokens: positiveInteger(values['max-new-tokens'], '--max-new-tokens', 20)!,
      maxPromptTokens: positiveInteger(values['max-prompt-tokens'], '--max-prompt-tokens', defaultMaxPromptTokens)!,
      limit: positiveInteger(values.limit, '--limit'),
      batch: positiveInteger(values.batch, '--batch', defaultCompareBatch)!,
      weightProcessing: weightProcessing as WeightProcessing,
      prependBos: !values['no-bos'],
      out: resolve(required(values.out, '--out DIR', 'compare')),
      ...classifierOptions(values),
      ...shardField(values.shard),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
    },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  reportDevice(result.device, context.io);
  const { summary } = result;
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  if (values.shard !== undefined) {
    if (!values.quiet) context.io.stderr(shardDoneLine(values.shard, summary.prompts, result.out));
    return 0;
  }
  if (!values.quiet) {
    context.io.stderr(
      [
        `${summary.prompts} prompts × ${summary.positions / Math.max(1, summary.prompts)} positions${result.resumedFrom ? ` (resumed after ${result.resumedFrom})` : ''}`,
        `gross reduction ${summary.grossReduction.toPrecision(5)}, net ${summary.netReduction.toPrecision(5)}`,
        `TP- ${percent(summary.groups['TP-'].share)}, TN+ ${percent(summary.groups['TN+'].share)}, AP+ ${percent(summary.groups['AP+'].share)}, AN- ${percent(summary.groups['AN-'].share)} of the four reduction groups`,
        `top-${summary.toxicNeuronShare.topN} toxic neurons, dampened: ${percent(summary.toxicNeuronShare.share)} of the gross reduction`,
        ...(summary.classifier ? [compareClassifierLine(summary.classifier)] : []),
        `wrote neurons.csv, summary.json, generations.jsonl, manifest.json to ${result.out}`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

export async function interveneCommand(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      probe: { type: 'string' },
      prompts: { type: 'string' },
      column: { type: 'string' },
      intervention: { type: 'string' },
      'ppl-text': { type: 'string' },
      'f1-data': { type: 'string' },
      scorer: { type: 'string' },
      classifier: { type: 'string' },
      'classifier-tokenizer': { type: 'string' },
      'max-new-tokens': { type: 'string' },
      'max-prompt-tokens': { type: 'string' },
      limit: { type: 'string' },
      batch: { type: 'string' },
      'prepend-bos': { type: 'boolean', default: false },
      out: { type: 'string' },
      shard: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const optionalPath = (value: string | undefined) => (value === undefined ? undefined : resolve(value));
  const result = await runJobFromCli(
    'interp:intervene',
    {
      model: required(values.model, '--model <model>', 'intervene'),
      weights: optionalPath(values.weights),
      probe: fileOrDemo(required(values.probe, '--probe FILE', 'intervene')),
      prompts: resolve(required(values.prompts, '--prompts FILE', 'intervene')),
      column: values.column,
      intervention: required(values.intervention, '--intervention SPEC', 'intervene'),
      pplText: optionalPath(values['ppl-text']),
      f1Data: optionalPath(values['f1-data']),
      scorer: values.scorer,
      ...classifierOptions(values),
      maxNewTokens: positiveInteger(values['max-new-tokens'], '--max-new-tokens', 20)!,
      maxPromptTokens: positiveInteger(values['max-prompt-tokens'], '--max-prompt-tokens', defaultMaxPromptTokens)!,
      limit: positiveInteger(values.limit, '--limit'),
      batch: positiveInteger(values.batch, '--batch', 16)!,
      prependBos: values['prepend-bos'],
      out: resolve(required(values.out, '--out DIR', 'intervene')),
      ...shardField(values.shard),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
    },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  reportDevice(result.device, context.io);
  const { summary } = result;
  if (values.shard !== undefined) {
    if (!values.quiet) context.io.stderr(shardDoneLine(values.shard, summary.prompts, result.out));
    return 0;
  }
  if (!values.quiet) {
    context.io.stderr(
      [
        `${summary.intervention.description}`,
        `toxicity (probe logit, mean of ${summary.toxicity.scored}): ${summary.toxicity.probe.toFixed(4)}; above 0: ${(100 * summary.toxicity.probeFractionAbove).toFixed(1)}%`,
        ...(summary.toxicity.classifier ? [interveneClassifierLine(summary.toxicity.classifier)] : []),
        `perplexity: ${summary.perplexity === null ? 'not measured (--ppl-text FILE)' : summary.perplexity.toFixed(3)}`,
        `F1: ${summary.f1 === null ? 'not measured (--f1-data FILE)' : summary.f1.toFixed(4)}`,
        `wrote summary.json, generations.jsonl, manifest.json to ${result.out}`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

/** The request's shard from --shard K/N (nothing without it). */
function shardField(value: string | undefined) {
  const shard = shardOption(value);
  return shard ? { shard } : {};
}

/** What a finished shard says: its share, where it is, and that only merge reads it. */
function shardDoneLine(shard: string, items: number, out: string, unit = 'prompts'): string {
  return `shard ${shard.trim()} done (${items} ${unit}); its partial result is in ${out}: combine the shards with \`toxscope merge OUT DIR…\`\n`;
}

/**
 * --classifier M|none and --classifier-tokenizer for compare and intervene: the classifier that scores the
 * continuations, by default the detox gate's (demo:classifier when installed), so one default serves every command.
 */
function classifierOptions(values: {
  classifier?: string;
  'classifier-tokenizer'?: string;
}): Pick<InterveneRequest, 'classifier' | 'classifierTokenizer'> {
  const classifier = values.classifier ?? defaultGateClassifier();
  const tokenizer = values['classifier-tokenizer'];
  if (classifier === null || classifier === 'none') {
    if (tokenizer !== undefined)
      throw new UsageError(
        `--classifier-tokenizer needs a toxicity classifier: pass --classifier <model>${classifier === 'none' ? ' instead of none' : ''}.`,
      );
    return {};
  }
  return { classifier, ...(tokenizer !== undefined ? { classifierTokenizer: tokenizer } : {}) };
}

const classifierName = (toxicity: ClassifierIdentity) => `${toxicity.reference}, ${toxicity.label}`;

function interveneClassifierLine(toxicity: ClassifierToxicity): string {
  return `toxicity (classifier ${classifierName(toxicity)}, mean of ${toxicity.scored}): ${toxicity.mean.toFixed(4)}; fraction toxic (above ${toxicity.threshold}): ${(100 * toxicity.fractionToxic).toFixed(1)}%`;
}

function compareClassifierLine(toxicity: CompareClassifierToxicity): string {
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  const relative = toxicity.relativeReduction === null ? '' : ` (${percent(toxicity.relativeReduction)} less)`;
  return `toxicity (classifier ${classifierName(toxicity)}): base ${toxicity.base.mean.toFixed(4)} → DPO ${toxicity.dpo.mean.toFixed(4)}${relative}; fraction toxic ${percent(toxicity.base.fractionToxic)} → ${percent(toxicity.dpo.fractionToxic)}`;
}

export async function probeCommand(args: string[], context: CommandContext): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'train')
    throw new UsageError(
      `probe takes the subcommand "train", got ${subcommand === undefined ? 'none' : `"${subcommand}"`}.`,
    );
  const { values } = parseArgs({
    args: rest,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      data: { type: 'string' },
      'text-column': { type: 'string' },
      'label-column': { type: 'string' },
      'positive-label': { type: 'string' },
      'max-tokens': { type: 'string' },
      limit: { type: 'string' },
      'held-out': { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const heldOut = values['held-out'] === undefined ? 0.1 : Number(values['held-out']);
  if (!(heldOut > 0 && heldOut < 1))
    throw new UsageError(`--held-out must be a fraction between 0 and 1, got "${values['held-out']}".`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}".`);
  const result = await runJobFromCli(
    'interp:probe-train',
    {
      model: required(values.model, '--model <model>', 'probe train'),
      weights: values.weights === undefined ? undefined : resolve(values.weights),
      data: resolve(required(values.data, '--data FILE', 'probe train')),
      textColumn: required(values['text-column'], '--text-column NAME', 'probe train'),
      labelColumn: required(values['label-column'], '--label-column NAME', 'probe train'),
      positiveLabel: values['positive-label'],
      maxTokens: positiveInteger(values['max-tokens'], '--max-tokens', 128)!,
      limit: positiveInteger(values.limit, '--limit'),
      heldOutFraction: heldOut,
      seed,
      batch: positiveInteger(values.batch, '--batch', 16)!,
      out: resolve(required(values.out, '--out FILE.safetensors', 'probe train')),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
    },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  reportDevice(result.device, context.io);
  context.io.stdout(
    `${JSON.stringify({ probe: result.out, metadata: result.metadata, hook: result.hook, heldOutAccuracy: result.heldOutAccuracy, trainAccuracy: result.trainAccuracy, trainExamples: result.trainExamples, heldOutExamples: result.heldOutExamples, positives: result.positives }, null, 2)}\n`,
  );
  return 0;
}

export async function detoxCommand(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      base: { type: 'string' },
      expert: { type: 'string' },
      'anti-expert': { type: 'string' },
      text: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      explain: { type: 'string' },
      'in-dir': { type: 'string' },
      'out-dir': { type: 'string' },
      shard: { type: 'string' },
      preset: { type: 'string', default: 'magr' },
      threshold: { type: 'string' },
      'alpha-base': { type: 'string' },
      'alpha-expert': { type: 'string' },
      'alpha-anti': { type: 'string' },
      temperature: { type: 'string' },
      'repetition-penalty': { type: 'string' },
      'max-length': { type: 'string' },
      divergence: { type: 'string' },
      'index-quirk': { type: 'boolean', default: false },
      sample: { type: 'boolean', default: false },
      seed: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      batch: { type: 'string' },
      classifier: { type: 'string' },
      'classifier-tokenizer': { type: 'string' },
      'toxicity-threshold': { type: 'string' },
      'max-resamples': { type: 'string' },
      blocklist: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const batch = values['in-dir'] !== undefined;
  if (batch) {
    const stray = (['text', 'in', 'out', 'explain'] as const).find((flag) => values[flag] !== undefined);
    if (stray)
      throw new UsageError(
        `--in-dir detoxes a folder into --out-dir DIR (explanations in DIR/explain/); leave out --${stray}.`,
      );
    if (values['out-dir'] === undefined) throw new UsageError('detox --in-dir DIR needs --out-dir DIR.');
  } else {
    if (values['out-dir'] !== undefined) throw new UsageError('--out-dir goes with --in-dir DIR.');
    if (values.shard !== undefined)
      throw new UsageError('--shard splits a folder of documents: use it with --in-dir DIR --out-dir DIR.');
    if ((values.text === undefined) === (values.in === undefined))
      throw new UsageError(
        'detox needs exactly one of --text T or --in FILE (or a folder: --in-dir DIR --out-dir DIR).',
      );
  }
  const gate = detoxGateOptions(values);
  const preset = presets[values.preset as PresetName];
  if (!preset) throw new UsageError(`--preset must be magr, sbf or dynahate, got "${values.preset}".`);
  const divergence = values.divergence ?? preset.divergence;
  if (divergence !== 'symmetric-kl' && divergence !== 'jsd')
    throw new UsageError(`--divergence must be symmetric-kl or jsd, got "${divergence}".`);
  const settings = {
    threshold: finiteNumber(values.threshold, '--threshold', preset.threshold),
    alphaBase: finiteNumber(values['alpha-base'], '--alpha-base', preset.alphaBase),
    alphaExpert: finiteNumber(values['alpha-expert'], '--alpha-expert', preset.alphaExpert),
    alphaAnti: finiteNumber(values['alpha-anti'], '--alpha-anti', preset.alphaAnti),
    temperature: finiteNumber(values.temperature, '--temperature', preset.temperature),
    repetitionPenalty: finiteNumber(values['repetition-penalty'], '--repetition-penalty', preset.repetitionPenalty),
    maxLength: positiveInteger(values['max-length'], '--max-length', preset.maxLength)!,
    divergence,
    indexQuirk: values['index-quirk'],
    sampling: values.sample
      ? {
          seed: finiteNumber(values.seed, '--seed', 0),
          topK: finiteNumber(values['top-k'], '--top-k', 0),
          topP: finiteNumber(values['top-p'], '--top-p', 1),
        }
      : null,
  } as const;
  if (batch)
    return detoxFolder(
      {
        base: required(values.base, '--base <model>', 'detox'),
        expert: required(values.expert, '--expert <model>', 'detox'),
        antiExpert: required(values['anti-expert'], '--anti-expert <model>', 'detox'),
        inputFolder: resolve(values['in-dir']!),
        outputFolder: resolve(values['out-dir']!),
        settings,
        batch: positiveInteger(values.batch, '--batch', 32)!,
        gate,
        recursive: true,
        ...shardField(values.shard),
        device: deviceOption(values.device),
        threads: positiveInteger(values.threads, '--threads'),
      },
      context,
      values.quiet,
    );
  const result = await runJobFromCli(
    'detox:run',
    {
      base: required(values.base, '--base <model>', 'detox'),
      expert: required(values.expert, '--expert <model>', 'detox'),
      antiExpert: required(values['anti-expert'], '--anti-expert <model>', 'detox'),
      ...(values.text !== undefined ? { text: values.text } : { input: resolve(values.in!) }),
      output: values.out === undefined ? undefined : resolve(values.out),
      explain: values.explain === undefined ? undefined : resolve(values.explain),
      settings,
      batch: positiveInteger(values.batch, '--batch', 32)!,
      gate,
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
    },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  reportDevice(result.device, context.io);
  if (result.document !== null)
    context.io.stdout(
      result.document.endsWith('\n') || result.document === '' ? result.document : `${result.document}\n`,
    );
  if (!values.quiet) {
    context.io.stderr(
      `${result.rewritten} of ${result.segments} sentences rewritten (${result.maskedWords} words masked) in ${result.seconds.toFixed(1)} s${result.output ? `; wrote ${result.output}` : ''}${result.explain ? `; explanation in ${result.explain}` : ''}\n`,
    );
    if (result.gate) {
      const { gate: report } = result;
      const mean = (value: number | null) => (value === null ? '–' : value.toFixed(3));
      context.io.stderr(
        `toxicity gate (${report.classifier}, ${report.label} > ${report.threshold}): ${report.rewritten} rewritten, ${report.clean} left clean, ${report.refused} refused; document toxicity ${mean(report.documentBefore)} → ${mean(report.documentAfter)}\n`,
      );
    }
  }
  return 0;
}

/** `detox --in-dir DIR --out-dir DIR [--shard K/N]`: the app's batch mode (resumable), with a line per file. */
async function detoxFolder(request: DetoxBatchRequest, context: CommandContext, quiet: boolean): Promise<number> {
  const result = await runJobFromCli('detox:batch', request, context.io, {
    workerUrl: context.workerUrl,
    quiet: true,
    onFrame: (frame) => {
      if (quiet) return;
      const { file } = frame;
      const outcome =
        file.status === 'failed'
          ? `failed: ${file.error?.message ?? 'unknown error'}`
          : `${file.rewritten} of ${file.sentences} sentences rewritten${file.status === 'resumed' ? ' (done by an earlier run)' : ''}`;
      context.io.stderr(`[${frame.filesDone}/${frame.filesTotal}] ${file.name}: ${outcome}\n`);
    },
  });
  const { summary } = result;
  reportDevice(summary.device, context.io);
  if (!quiet) {
    const gate = summary.gate
      ? `; toxicity gate: ${summary.gate.rewritten} rewritten, ${summary.gate.clean} left clean, ${summary.gate.refused} refused`
      : '';
    context.io.stderr(
      `${summary.totals.files} files (${summary.totals.failed} failed): ${summary.totals.rewritten} of ${summary.totals.sentences} sentences rewritten${gate}\n`,
    );
    context.io.stderr(
      request.shard
        ? shardDoneLine(
            `${request.shard.index}/${request.shard.count}`,
            summary.files.length,
            request.outputFolder,
            'files',
          )
        : `wrote the documents, explain/, summary.json and manifest.json to ${request.outputFolder}\n`,
    );
  }
  return summary.totals.failed > 0 ? 2 : 0;
}

/**
 * The toxicity gate from --classifier (default: demo:classifier when installed; `none` = MaRCo on every sentence),
 * --classifier-tokenizer, --toxicity-threshold, --max-resamples and --blocklist FILE|none (default: the shipped list).
 */
function detoxGateOptions(values: {
  classifier?: string;
  'classifier-tokenizer'?: string;
  'toxicity-threshold'?: string;
  'max-resamples'?: string;
  blocklist?: string;
}): DetoxGateSettings | null {
  const classifier = values.classifier ?? defaultGateClassifier();
  const gateFlags = ['classifier-tokenizer', 'toxicity-threshold', 'max-resamples', 'blocklist'] as const;
  if (classifier === null || classifier === 'none') {
    const stray = gateFlags.find((flag) => values[flag] !== undefined);
    if (stray)
      throw new UsageError(
        `--${stray} needs a toxicity classifier: pass --classifier <model>${classifier === 'none' ? ' instead of none' : ''}.`,
      );
    return null;
  }
  const threshold = finiteNumber(values['toxicity-threshold'], '--toxicity-threshold', gateDefaults.toxicityThreshold);
  if (threshold < 0 || threshold > 1)
    throw new UsageError(
      `--toxicity-threshold must be a probability from 0 to 1, got "${values['toxicity-threshold']}".`,
    );
  const resamples = values['max-resamples'] === undefined ? gateDefaults.maxResamples : Number(values['max-resamples']);
  if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100)
    throw new UsageError(`--max-resamples must be an integer from 0 to 100, got "${values['max-resamples']}".`);
  return {
    classifier,
    ...(values['classifier-tokenizer'] !== undefined ? { tokenizer: values['classifier-tokenizer'] } : {}),
    toxicityThreshold: threshold,
    maxResamples: resamples,
    blocklist:
      values.blocklist === 'none'
        ? null
        : values.blocklist === undefined
          ? defaultBlocklistPath()
          : resolve(values.blocklist),
  };
}
