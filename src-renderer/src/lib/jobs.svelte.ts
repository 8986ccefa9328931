// Reactive state of the jobs this window started: status, progress, streamed frames, result or error.
// Components read it and call start/cancel; the job event stream from the engine updates it.

import type { AppError, JobEvent, JobName, JobProgress, JobRequest } from '../../../src-main/shared/index.ts';
import { api } from './api.ts';

export type JobStatus = 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

export class JobState {
  readonly jobId: string;
  readonly job: JobName;
  readonly startedAt = Date.now();
  /** Lifecycle of the job as last reported by the engine. */
  status = $state<JobStatus>('running');
  /** Latest progress report, null before the first. */
  progress = $state<JobProgress | null>(null);
  /** Partial results in arrival order. */
  frames = $state<unknown[]>([]);
  /** The final result, once status is 'done'. */
  result = $state<unknown>(null);
  /** The error, once status is 'failed' or 'cancelled'. */
  error = $state<AppError | null>(null);
  /** When the terminal event arrived (ms since epoch), null while running. */
  finishedAt = $state<number | null>(null);

  constructor(jobId: string, job: JobName) {
    this.jobId = jobId;
    this.job = job;
  }

  get finished(): boolean {
    return this.status === 'done' || this.status === 'failed' || this.status === 'cancelled';
  }
}

class JobList {
  /** Every job of this session, newest first. */
  all = $state<JobState[]>([]);
  /** An error from starting a job (the request was refused before it ran). */
  startError = $state<AppError | null>(null);

  /** Events that arrived before startJob's reply named their job (transports do not order the two). */
  #early = new Map<string, JobEvent[]>();

  constructor() {
    api.onJobEvent((event) => {
      const job = this.all.find((candidate) => candidate.jobId === event.jobId);
      if (job) this.#apply(job, event);
      else this.#early.set(event.jobId, [...(this.#early.get(event.jobId) ?? []), event]);
    });
  }

  #apply(job: JobState, event: JobEvent): void {
    if (event.type === 'progress') job.progress = event.progress;
    else if (event.type === 'frame') job.frames.push(event.frame);
    else if (event.type === 'result') {
      job.result = event.result;
      job.status = 'done';
      job.finishedAt = Date.now();
    } else {
      job.error = event.error;
      job.status = event.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
      job.finishedAt = Date.now();
    }
  }

  async start<N extends JobName>(job: N, request: JobRequest<N>): Promise<JobState | null> {
    this.startError = null;
    // A plain copy: requests built from $state are proxies, which Electron's IPC cannot clone.
    const started = await api.startJob(job, $state.snapshot(request) as JobRequest<N>);
    if (!started.ok) {
      this.startError = started.error;
      return null;
    }
    const state = new JobState(started.value.jobId, job);
    this.all.unshift(state);
    for (const event of this.#early.get(state.jobId) ?? []) this.#apply(state, event);
    this.#early.delete(state.jobId);
    return state;
  }

  async cancel(job: JobState): Promise<void> {
    await api.cancelJob(job.jobId);
  }

  clearFinished(): void {
    this.all = this.all.filter((job) => !job.finished);
  }
}

/** The window's job list. */
export const jobs = new JobList();
