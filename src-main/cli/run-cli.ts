// The command-line front door: parses arguments, runs one command, maps failures to the contract's exit codes.
// Every failure prints what went wrong and what to do; never only a stack trace.

import { parseArgs } from 'node:util';
import { appVersion } from '../core/app-version.ts';
import { toAppError } from '../shared/index.ts';
import { doctorCommand } from './commands/doctor.ts';
import { serveCommand } from './commands/serve.ts';
import { exitCodeFor, exitCodes } from './exit-codes.ts';
import type { CliIo } from './io.ts';

export interface CliPaths {
  workerUrl: URL;
  rendererDir: URL;
}

const usage = `ToxScope ${appVersion} — neuron-level DPO analysis and MaRCo detoxification, offline.

Usage: toxscope <command> [options]

Commands:
  serve [--port P]     Serve the desktop UI to a browser on 127.0.0.1 (random port by default).
                       Prints the URL with its one-time token; every request needs it.
  doctor [--json]      Report versions, execution providers that load, CPU features, Electron,
                       display and memory. Run this first when something is wrong.

Options:
  -h, --help           Show this help (or a command's: toxscope <command> --help).
  -v, --version        Print the version.

Exit codes: 0 success, 2 bad usage or input, 3 invalid model/weights/probe, 130 cancelled.
`;

const commandUsage: Record<string, string> = {
  serve: 'Usage: toxscope serve [--port P]\n  Serves the UI on http://127.0.0.1:P/ (P = 0 or omitted: a free port).\n',
  doctor: 'Usage: toxscope doctor [--json]\n  Prints what this machine can run; --json for scripts.\n',
};

class UsageError extends Error {}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got "${value}".`);
  return port;
}

export async function runCli(argv: string[], io: CliIo, paths: CliPaths): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout(usage);
    return command === undefined ? exitCodes.badInput : exitCodes.ok;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(`${appVersion}\n`);
    return exitCodes.ok;
  }
  try {
    if (!(command in commandUsage)) throw new UsageError(`Unknown command "${command}".`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandUsage[command]!);
      return exitCodes.ok;
    }
    switch (command) {
      case 'doctor': {
        const { values } = parseArgs({
          args: rest,
          options: { json: { type: 'boolean', default: false } },
          strict: true,
        });
        return await doctorCommand({ json: values.json }, io);
      }
      case 'serve': {
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string' } }, strict: true });
        return await serveCommand({ port: parsePort(values.port), ...paths }, io);
      }
    }
    throw new UsageError(`Unknown command "${command}".`);
  } catch (thrown) {
    if (
      thrown instanceof UsageError ||
      (thrown instanceof TypeError && 'code' in thrown && String(thrown.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr(`toxscope: ${thrown.message}\nRun \`toxscope --help\` for the commands and their options.\n`);
      return exitCodes.badInput;
    }
    const error = toAppError(thrown);
    io.stderr(`toxscope: ${error.message}\nhint: ${error.hint}\n`);
    return exitCodeFor(error.code);
  }
}
