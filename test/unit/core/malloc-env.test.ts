// Unit tests of bin/malloc-env.js: which glibc malloc tunables `toxscope` and `npm start` restart a process with.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepsFreedMemory, mallocEnv } from '../../../bin/malloc-env.js';

const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-thp-'));
/** A stand-in for /sys/kernel/mm/transparent_hugepage/enabled saying `mode`. */
const kernel = (mode: string) => {
  const file = join(folder, mode);
  writeFileSync(file, ['always', 'madvise', 'never'].map((m) => (m === mode ? `[${m}]` : m)).join(' ') + '\n');
  return file;
};
const keep = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1073741824';

describe.runIf(process.platform === 'linux')('mallocEnv', () => {
  it('adds huge pages, after any tunable the user set, where the kernel gives them only on request', () => {
    expect(mallocEnv({ PATH: '/bin' }, { kernelSetting: kernel('madvise') })).toEqual({
      PATH: '/bin',
      GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
    });
    expect(
      mallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, { kernelSetting: kernel('madvise') })?.GLIBC_TUNABLES,
    ).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it('adds no huge pages where they would not help or were said not to', () => {
    expect(mallocEnv({}, { kernelSetting: kernel('always') })).toBeNull();
    expect(mallocEnv({}, { kernelSetting: kernel('never') })).toBeNull();
    expect(mallocEnv({}, { kernelSetting: join(folder, 'no-such-file') })).toBeNull();
    expect(mallocEnv({ TOXSCOPE_HUGE_PAGES: 'off' }, { kernelSetting: kernel('madvise') })).toBeNull();
    expect(mallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, { kernelSetting: kernel('madvise') })).toBeNull();
  });

  it('keeps freed memory in a one-job process only, whatever the kernel does with huge pages', () => {
    expect(mallocEnv({}, { oneJob: true, kernelSetting: kernel('madvise') })?.GLIBC_TUNABLES).toBe(
      `glibc.malloc.hugetlb=1:${keep}`,
    );
    expect(mallocEnv({}, { oneJob: true, kernelSetting: kernel('always') })?.GLIBC_TUNABLES).toBe(keep);
    expect(mallocEnv({}, { oneJob: false, kernelSetting: kernel('always') })).toBeNull();
    expect(keepsFreedMemory(mallocEnv({}, { oneJob: true })!.GLIBC_TUNABLES)).toBe(true);
    expect(keepsFreedMemory(mallocEnv({}, { kernelSetting: kernel('madvise') })!.GLIBC_TUNABLES)).toBe(false);
  });

  it("leaves freed memory to the user's own tunables, or to glibc when told to", () => {
    for (const own of ['glibc.malloc.trim_threshold=0', 'glibc.malloc.mmap_threshold=65536', 'glibc.malloc.mmap_max=4'])
      expect(mallocEnv({ GLIBC_TUNABLES: own }, { oneJob: true, kernelSetting: kernel('always') })).toBeNull();
    const optedOut = { TOXSCOPE_KEEP_FREED_MEMORY: 'off' };
    expect(mallocEnv(optedOut, { oneJob: true, kernelSetting: kernel('always') })).toBeNull();
  });

  it('adds nothing the second time, so a restarted process does not restart again', () => {
    const once = mallocEnv({}, { oneJob: true, kernelSetting: kernel('madvise') })!;
    expect(mallocEnv(once, { oneJob: true, kernelSetting: kernel('madvise') })).toBeNull();
  });
});
