// Unit tests of the contract's payload guards: what the engine accepts from a renderer.

import { describe, expect, it } from 'vitest';
import { invokeGuards, isInvokeChannel, jobRequestGuards } from '../../../src-main/shared/index.ts';

const validBenchmark = { device: 'cpu', sizes: [64, 128], repeats: 2 };

describe('invoke guards', () => {
  it('knows every channel by its domain:verb name and nothing else', () => {
    expect(isInvokeChannel('job:start')).toBe(true);
    expect(isInvokeChannel('job:start ')).toBe(false);
    expect(isInvokeChannel('constructor')).toBe(false);
  });

  it('accepts a job start naming a catalogued job', () => {
    expect(invokeGuards['job:start']({ job: 'device:benchmark', request: validBenchmark })).toBe(true);
  });

  it('rejects a job start for an unknown job or with extra fields', () => {
    expect(invokeGuards['job:start']({ job: 'shell:exec', request: {} })).toBe(false);
    expect(invokeGuards['job:start']({ job: 'device:benchmark', request: {}, extra: 1 })).toBe(false);
  });

  it('rejects an oversized job id in a cancel', () => {
    expect(invokeGuards['job:cancel']({ jobId: 'x'.repeat(65) })).toBe(false);
    expect(invokeGuards['job:cancel']({ jobId: 'abc' })).toBe(true);
  });
});

describe('device benchmark request guard', () => {
  const guard = jobRequestGuards['device:benchmark'];

  it('accepts a well-formed request with and without threads', () => {
    expect(guard(validBenchmark)).toBe(true);
    expect(guard({ ...validBenchmark, threads: 2 })).toBe(true);
  });

  it('rejects sizes beyond 4096, empty size lists, unknown devices and fractional repeats', () => {
    expect(guard({ ...validBenchmark, sizes: [8192] })).toBe(false);
    expect(guard({ ...validBenchmark, sizes: [] })).toBe(false);
    expect(guard({ ...validBenchmark, device: 'tpu' })).toBe(false);
    expect(guard({ ...validBenchmark, repeats: 1.5 })).toBe(false);
  });
});

describe('batch detox request guard', () => {
  const guard = jobRequestGuards['detox:batch'];
  const settings = {
    threshold: 1.2,
    alphaBase: 1,
    alphaExpert: 4.25,
    alphaAnti: 1.5,
    temperature: 2.5,
    repetitionPenalty: 1,
    maxLength: 128,
    divergence: 'symmetric-kl',
    indexQuirk: false,
    sampling: null,
  };
  const valid = {
    base: 'demo:bart-base',
    expert: 'demo:bart-expert',
    antiExpert: 'demo:bart-anti-expert',
    inputFolder: '/docs',
    outputFolder: '/docs/clean',
    settings,
    batch: 8,
    device: 'cpu',
  };

  it('accepts a batch of a folder into another folder', () => {
    expect(guard(valid)).toBe(true);
  });

  it('rejects a missing folder, bad settings and unknown fields', () => {
    expect(guard({ ...valid, outputFolder: '' })).toBe(false);
    expect(guard({ ...valid, settings: { ...settings, temperature: 0 } })).toBe(false);
    expect(guard({ ...valid, text: 'x' })).toBe(false);
  });
});
