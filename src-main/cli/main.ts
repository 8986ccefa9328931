// CLI process entry (built to out/main/cli.js, started by bin/toxscope.js): wires the real process to runCli.

import { runCli } from './run-cli.ts';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());

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
