// Atomic file writes: write a temporary sibling, flush it, then rename over the target, so a crash never leaves a
// half-written result and a reader sees either the old file or the new one.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

/** A temporary sibling unique to this process and thread (two threads of one process may write the same file). */
function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${threadId}.${Date.now()}.tmp`;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicStreamed(path, (write) => write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/** The same, for a file written piece by piece (`produce` calls `write` in order), never held whole in memory. */
export function writeFileAtomicStreamed(path: string, produce: (write: (bytes: Uint8Array) => void) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  try {
    const fd = openSync(temporary, 'w');
    try {
      produce((bytes) => {
        let written = 0;
        while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      });
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** writeFileAtomicStreamed for a producer that awaits between pieces (a job streaming results to disk). */
export async function writeFileAtomicStreamedAsync(
  path: string,
  produce: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  try {
    const file = await openFile(temporary, 'w');
    try {
      await produce(async (bytes) => {
        let written = 0;
        while (written < bytes.length)
          written += (await file.write(bytes, written, bytes.length - written)).bytesWritten;
      });
      await file.sync();
    } finally {
      await file.close();
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
