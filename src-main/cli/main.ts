// CLI process entry (built to out/main/cli.js, started by bin/toxscope.js): wires the real process to runCli.

import { runCli } from './run-cli.ts';

/**
 * The first SIGINT cancels the command, which still writes what it has; another one more than a second later ends the
 * process at once. bin/toxscope.js passes its signals on to the CLI process it starts, so a terminal's Ctrl-C, which
 * reaches both, arrives twice within moments.
 */
const interrupt = new AbortController();
let interruptedAt = 0;
process.on('SIGINT', () => {
  if (!interruptedAt) {
    interruptedAt = Date.now();
    interrupt.abort();
  } else if (Date.now() - interruptedAt > 1000) process.exit(130);
});

const exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    interrupt: interrupt.signal,
  },
  {
    workerUrl: new URL('./engine-worker.js', import.meta.url),
    rendererDir: new URL('../renderer/', import.meta.url),
  },
);
process.exitCode = exitCode;
// Worker threads and native handles of onnxruntime may keep the loop alive after a finished command.
setImmediate(() => process.exit(exitCode));
