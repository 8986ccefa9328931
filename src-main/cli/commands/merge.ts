// `toxscope merge OUT DIR…` (cli.md "Detox safety and scale-out", issue 18): combines the shard folders of one
// compare, intervene or detox --in-dir run into OUT, exactly the files a single run writes.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runJobFromCli } from '../job-runner.ts';
import { UsageError } from '../usage-error.ts';
import type { CommandContext } from './model-commands.ts';

export async function mergeCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, quiet: { type: 'boolean', default: false } },
  });
  const [out, ...shards] = positionals;
  if (out === undefined || shards.length === 0)
    throw new UsageError('merge needs the output folder and the shard folders: toxscope merge OUT DIR1 DIR2 …');
  const result = await runJobFromCli(
    'results:merge',
    { out: resolve(out), shards: shards.map((folder) => resolve(folder)) },
    context.io,
    { workerUrl: context.workerUrl, quiet: values.quiet },
  );
  if (values.json) context.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else if (!values.quiet)
    context.io.stderr(
      `merged ${result.shards} ${result.command} shards (${result.items} ${result.command === 'detox' ? 'files' : 'prompts'}) into ${result.out}: ${result.files.join(', ')} in ${result.seconds.toFixed(2)} s\n`,
    );
  return 0;
}
