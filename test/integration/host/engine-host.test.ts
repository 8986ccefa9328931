// Integration tests of the engine host: real worker threads, real jobs, queueing, cancellation and crashes.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src-main/host/engine-host.ts';
import type { JobEvent } from '../../../src-main/shared/index.ts';
import { blockingJobsModule, requireBuild, workerUrl } from '../../support/built-app.ts';

let host: EngineHost | null = null;

beforeAll(requireBuild);
afterEach(async () => {
  await host?.close();
  host = null;
});

function openHost(options: { concurrency?: number; cancelGraceMs?: number } = {}): EngineHost {
  host = createEngineHost({ workerUrl, extraJobModules: [blockingJobsModule], ...options });
  return host;
}

/** Starts a job and collects its events until the terminal one. */
function run(engine: EngineHost, job: string, request: unknown) {
  const events: JobEvent[] = [];
  let jobId = '';
  const finished = new Promise<JobEvent>((resolve) => {
    const started = engine.start(job, request, (event) => {
      events.push(event);
      if (event.type === 'result' || event.type === 'error') resolve(event);
    });
    if (!started.ok) throw new Error(`start refused: ${started.error.message}`);
    jobId = started.value;
  });
  return { jobId, events, finished };
}

describe('engine host', () => {
  it('streams progress and frames of a real job, then exactly one result', async () => {
    const engine = openHost();
    const job = run(engine, 'device:benchmark', { device: 'cpu', sizes: [16, 32], repeats: 1 });
    const terminal = await job.finished;
    expect(terminal.type).toBe('result');
    expect(job.events.filter((event) => event.type === 'frame')).toHaveLength(2);
    expect(job.events.filter((event) => event.type === 'progress').length).toBeGreaterThanOrEqual(4);
    expect(job.events.filter((event) => event.type === 'result' || event.type === 'error')).toHaveLength(1);
    expect(engine.activeJobCount()).toBe(0);
  });

  it('queues beyond the concurrency limit and cancels a queued job before it runs', async () => {
    const engine = openHost({ concurrency: 1 });
    const first = run(engine, 'test:tick', { steps: 20 });
    const second = run(engine, 'test:tick', { steps: 1 });
    expect(engine.activeJobCount()).toBe(2);
    expect(engine.cancel(second.jobId)).toBe(true);
    expect((await second.finished).type).toBe('error');
    expect(second.events).toEqual([
      expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'CANCELLED' }) }),
    ]);
    expect((await first.finished).type).toBe('result');
  });

  it('cancels a running job cooperatively between its steps', async () => {
    const engine = openHost();
    const job = run(engine, 'test:tick', { steps: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(engine.cancel(job.jobId)).toBe(true);
    const terminal = await job.finished;
    expect(terminal).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(job.events.filter((event) => event.type === 'progress').length).toBeLessThan(1000);
  });

  it('terminates a worker whose job ignores cancel, then runs the next job on a fresh worker', async () => {
    const engine = openHost({ cancelGraceMs: 200 });
    const stuck = run(engine, 'test:block', { ms: 5000 });
    const next = run(engine, 'test:tick', { steps: 2 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelledAt = Date.now();
    engine.cancel(stuck.jobId);
    expect(await stuck.finished).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect((await next.finished).type).toBe('result');
  });

  it('reports an unknown job as an error value, not a crash', async () => {
    const engine = openHost();
    expect(await run(engine, 'no:such-job', {}).finished).toMatchObject({
      type: 'error',
      error: { code: 'UNKNOWN_JOB' },
    });
  });

  it('refuses a malformed request for a catalogued job before queueing it', () => {
    const engine = openHost();
    const started = engine.start('device:benchmark', { device: 'cpu', sizes: [0], repeats: 1 }, () => undefined);
    expect(started).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', hint: expect.stringMatching(/sizes/) },
    });
    expect(engine.activeJobCount()).toBe(0);
  });

  it('turns an exception thrown by a job into an AppError and keeps serving', async () => {
    const engine = openHost();
    const failed = await run(engine, 'test:throw', { message: 'tensor 3 is bad' }).finished;
    expect(failed).toMatchObject({
      type: 'error',
      error: { code: 'INTERNAL', message: expect.stringMatching(/tensor 3 is bad/) },
    });
    expect((await run(engine, 'test:tick', { steps: 1 }).finished).type).toBe('result');
  });

  it('cancels queued and running jobs on close and leaves nothing active', async () => {
    const engine = openHost();
    const running = run(engine, 'test:tick', { steps: 1000 });
    const queued = run(engine, 'test:tick', { steps: 1 });
    await engine.close();
    expect(await running.finished).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(await queued.finished).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(engine.activeJobCount()).toBe(0);
  });
});
