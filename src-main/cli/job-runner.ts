// Runs one job for the CLI on an engine host (the same worker threads the app uses): progress to stderr,
// Ctrl+C cancels it, and the result or the AppError comes back as a value.

import { createEngineHost } from '../host/engine-host.ts';
import {
  raise,
  type DeviceReport,
  type JobFrame,
  type JobName,
  type JobRequest,
  type JobResult,
} from '../shared/index.ts';
import type { CliIo } from './io.ts';

export interface JobRunOptions<N extends JobName> {
  workerUrl: URL;
  quiet: boolean;
  onFrame?: (frame: JobFrame<N>) => void;
}

export async function runJobFromCli<N extends JobName>(
  job: N,
  request: JobRequest<N>,
  io: CliIo,
  options: JobRunOptions<N>,
): Promise<JobResult<N>> {
  const host = createEngineHost({ workerUrl: options.workerUrl });
  try {
    return await new Promise<JobResult<N>>((resolve, reject) => {
      const started = host.start(job, request, (event) => {
        if (event.type === 'progress' && !options.quiet) io.stderr(`${event.progress.message}\n`);
        else if (event.type === 'frame') options.onFrame?.(event.frame as JobFrame<N>);
        else if (event.type === 'result') resolve(event.result as JobResult<N>);
        else if (event.type === 'error') reject(raiseLater(event.error));
      });
      if (!started.ok) return reject(raiseLater(started.error));
      io.interrupt.addEventListener('abort', () => host.cancel(started.value), { once: true });
    });
  } finally {
    await host.close();
  }
}

function raiseLater(error: { code: Parameters<typeof raise>[0]; message: string; hint: string }): unknown {
  try {
    raise(error.code, error.message, error.hint);
  } catch (thrown) {
    return thrown;
  }
}

/** The contract's device line on stderr: what ran, and why when it differs from what was asked. */
export function reportDevice(device: DeviceReport, io: CliIo): void {
  io.stderr(
    `device: ${device.used}${device.requested !== device.used ? ` (asked for ${device.requested})` : ''}${device.note ? ` — ${device.note}` : ''}\n`,
  );
}
