// Paths into the built app (out/), which integration and e2e tests exercise exactly as users run it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const workerUrl = new URL('../../out/main/engine-worker.js', import.meta.url);
/** The folder of the built worker-thread entries, as the engine worker gives it to jobs (JobContext.workerDir). */
export const workerDir = new URL('../../out/main/', import.meta.url);
export const rendererDir = new URL('../../out/renderer/', import.meta.url);
export const cliPath = fileURLToPath(new URL('../../bin/toxscope.js', import.meta.url));
export const blockingJobsModule = new URL('../fixtures/blocking-jobs.js', import.meta.url).href;

/** Fails the calling test file with the fix, rather than with a confusing module error, when out/ is missing. */
export function requireBuild(): void {
  if (!existsSync(workerUrl) || !existsSync(new URL('index.html', rendererDir))) {
    throw new Error('The app is not built: run `npm run build` (npm test does it first).');
  }
}
