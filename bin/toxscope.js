#!/usr/bin/env node
// The `toxscope` command: runs the built CLI, or says how to build it. On Linux it first restarts itself once with
// glibc's malloc using transparent huge pages, where that helps (see hugePagesEnv).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { hugePagesEnv } from './huge-pages.js';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'toxscope: the app is not built yet. Run `npm run build` in the ToxScope folder, then try again.\n',
  );
  process.exit(2);
}

const env = hugePagesEnv();
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
