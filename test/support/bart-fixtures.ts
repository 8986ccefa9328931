// The tiny byte-level BART base, expert and anti-expert written by test/reference/*.py, copied into temporary folders.

import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function tinyBartFixture(name: 'bart-tiny' | 'bart-tiny-expert' | 'bart-tiny-anti'): string {
  const folder = mkdtempSync(join(os.tmpdir(), `toxscope-${name}-`));
  cpSync(fileURLToPath(new URL(`../fixtures/${name}/`, import.meta.url)), folder, { recursive: true });
  return folder;
}
