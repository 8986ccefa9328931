// The engine host: one job API over a small pool of worker threads. Jobs queue under a concurrency limit, stream
// progress and frames, end in exactly one result or error, and can be cancelled (cooperatively, then by force).

import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  appError,
  fail,
  isJobName,
  jobRequestGuards,
  jobRequestShapes,
  ok,
  type AppError,
  type JobEvent,
  type Result,
} from '../shared/index.ts';
import type { EngineWorkerData, HostToWorker, WorkerToHost } from './protocol.ts';

export interface EngineHostOptions {
  /** URL of the built engine-worker.js. */
  workerUrl: URL;
  /** Jobs that run at the same time; each gets its own worker thread. Default 1: models compete for cores. */
  concurrency?: number;
  /** Extra job modules for the workers (tests, plug-ins). */
  extraJobModules?: string[];
  /** How long a cancelled job may take to notice before its worker is terminated. Default 5 s. */
  cancelGraceMs?: number;
}

export type JobListener = (event: JobEvent) => void;

export interface EngineHost {
  /**
   * Queues a job and returns its id; every event of the job then goes to `listener`, ending with one result or
   * error. A catalogued job's request is checked first: a malformed one is refused here and never queued.
   */
  start(job: string, request: unknown, listener: JobListener): Result<string>;
  /** Cancels a queued or running job; false when no such job is active. */
  cancel(jobId: string): boolean;
  /** Jobs queued or running. */
  activeJobCount(): number;
  /** Cancels everything and stops the workers. */
  close(): Promise<void>;
}

interface PendingJob {
  jobId: string;
  job: string;
  request: unknown;
  listener: JobListener;
}

interface EngineSlot {
  worker: Worker;
  current: PendingJob | null;
  /** True once a cancel was asked of the current job, so its worker's exit means "cancelled", not "crashed". */
  cancelRequested: boolean;
  /** Terminates the worker if the cancelled job does not stop within the grace period. */
  forceCancelTimer: NodeJS.Timeout | null;
}

const cancelledError: AppError = appError('CANCELLED', 'The job was cancelled.', 'Start it again when you are ready.');

export function createEngineHost(options: EngineHostOptions): EngineHost {
  const concurrency = options.concurrency ?? 1;
  const cancelGraceMs = options.cancelGraceMs ?? 5000;
  const workerData: EngineWorkerData = { extraJobModules: options.extraJobModules ?? [] };
  const queue: PendingJob[] = [];
  const slots = new Set<EngineSlot>();
  let closed = false;

  function finish(slot: EngineSlot, event: JobEvent): void {
    const job = slot.current;
    if (!job) return;
    if (slot.forceCancelTimer) clearTimeout(slot.forceCancelTimer);
    slot.current = null;
    slot.cancelRequested = false;
    slot.forceCancelTimer = null;
    job.listener(event);
    dispatch();
  }

  function spawnSlot(): EngineSlot {
    const worker = new Worker(options.workerUrl, { workerData });
    const slot: EngineSlot = { worker, current: null, cancelRequested: false, forceCancelTimer: null };
    worker.on('message', (message: WorkerToHost) => {
      if (message.type !== 'event' || slot.current?.jobId !== message.event.jobId) return;
      const event = message.event;
      if (event.type === 'result' || event.type === 'error') finish(slot, event);
      else slot.current.listener(event);
    });
    worker.on('error', (error) => {
      const job = slot.current;
      if (job) {
        const crash = appError(
          'ENGINE_CRASHED',
          `The engine stopped while running ${job.job}: ${error.message}`,
          'Run `toxscope doctor`; if it repeats with the same input, report it with that message.',
        );
        finish(slot, { jobId: job.jobId, type: 'error', error: crash });
      }
    });
    worker.on('exit', () => {
      slots.delete(slot);
      const job = slot.current;
      if (job) {
        const error = slot.cancelRequested
          ? cancelledError
          : appError('ENGINE_CRASHED', `The engine exited while running ${job.job}.`, 'Run `toxscope doctor`.');
        finish(slot, { jobId: job.jobId, type: 'error', error });
      }
      dispatch();
    });
    slots.add(slot);
    return slot;
  }

  function dispatch(): void {
    if (closed) return;
    while (queue.length > 0) {
      let slot = [...slots].find((candidate) => candidate.current === null);
      if (!slot && slots.size < concurrency) slot = spawnSlot();
      if (!slot) return;
      const job = queue.shift()!;
      slot.current = job;
      slot.worker.postMessage({
        type: 'start',
        jobId: job.jobId,
        job: job.job,
        request: job.request,
      } satisfies HostToWorker);
    }
  }

  function cancel(jobId: string): boolean {
    const queuedIndex = queue.findIndex((job) => job.jobId === jobId);
    if (queuedIndex >= 0) {
      const [job] = queue.splice(queuedIndex, 1);
      job!.listener({ jobId, type: 'error', error: cancelledError });
      return true;
    }
    const slot = [...slots].find((candidate) => candidate.current?.jobId === jobId);
    if (!slot) return false;
    if (!slot.cancelRequested) {
      slot.cancelRequested = true;
      slot.worker.postMessage({ type: 'cancel', jobId } satisfies HostToWorker);
      slot.forceCancelTimer = setTimeout(() => void slot.worker.terminate(), cancelGraceMs);
    }
    return true;
  }

  return {
    start(job, request, listener) {
      if (closed) return fail(appError('ENGINE_CRASHED', 'The engine is shut down.', 'Restart ToxScope.'));
      if (isJobName(job) && !jobRequestGuards[job](request)) {
        return fail(
          appError('INPUT_INVALID', `The request for job ${job} is malformed.`, `Send ${jobRequestShapes[job]}.`),
        );
      }
      const jobId = randomUUID();
      queue.push({ jobId, job, request, listener });
      dispatch();
      return ok(jobId);
    },
    cancel,
    activeJobCount: () => queue.length + [...slots].filter((slot) => slot.current !== null).length,
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.listener({ jobId: job.jobId, type: 'error', error: cancelledError });
      await Promise.all(
        [...slots].map(async (slot) => {
          if (slot.forceCancelTimer) clearTimeout(slot.forceCancelTimer);
          slot.cancelRequested = true;
          await slot.worker.terminate();
        }),
      );
    },
  };
}
