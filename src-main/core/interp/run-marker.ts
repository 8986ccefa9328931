// The marker a compare run keeps in its `.partial/` folder while it writes there: which process owns the folder and
// when it last finished a batch. A second run into the same folder is refused while the marker is live, and the
// results history shows the run as running instead of offering to resume or delete it. A run that fails leaves
// `failed.json` (its error) beside it, so the history can say why the run stopped.

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { raise, type AppError } from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';

const markerName = 'running.json';
/** A marker not touched for this long belongs to a run that died without removing it. */
const staleAfterMs = 10 * 60 * 1000;

interface RunMarker {
  pid: number;
  token: string;
  heartbeat: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** The live marker in a `.partial/` folder, or null when no run is writing there. */
export function liveRunMarker(partialDir: string): { pid: number; heartbeat: number } | null {
  const path = join(partialDir, markerName);
  if (!existsSync(path)) return null;
  try {
    const marker = JSON.parse(readFileSync(path, 'utf8')) as RunMarker;
    const fresh = Date.now() - marker.heartbeat < staleAfterMs;
    return fresh && processAlive(marker.pid) ? { pid: marker.pid, heartbeat: marker.heartbeat } : null;
  } catch {
    return null; // a half-written or damaged marker claims nothing
  }
}

/** The file in `.partial/` that holds the error a run stopped with (removed when a run starts there again). */
export const failedRunFile = 'failed.json';

/** Records why a run stopped; a failure to write it must not hide the error itself. */
export function recordRunFailure(partialDir: string, error: AppError): void {
  try {
    writeFileAtomic(join(partialDir, failedRunFile), JSON.stringify({ ...error, at: new Date().toISOString() }) + '\n');
  } catch {
    // the folder is gone or read-only: the error still reaches the user
  }
}

/** Refuses to touch a folder another live run is writing to. */
export function assertNoLiveRun(partialDir: string, folder: string): void {
  const live = liveRunMarker(partialDir);
  if (live)
    raise(
      'INPUT_INVALID',
      `Another compare run (process ${live.pid}) is writing to ${folder}.`,
      'Wait for it to finish or cancel it, or choose another output folder.',
    );
}

/** This run's claim on a `.partial/` folder; touch it after each batch, release it when the run ends in any way. */
export class RunClaim {
  readonly #path: string;
  readonly #token = randomUUID();

  constructor(partialDir: string) {
    this.#path = join(partialDir, markerName);
    this.touch();
  }

  touch(): void {
    const marker: RunMarker = { pid: process.pid, token: this.#token, heartbeat: Date.now() };
    writeFileAtomic(this.#path, JSON.stringify(marker));
  }

  /** Removes the marker if it is still this run's. */
  release(): void {
    try {
      const marker = JSON.parse(readFileSync(this.#path, 'utf8')) as RunMarker;
      if (marker.token === this.#token) rmSync(this.#path, { force: true });
    } catch {
      // already gone (the finished run removed its whole .partial folder)
    }
  }
}
