// The detox review being worked on, as reactive state: starts runs and single-sentence re-runs, folds their events
// into the review (pure functions in detox-review.ts), and autosaves it to the user data folder after every change.

import type {
  AppError,
  DetoxFrame,
  DetoxGateSettings,
  DetoxRequest,
  DetoxResult,
  DetoxSettings,
  JobEvent,
} from '../../../src-main/shared/index.ts';
import { api } from './api.ts';
import {
  addFrame,
  applyRerun,
  combineRerun,
  restoreReview,
  setRun,
  startReview,
  type DetoxReview,
} from './detox-review.ts';
import { jobs, type JobState } from './jobs.svelte.ts';
import { settings as appSettings } from './settings.svelte.ts';

/** Autosave waits this long after a change, so a burst of clicks is one write. */
const saveDelayMs = 250;
/**
 * A long review waits for a pause instead: writing thousands of sentences takes the page a noticeable moment
 * (3,600 sentences, 4.4 MB: about half a second on a busy 2-core machine), which must not land between two key
 * presses of a reviewer going through the edits.
 */
const longReviewSentences = 500;
const longReviewSaveDelayMs = 2000;

export type SaveStatus = 'idle' | 'saving' | 'saved' | 'failed';

class DetoxReviewState {
  /** The review on screen; null before one is started or restored. */
  review = $state.raw<DetoxReview | null>(null);
  /** Whether the stored review has been read (the page waits for it before offering a new one). */
  loaded = $state(false);
  /** The stored copy's state: 'saved' once the latest change is on disk. */
  saveStatus = $state<SaveStatus>('idle');
  /** Why the last autosave or restore failed. */
  storeError = $state<AppError | null>(null);
  /** The whole-document run in progress (or last finished). */
  run = $state<JobState | null>(null);
  /** Single-sentence re-runs by sentence id, and their errors. */
  reruns = $state<Record<number, JobState>>({});

  #saveTimer: ReturnType<typeof setTimeout> | null = null;

  async load(): Promise<void> {
    if (this.loaded) return;
    const stored = await api.readStore('detox-review');
    if (!stored.ok) this.storeError = stored.error;
    else if (stored.value.value !== null) {
      const review = restoreReview(stored.value.value);
      if (review) {
        this.review = review;
        this.saveStatus = 'saved';
      } else
        this.storeError = {
          code: 'INPUT_INVALID',
          message: 'The saved review could not be read (it was written by another version or damaged).',
          hint: 'Start a new review; the next autosave replaces the saved one.',
        };
    }
    this.loaded = true;
  }

  /** Replaces the review and schedules the autosave. */
  update(review: DetoxReview | null): void {
    this.review = review;
    this.saveStatus = 'saving';
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    const delay = (review?.sentences.length ?? 0) > longReviewSentences ? longReviewSaveDelayMs : saveDelayMs;
    this.#saveTimer = setTimeout(() => void this.#save(), delay);
  }

  async #save(): Promise<void> {
    this.#saveTimer = null;
    const written = await api.writeStore('detox-review', this.review);
    if (this.#saveTimer) return; // a newer change is waiting to be written
    if (written.ok) {
      this.saveStatus = 'saved';
      this.storeError = null;
    } else {
      this.saveStatus = 'failed';
      this.storeError = written.error;
    }
  }

  /** Starts a run of the whole document; the review fills in as sentences finish. */
  async start(options: {
    source: DetoxReview['source'];
    models: DetoxReview['models'];
    preset: DetoxReview['preset'];
    settings: DetoxSettings;
    /** The toxicity gate; null = off (MaRCo rewrites every sentence). */
    gate: DetoxGateSettings | null;
  }): Promise<void> {
    const request: DetoxRequest = {
      ...options.models,
      text: options.source.text,
      settings: options.settings,
      batch: 1, // one sentence at a time: progress and cancel per sentence
      device: appSettings.device,
      gate: options.gate,
    };
    // The new review shows at once, so nothing on the page reports the previous run's status meanwhile; re-runs
    // of the old review's sentences are cancelled.
    for (const rerun of Object.values(this.reruns)) if (!rerun.finished) void jobs.cancel(rerun);
    this.reruns = {};
    this.update(startReview({ ...options, startedAt: new Date().toISOString() }));
    await this.#runDocument(request);
  }

