// Small JSON documents ToxScope keeps for the user between starts (remembered settings, the detox review being
// worked on), one file per key under the user data folder, written atomically so a crash keeps the previous copy.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { raise, type StoreKey } from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';

function storePath(dataDir: string, key: StoreKey): string {
  return join(dataDir, 'store', `${key}.json`);
}

/** The stored value, or null when nothing was stored under `key` yet. */
export function readUserStore(dataDir: string, key: StoreKey): unknown {
  const path = storePath(dataDir, key);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    raise(
      'INPUT_INVALID',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'Move the file aside to start afresh; ToxScope will write a new one.',
    );
  }
}

/** Replaces the value under `key` (null removes nothing: it stores null, which reads back as "nothing stored"). */
export function writeUserStore(dataDir: string, key: StoreKey, value: unknown): void {
  writeFileAtomic(storePath(dataDir, key), `${JSON.stringify(value)}\n`);
}
