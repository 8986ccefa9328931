// Reactive state of the jobs this window started: status, progress, streamed frames, result or error.
// Components read it and call start/cancel; the job event stream from the engine updates it.

import {
  appError,
  backgroundJobs,
  fail,
  ok,
  type AppError,
  type JobEvent,
  type JobName,
  type JobProgress,
  type JobRequest,
  type JobResult,
  type Result,
} from '../../../src-main/shared/index.ts';
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
  /**
   * Partial results in arrival order. Raw state: frames and results are read-only snapshots, and a deep proxy over a
   * result such as 98,304 neurons' columns would make every read of it slow.
   */
  frames = $state.raw<unknown[]>([]);
  /** The final result, once status is 'done'. */
  result = $state.raw<unknown>(null);
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
  /** The jobs people started, for the job panel (quick bookkeeping jobs such as listing results are left out). */
  visible = $derived(this.all.filter((job) => !backgroundJobs.includes(job.job)));
  /** An error from starting a job (the request was refused before it ran). */
  startError = $state<AppError | null>(null);

  /** Callers of `run` waiting for a job to finish. */
  #waiting = new Map<string, () => void>();
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
    else if (event.type === 'frame') job.frames = [...job.frames, event.frame];
    else if (event.type === 'result') {
      job.result = event.result;
      job.status = 'done';
      job.finishedAt = Date.now();
    } else {
      job.error = event.error;
      job.status = event.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
      job.finishedAt = Date.now();
    }
    if (job.finished) {
      this.#waiting.get(job.jobId)?.();
      this.#waiting.delete(job.jobId);
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

  /** Runs a job to its end: its result, or its error (a refusal to start included). */
  async run<N extends JobName>(job: N, request: JobRequest<N>): Promise<Result<JobResult<N>>> {
    const state = await this.start(job, request);
    if (!state) return fail(this.startError ?? appError('INTERNAL', `${job} did not start.`, 'Try again.'));
    await this.settled(state);
    return state.error ? fail(state.error) : ok(state.result as JobResult<N>);
  }

  /** Resolves when the job has finished (at once if it has). */
  settled(state: JobState): Promise<void> {
    if (state.finished) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiting.set(state.jobId, resolve));
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
