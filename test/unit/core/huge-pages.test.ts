// Unit tests of bin/huge-pages.js: when `toxscope` restarts itself with glibc's malloc on transparent huge pages.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hugePagesEnv } from '../../../bin/huge-pages.js';

const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-thp-'));
/** A stand-in for /sys/kernel/mm/transparent_hugepage/enabled saying `mode`. */
const kernel = (mode: string) => {
  const file = join(folder, mode);
  writeFileSync(file, ['always', 'madvise', 'never'].map((m) => (m === mode ? `[${m}]` : m)).join(' ') + '\n');
  return file;
};

describe.runIf(process.platform === 'linux')('hugePagesEnv', () => {
  it('adds the tunable, after any the user set, where the kernel gives huge pages only on request', () => {
    expect(hugePagesEnv({ PATH: '/bin' }, kernel('madvise'))).toEqual({
      PATH: '/bin',
      GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
    });
    expect(hugePagesEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, kernel('madvise'))?.GLIBC_TUNABLES).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1',
    );
  });

  it('changes nothing where it would not help or was said not to', () => {
    expect(hugePagesEnv({}, kernel('always'))).toBeNull();
    expect(hugePagesEnv({}, kernel('never'))).toBeNull();
    expect(hugePagesEnv({}, join(folder, 'no-such-file'))).toBeNull();
    expect(hugePagesEnv({ TOXSCOPE_HUGE_PAGES: 'off' }, kernel('madvise'))).toBeNull();
    expect(hugePagesEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, kernel('madvise'))).toBeNull();
  });
});
