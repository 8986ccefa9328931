// Weights fingerprints: sha256 over the checkpoint's files, cached by path, size and mtime in the user data folder
// so a 1.4 GB checkpoint is hashed once, not on every load.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { userDataDir } from '../app-paths.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

function cachePath(): string {
  return join(userDataDir(), 'fingerprints.json');
}

function readCache(): Record<string, CacheEntry> {
  try {
    return existsSync(cachePath()) ? (JSON.parse(readFileSync(cachePath(), 'utf8')) as Record<string, CacheEntry>) : {};
  } catch {
    return {}; // a damaged cache only costs a re-hash
  }
}

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(path, 'r');
  try {
    let read: number;
    while ((read = readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 of one file, from the cache when its size and mtime are unchanged. */
export function fingerprintFile(path: string): string {
  const stat = statSync(path);
  const cache = readCache();
  const cached = cache[path];
  if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.sha256;
  const sha256 = sha256File(path);
  try {
    writeFileAtomic(
      cachePath(),
      JSON.stringify({ ...readCache(), [path]: { size: stat.size, mtimeMs: stat.mtimeMs, sha256 } }),
    );
  } catch {
    // A read-only data folder only costs re-hashing next time.
  }
  return sha256;
}

/** One sha256 for a checkpoint of one or more files (a single file's own hash; shards hashed in order). */
export function fingerprintFiles(paths: string[]): string {
  if (paths.length === 1) return fingerprintFile(paths[0]!);
  const hash = createHash('sha256');
  for (const path of paths) hash.update(fingerprintFile(path));
  return hash.digest('hex');
}
