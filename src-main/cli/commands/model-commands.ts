// `inspect`, `tokenize`, `activations` and `generate` (cli.md §1–4): argument parsing and output formats only;
// the work is done by the model jobs on the engine host.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../io.ts';
import { reportDevice, runJobFromCli } from '../job-runner.ts';
import { absolutePath, deviceOption, finiteNumber, positiveInteger } from '../options.ts';
import { UsageError } from '../usage-error.ts';

export interface CommandContext {
  io: CliIo;
  workerUrl: URL;
}

const commonOptions = {
  device: { type: 'string', default: 'auto' },
  threads: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  weights: { type: 'string' },
} as const;

function modelArgument(positionals: string[], command: string): string {
  if (positionals.length !== 1)
    throw new UsageError(`${command} takes one model (a folder, org/name, or demo:name), got ${positionals.length}.`);
  return positionals[0]!;
}

export async function inspectCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { weights: commonOptions.weights, quiet: commonOptions.quiet },
    allowPositionals: true,
  });
  const result = await runJobFromCli(
    'model:inspect',
    { model: modelArgument(positionals, 'inspect'), weights: absolutePath(values.weights) },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  context.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

export async function tokenizeCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { text: { type: 'string' }, quiet: commonOptions.quiet },
    allowPositionals: true,
  });
  if (values.text === undefined) throw new UsageError('tokenize needs --text T.');
  const result = await runJobFromCli(
    'model:tokenize',
    { model: modelArgument(positionals, 'tokenize'), text: values.text },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  context.io.stdout(`${JSON.stringify(result)}\n`);
  return 0;
}

function parseIds(text: string): number[] {
  const ids = text.split(',').map((part) => Number(part.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0))
    throw new UsageError(`--ids must be comma-separated token ids, got "${text}".`);
  return ids;
}

export async function activationsCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...commonOptions,
      text: { type: 'string' },
      ids: { type: 'string' },
      out: { type: 'string' },
      hooks: { type: 'string' },
      'prepend-bos': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if ((values.text === undefined) === (values.ids === undefined))
    throw new UsageError('activations needs exactly one of --text T or --ids 1,2,3.');
  if (!values.out) throw new UsageError('activations needs --out FILE.safetensors.');
  if (!values.out.endsWith('.safetensors'))
    throw new UsageError(`--out must name a .safetensors file, got "${values.out}".`);
  const result = await runJobFromCli(
    'model:activations',
    {
      model: modelArgument(positionals, 'activations'),
      weights: absolutePath(values.weights),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
      ...(values.text !== undefined ? { text: values.text } : { ids: parseIds(values.ids!) }),
      hooks: values.hooks
        ?.split(',')
        .map((hook) => hook.trim())
        .filter(Boolean),
      prependBos: values['prepend-bos'],
      out: resolve(values.out),
    },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  reportDevice(result.device, context.io);
  if (!values.quiet) context.io.stderr(`wrote ${result.tensors.length} tensors to ${result.out}\n`);
  return 0;
}

export async function generateCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...commonOptions,
      prompt: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      sample: { type: 'boolean', default: false },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.prompt === undefined) throw new UsageError('generate needs --prompt T.');
  const samplingFlags = ['temperature', 'top-k', 'top-p', 'seed'] as const;
  if (!values.sample && samplingFlags.some((flag) => values[flag] !== undefined)) {
    throw new UsageError(
      '--temperature, --top-k, --top-p and --seed only apply with --sample (the default is greedy).',
    );
  }
  // Sampling defaults follow Hugging Face's generate(): temperature 1, top-k 50, top-p 1.
  const sampling = values.sample
    ? {
        temperature: finiteNumber(values.temperature, '--temperature', 1),
        topK: values['top-k'] === undefined ? 50 : Number(values['top-k']),
        topP: finiteNumber(values['top-p'], '--top-p', 1),
        seed: values.seed === undefined ? 0 : Number(values.seed),
      }
    : null;
  const streamed = !values.json && !values.quiet;
  const result = await runJobFromCli(
    'model:generate',
    {
      model: modelArgument(positionals, 'generate'),
      weights: absolutePath(values.weights),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
      prompt: values.prompt,
      maxNewTokens: positiveInteger(values['max-new-tokens'], '--max-new-tokens') ?? 20,
      sampling,
    },
    context.io,
    {
      workerUrl: context.workerUrl,
      quiet: true,
      onFrame: streamed ? (frame) => context.io.stdout(frame.text) : undefined,
    },
  );
  reportDevice(result.device, context.io);
  if (values.json)
    context.io.stdout(`${JSON.stringify({ promptIds: result.promptIds, ids: result.ids, text: result.text })}\n`);
  else if (streamed) context.io.stdout('\n');
  else context.io.stdout(`${result.text}\n`);
  return 0;
}
