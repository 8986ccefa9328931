// The contract's guards for the classifier fields of compare and intervene requests (issue 15 §3): optional, a
// non-empty reference, and a tokenizer only beside a classifier.

import { describe, expect, it } from 'vitest';
import { jobRequestGuards } from '../../../src-main/shared/index.ts';

const promptRun = {
  probe: '/data/probe.json',
  prompts: '/data/prompts.jsonl',
  maxNewTokens: 20,
  maxPromptTokens: 32,
  batch: 8,
  prependBos: true,
  out: '/results/run',
  device: 'cpu',
};
const compare = { ...promptRun, base: 'demo:gpt2-base', dpo: 'demo:gpt2-dpo', weightProcessing: 'none' };
const intervene = { ...promptRun, model: 'demo:gpt2-base', intervention: 'ablate:top=8' };

describe.each([
  ['interp:compare', compare],
  ['interp:intervene', intervene],
] as const)('%s request guard: classifier fields', (job, valid) => {
  const guard = jobRequestGuards[job];

  it('accepts a request without a classifier, with one, and with one and its tokenizer', () => {
    expect(guard(valid)).toBe(true);
    expect(guard({ ...valid, classifier: 'demo:classifier' })).toBe(true);
    expect(guard({ ...valid, classifier: '/models/toxic.ckpt', classifierTokenizer: 'bert-base-uncased' })).toBe(true);
  });

  it('rejects an empty or non-string classifier, and a tokenizer without a classifier', () => {
    expect(guard({ ...valid, classifier: '' })).toBe(false);
    expect(guard({ ...valid, classifier: 3 })).toBe(false);
    expect(guard({ ...valid, classifier: null })).toBe(false);
    expect(guard({ ...valid, classifierTokenizer: 'bert-base-uncased' })).toBe(false);
    expect(guard({ ...valid, classifier: 'demo:classifier', classifierTokenizer: '' })).toBe(false);
  });

  it('still rejects unknown fields beside them', () => {
    expect(guard({ ...valid, classifier: 'demo:classifier', classifierThreshold: 0.5 })).toBe(false);
  });
});
