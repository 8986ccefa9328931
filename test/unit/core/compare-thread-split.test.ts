// How compare shares the intra-op threads between its two models (threadSplit): side by side on the CPU, in turns
// elsewhere or with a single thread.

import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { threadSplit } from '../../../src-main/core/interp/compare-job.ts';
import type { DeviceReport } from '../../../src-main/shared/index.ts';

const cpu: DeviceReport = { requested: 'cpu', used: 'cpu', note: '' };
const webgpu: DeviceReport = { requested: 'webgpu', used: 'webgpu', note: '' };

describe('threadSplit', () => {
  it('runs the models side by side on the CPU, each on half the threads (rounded down)', () => {
    expect(threadSplit(cpu, 2)).toEqual({ sideBySide: true, threads: 1 });
    expect(threadSplit(cpu, 8)).toEqual({ sideBySide: true, threads: 4 });
    expect(threadSplit(cpu, 5)).toEqual({ sideBySide: true, threads: 2 });
  });

  it('splits the logical cores when --threads is not given', () => {
    const cores = os.availableParallelism();
    expect(threadSplit(cpu)).toEqual(
      cores >= 2 ? { sideBySide: true, threads: Math.floor(cores / 2) } : { sideBySide: false },
    );
  });

  it('runs them in turns with one thread, and on a GPU with the threads asked for', () => {
    expect(threadSplit(cpu, 1)).toEqual({ sideBySide: false, threads: 1 });
    expect(threadSplit(webgpu, 8)).toEqual({ sideBySide: false, threads: 8 });
    expect(threadSplit(webgpu)).toEqual({ sideBySide: false, threads: undefined });
  });
});
