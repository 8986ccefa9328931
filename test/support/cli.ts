// Runs the real `toxscope` command (bin/toxscope.js → out/main/cli.js) with its own user data folder.

import { spawnSync } from 'node:child_process';
import { cliPath } from './built-app.ts';

export function runToxscope(dataDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOXSCOPE_DATA_DIR: dataDir },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
