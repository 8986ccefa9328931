#!/usr/bin/env node
// The `toxscope` command: runs the built CLI, or says how to build it. On Linux it first restarts itself once with
// the glibc malloc settings for a process that runs models (see mallocEnv).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { mallocEnv } from './malloc-env.js';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'toxscope: the app is not built yet. Run `npm run build` in the ToxScope folder, then try again.\n',
  );
  process.exit(2);
}

// Every command but `serve` runs one job and exits, so it keeps the memory it frees for its next allocations.
const env = mallocEnv(process.env, { oneJob: process.argv[2] !== 'serve' });
if (env) {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env });
  // Signals sent to this process are passed on (a terminal's Ctrl-C reaches both; the CLI takes a second SIGINT
  // within a second as the same one).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
} else {
  await import(cli.href);
}
