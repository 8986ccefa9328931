// The shape of a job: an async function of its request that reports progress and frames and honours an AbortSignal.
// Jobs never know which front door (Electron, server, CLI) started them.

import { raise, type JobProgress } from '../../shared/index.ts';

export interface JobContext<Frame> {
  /** Aborted when the user cancels; check it between model runs with `throwIfCancelled`. */
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  frame(frame: Frame): void;
  /** The folder of the built worker-thread entries (out/main), for jobs that run parts on threads of their own. */
  workerDir: URL;
}

export type Job<Request, Frame, Result> = (request: Request, context: JobContext<Frame>) => Promise<Result>;

/** Throws CANCELLED when the job's signal is aborted; jobs call it between units of work. */
export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) raise('CANCELLED', 'The job was cancelled.', 'Start it again when you are ready.');
}
