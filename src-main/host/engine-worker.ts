// Engine worker entry: runs jobs on its own thread so onnxruntime's blocking run() never stalls the serving loop.
// Each job gets an AbortController; the host's cancel message aborts it.

import { parentPort, workerData } from 'node:worker_threads';
import { jobRegistry } from '../core/jobs/registry.ts';
import type { Job } from '../core/jobs/job.ts';
import { appError, toAppError, type JobEvent } from '../shared/index.ts';
import type { EngineWorkerData, HostToWorker, WorkerToHost } from './protocol.ts';

type AnyJob = Job<unknown, unknown, unknown>;

if (!parentPort) throw new Error('engine-worker.ts must run as a worker thread');
const port = parentPort;
const { extraJobModules } = workerData as EngineWorkerData;

const jobs = new Map<string, AnyJob>(Object.entries(jobRegistry) as [string, AnyJob][]);
for (const moduleUrl of extraJobModules) {
  const loaded = (await import(moduleUrl)) as { jobs: Record<string, AnyJob> };
  for (const [name, job] of Object.entries(loaded.jobs)) jobs.set(name, job);
}

const running = new Map<string, AbortController>();

function send(event: JobEvent): void {
  port.postMessage({ type: 'event', event } satisfies WorkerToHost);
}

async function runJob(jobId: string, name: string, request: unknown): Promise<void> {
  const job = jobs.get(name);
  if (!job) {
    send({ jobId, type: 'error', error: appError('UNKNOWN_JOB', `No job named "${name}".`, 'Update ToxScope.') });
    return;
  }
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    const result = await job(request, {
      signal: controller.signal,
      progress: (progress) => send({ jobId, type: 'progress', progress }),
      frame: (frame) => send({ jobId, type: 'frame', frame }),
      workerDir: new URL('./', import.meta.url),
    });
    send({ jobId, type: 'result', result });
  } catch (thrown) {
    send({ jobId, type: 'error', error: toAppError(thrown) });
  } finally {
    running.delete(jobId);
  }
}

port.on('message', (message: HostToWorker) => {
  if (message.type === 'start') void runJob(message.jobId, message.job, message.request);
  else running.get(message.jobId)?.abort();
});

port.postMessage({ type: 'ready' } satisfies WorkerToHost);
