// Messages between the engine host (serving thread) and its engine workers.

import type { JobEvent } from '../shared/index.ts';

export type HostToWorker =
  { type: 'start'; jobId: string; job: string; request: unknown } | { type: 'cancel'; jobId: string };

export type WorkerToHost = { type: 'ready' } | { type: 'event'; event: JobEvent };

/** workerData of every engine worker. */
export interface EngineWorkerData {
  /** File URLs of extra modules exporting `jobs: Record<string, Job>` (used by tests and plug-ins). */
  extraJobModules: string[];
}
