// `toxscope serve [--port P]`: the desktop UI for a browser, on 127.0.0.1 only, until interrupted.

import { createEngine } from '../../host/engine.ts';
import { startServer } from '../../server/server.ts';
import type { CliIo } from '../io.ts';
import { exitCodes } from '../exit-codes.ts';

export interface ServeOptions {
  port: number;
  /** Where the built app lives: engine-worker.js beside the CLI bundle, the renderer one folder up. */
  workerUrl: URL;
  rendererDir: URL;
}

export async function serveCommand(options: ServeOptions, io: CliIo): Promise<number> {
  const engine = createEngine('server', { workerUrl: options.workerUrl });
  const server = await startServer({ api: engine.api, rendererDir: options.rendererDir, port: options.port });
  io.stdout(`ToxScope is serving on ${server.url}\n`);
  io.stderr('Open that URL in a browser on this machine. Press Ctrl+C to stop.\n');
  await new Promise<void>((resolveStop) => io.interrupt.addEventListener('abort', () => resolveStop(), { once: true }));
  io.stderr('Stopping: cancelling jobs and closing the server.\n');
  await server.close();
  await engine.host.close();
  return exitCodes.cancelled;
}
