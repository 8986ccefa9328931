// Reactive state of the jobs this window started: status, progress, streamed frames, result or error.
// Components read it and call start/cancel; the job event stream from the engine updates it.

import {
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
import { jobTitle } from './job-titles.ts';

/** Quick bookkeeping jobs the renderer runs for itself; the job panel does not list them. */
const backgroundJobs: readonly JobName[] = [
  'model:catalogue',
  'app:doctor',
  'results:list',
  'results:open',
  'results:rename',
  'results:delete',
  'results:export',
  'results:generations',
];

export type JobStatus = 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

export class JobState {
  readonly jobId: string;
  readonly job: JobName;
  /** What the job panel calls it (jobTitle). */
  readonly title: string;
  /** When it was asked for (ms since epoch): before the engine's reply, so no event can predate it. */
  readonly startedAt: number;
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

  constructor(jobId: string, job: JobName, title: string, startedAt: number) {
    this.jobId = jobId;
    this.job = job;
    this.title = title;
    this.startedAt = startedAt;
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

  /** Callers waiting for a job to finish, by job id. */
  #waiting = new Map<string, (() => void)[]>();
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
      for (const resolve of this.#waiting.get(job.jobId) ?? []) resolve();
      this.#waiting.delete(job.jobId);
    }
  }

  /** Starts a job; on refusal the error is kept in `startError` for the page to show. */
  async start<N extends JobName>(job: N, request: JobRequest<N>): Promise<JobState | null> {
    this.startError = null;
    const begun = await this.#begin(job, request);
    if (begun instanceof JobState) return begun;
    this.startError = begun;
    return null;
  }

  /**
   * Runs a job to its end: its result, or its error (a refusal to start included; `startError` is left alone). A
   * background job is dropped from the list once it ends, so large results (a neuron table, a zip) are not kept.
   */
  async run<N extends JobName>(job: N, request: JobRequest<N>): Promise<Result<JobResult<N>>> {
    const begun = await this.#begin(job, request);
    if (!(begun instanceof JobState)) return fail(begun);
    await this.settled(begun);
    if (backgroundJobs.includes(job)) this.all = this.all.filter((state) => state !== begun);
    return begun.error ? fail(begun.error) : ok(begun.result as JobResult<N>);
  }

  async #begin<N extends JobName>(job: N, request: JobRequest<N>): Promise<JobState | AppError> {
    // A plain copy: requests built from $state are proxies, which Electron's IPC cannot clone.
    const plain = $state.snapshot(request) as JobRequest<N>;
    const askedAt = Date.now();
    const started = await api.startJob(job, plain);
    if (!started.ok) return started.error;
    const state = new JobState(started.value.jobId, job, jobTitle(job, plain), askedAt);
    this.all.unshift(state);
    for (const event of this.#early.get(state.jobId) ?? []) this.#apply(state, event);
    this.#early.delete(state.jobId);
    return state;
  }

  /** Resolves when the job has finished (at once if it has). */
  settled(state: JobState): Promise<void> {
    if (state.finished) return Promise.resolve();
    return new Promise<void>((resolve) =>
      this.#waiting.set(state.jobId, [...(this.#waiting.get(state.jobId) ?? []), resolve]),
    );
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
