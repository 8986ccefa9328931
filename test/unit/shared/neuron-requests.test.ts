// The neuron close-up's request as every front door checks it: the optional run to scan for top-activating examples,
// and the continuations view's request for a run's generations.

import { describe, expect, it } from 'vitest';
import { jobRequestGuards } from '../../../src-main/shared/index.ts';

const request = {
  base: 'demo:gpt2-base',
  dpo: 'demo:gpt2-dpo',
  layer: 3,
  neuron: 17,
  prompt: 'hi',
  prependBos: true,
  topTokens: 8,
  device: 'cpu',
};
const run = { folder: '/results/compare-1', maxPromptTokens: 32, top: 5, limit: 200 };

describe('neuron close-up requests', () => {
  const guard = jobRequestGuards['interp:neuron'];

  it('accepts a request with or without a run to scan', () => {
    expect(guard(request)).toBe(true);
    expect(guard({ ...request, run })).toBe(true);
  });

  it('refuses a scan without a folder, with too many examples or prompts, or with keys it does not know', () => {
    expect(guard({ ...request, run: { ...run, folder: '' } })).toBe(false);
    expect(guard({ ...request, run: { ...run, top: 51 } })).toBe(false);
    expect(guard({ ...request, run: { ...run, limit: 10_001 } })).toBe(false);
    expect(guard({ ...request, run: { ...run, maxPromptTokens: 0 } })).toBe(false);
    expect(guard({ ...request, run: { ...run, extra: 1 } })).toBe(false);
    expect(guard({ ...request, run: '/results/compare-1' })).toBe(false);
  });

  it("takes a run's folder for its generations and nothing else", () => {
    const generations = jobRequestGuards['results:generations'];
    expect(generations({ path: '/results/compare-1' })).toBe(true);
    expect(generations({ path: '' })).toBe(false);
    expect(generations({ path: '/r', more: 1 })).toBe(false);
  });
});
