// Reactive state of the jobs this window started: status, progress, streamed frames, result or error.
// Components read it and call start/cancel; the job event stream from the engine updates it. The finished jobs of the
// job panel are kept in localStorage, so its history survives a reload.

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

/** localStorage key of the job panel's finished jobs (the newest historyLength), listed again after a reload. */
const historyKey = 'toxscope.jobHistory';
const historyLength = 30;
/** localStorage key of whether the job panel is folded. */
const panelCollapsedKey = 'toxscope.jobPanelCollapsed';
/** Jobs a page starts by itself on every visit (inspecting the listed models): shown, but not kept as history. */
const unrecordedJobs: readonly JobName[] = ['model:inspect', 'classifier:inspect', 'interp:neuron'];

/** A finished job as the history keeps it: what the panel shows, without its frames or result. */
interface StoredJob {
  jobId: string;
  job: JobName;
  title: string;
  startedAt: number;
  finishedAt: number;
  status: 'done' | 'failed' | 'cancelled';
  progress: JobProgress | null;
  error: AppError | null;
}

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

  static fromStored(stored: StoredJob): JobState {
    const state = new JobState(stored.jobId, stored.job, stored.title, stored.startedAt);
    state.status = stored.status;
    state.progress = stored.progress;
    state.error = stored.error;
    state.finishedAt = stored.finishedAt;
    return state;
  }

  toStored(): StoredJob | null {
    if (this.status !== 'done' && this.status !== 'failed' && this.status !== 'cancelled') return null;
    const { jobId, job, title, startedAt, status, progress, error } = this;
    return { jobId, job, title, startedAt, finishedAt: this.finishedAt ?? startedAt, status, progress, error };
  }
}

/** The stored history, or none when it is missing or was written by something else. */
function readHistory(): JobState[] {
  try {
    const stored = JSON.parse(localStorage.getItem(historyKey) ?? '[]') as unknown;
    if (!Array.isArray(stored)) return [];
    return stored
      .filter(
        (item): item is StoredJob =>
          typeof item === 'object' &&
          item !== null &&
          typeof item.jobId === 'string' &&
          typeof item.title === 'string' &&
          typeof item.startedAt === 'number' &&
          ['done', 'failed', 'cancelled'].includes(item.status),
      )
      .map((item) => JobState.fromStored(item));
  } catch {
    return [];
  }
}

class JobList {
  /** Every job of this session, newest first, then the finished ones of earlier page loads. */
  all = $state<JobState[]>(readHistory());
  /** The jobs people started, for the job panel (quick bookkeeping jobs such as listing results are left out). */
  visible = $derived(this.all.filter((job) => !backgroundJobs.includes(job.job)));
  /** An error from starting a job (the request was refused before it ran). */
  startError = $state<AppError | null>(null);
  /** The job panel is folded to one line (remembered in localStorage). */
  panelCollapsed = $state(localStorage.getItem(panelCollapsedKey) === '1');

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
      if (!backgroundJobs.includes(job.job)) this.#saveHistory();
    }
  }

  #saveHistory(): void {
    const finished = this.visible
      .filter((job) => !unrecordedJobs.includes(job.job))
      .flatMap((job) => job.toStored() ?? [])
      .slice(0, historyLength);
    try {
      localStorage.setItem(historyKey, JSON.stringify(finished));
    } catch {
      // A full or disabled localStorage costs only the history.
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

  togglePanel(): void {
    this.panelCollapsed = !this.panelCollapsed;
    localStorage.setItem(panelCollapsedKey, this.panelCollapsed ? '1' : '0');
  }

  clearFinished(): void {
    this.all = this.all.filter((job) => !job.finished);
    this.#saveHistory();
  }
}

/** The window's job list. */
export const jobs = new JobList();