  /**
   * Detoxes the sentences a cancelled or failed run did not reach, with the review's own models and settings; the
   * sentences already there, and every decision on them, stay as they are.
   */
  async continueRun(): Promise<void> {
    const review = this.review;
    if (!review || review.run.status === 'running' || review.run.status === 'done') return;
    this.update(setRun(review, { status: 'running', message: null }));
    await this.#runDocument({
      ...review.models,
      text: review.source.text,
      settings: review.settings,
      batch: 1,
      device: appSettings.device,
      gate: review.gate ?? null,
      skipSentences: review.sentences.map((sentence) => sentence.text),
    });
  }

  /** Runs a detox job for the current review and folds its frames into it as they arrive. */
  async #runDocument(request: DetoxRequest): Promise<void> {
    const run = await jobs.start('detox:run', request);
    if (!run) {
      const message = jobs.startError?.message ?? 'The run did not start.';
      if (this.review) this.update(setRun(this.review, { status: 'failed', message }));
      return;
    }
    this.run = run;
    let processed = 0;
    this.#follow(run, (job) => {
      if (job !== this.run || !this.review) return;
      let review = this.review;
      for (const frame of job.frames.slice(processed)) review = addFrame(review, $state.snapshot(frame) as DetoxFrame);
      processed = job.frames.length;
      const message = job.error?.message ?? null;
      if (job.status === 'done') {
        const classifierSha256 = (job.result as DetoxResult | null)?.gate?.sha256 ?? review.classifierSha256 ?? null;
        review = setRun({ ...review, classifierSha256 }, { status: 'done', message: null });
      } else if (job.status === 'cancelled' || job.status === 'failed')
        review = setRun(review, { status: job.status, message });
      this.update(review);
    });
  }

  async cancel(): Promise<void> {
    if (this.run && !this.run.finished) await jobs.cancel(this.run);
  }

  /**
   * Re-runs one sentence alone with other settings, under the review's gate (so a re-run never makes it worse either);
   * its new rewrite replaces the old one (undo brings it back).
   */
  async rerun(id: number, settings: DetoxSettings): Promise<void> {
    const review = this.review;
    const sentence = review?.sentences[id];
    if (!review || !sentence) return;
    const run = await jobs.start('detox:run', {
      ...review.models,
      text: sentence.text,
      settings,
      batch: 1,
      device: appSettings.device,
      gate: review.gate ?? null,
    });
    if (!run) return;
    this.reruns = { ...this.reruns, [id]: run };
    this.#follow(run, (job) => {
      // A new document (start) or a newer re-run of this sentence replaced this one: its result no longer applies.
      if (job.status !== 'done' || !this.review || this.reruns[id] !== run) return;
      const combined = combineRerun(sentence.text, $state.snapshot(job.frames) as DetoxFrame[]);
      this.update(applyRerun(this.review, id, { ...combined, settings }));
    });
  }

  /** Calls `onEvent` now (events may have arrived before the job was known) and on each later event of the job. */
  #follow(job: JobState, onEvent: (job: JobState) => void): void {
    let frames = 0;
    const handle = () => {
      if (job.frames.length === frames && !job.finished) return;
      frames = job.frames.length;
      onEvent(job);
      if (job.finished) unsubscribe();
    };
    const unsubscribe = api.onJobEvent((event: JobEvent) => {
      if (event.jobId === job.jobId) handle();
    });
    handle();
  }
}

/** The window's detox review. */
export const detoxReview = new DetoxReviewState();
