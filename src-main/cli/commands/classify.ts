// `toxscope classify` (cli.md §9): argument parsing and output only; the classify job scores the texts.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reportDevice, runJobFromCli } from '../job-runner.ts';
import { deviceOption, positiveInteger } from '../options.ts';
import { UsageError } from '../usage-error.ts';
import type { CommandContext } from './model-commands.ts';

export async function classifyCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      tokenizer: { type: 'string' },
      text: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      'max-length': { type: 'string' },
      device: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1)
    throw new UsageError(
      `classify takes one model (a folder, org/name, demo:classifier or a Detoxify .ckpt), got ${positionals.length}.`,
    );
  if ((values.text === undefined) === (values.in === undefined))
    throw new UsageError('classify needs exactly one of --text T or --in FILE (.txt or .jsonl).');
  if (values.out !== undefined && values.in === undefined)
    throw new UsageError('--out goes with --in FILE; with --text the scores go to stdout.');
  const { io } = context;
  const result = await runJobFromCli(
    'classify:run',
    {
      model: positionals[0]!,
      tokenizer: values.tokenizer,
      ...(values.text !== undefined ? { text: values.text } : { input: resolve(values.in!) }),
      output: values.out === undefined ? undefined : resolve(values.out),
      batch: positiveInteger(values.batch, '--batch'),
      maxLength: positiveInteger(values['max-length'], '--max-length'),
      device: deviceOption(values.device),
      threads: positiveInteger(values.threads, '--threads'),
    },
    io,
    {
      workerUrl: context.workerUrl,
      quiet: true,
      onFrame: (frame) => io.stdout(frame.results.map((item) => `${JSON.stringify(item)}\n`).join('')),
    },
  );
  if (!values.quiet) {
    reportDevice(result.device, io);
    io.stderr(
      `${result.texts} text${result.texts === 1 ? '' : 's'} scored with ${result.model.reference} (batch ${result.batch}, max length ${result.maxLength}) in ${result.seconds.toFixed(1)} s${result.output ? `; wrote ${result.output}` : ''}\n`,
    );
  }
  return 0;
}
