// The job panel's titles in people's words, from each job's request, and the unit its progress counts.

import { describe, expect, it } from 'vitest';
import { jobTitle, progressUnit } from '../../../src-renderer/src/lib/job-titles.ts';
import type { CompareRequest, DetoxRequest, InterveneRequest } from '../../../src-main/shared/index.ts';

const run = { device: 'cpu' as const, out: '/tmp/run', maxNewTokens: 20, maxPromptTokens: 32, batch: 16 };

describe('job titles', () => {
  it('names a compare by its two models, a DPO weights file by its file name', () => {
    const request = { ...run, base: 'demo:gpt2-base', dpo: '/data/ckpt/dpo.pt', probe: 'p', prompts: 'q' };
    expect(jobTitle('interp:compare', request as unknown as CompareRequest)).toBe('Compare demo:gpt2-base vs dpo.pt');
  });

  it("names an intervention by its condition as the Interventions page does, else by the spec's own words", () => {
    const title = (intervention: string) =>
      jobTitle('interp:intervene', { ...run, model: 'demo:gpt2-base', intervention } as unknown as InterveneRequest);
    expect(title('ablate:top=128')).toBe('Intervene on demo:gpt2-base: ablation (top=128)');
    expect(title('edit:alpha=0.01,beta=0.55')).toBe(
      'Intervene on demo:gpt2-base: activation editing (alpha=0.01, beta=0.55)',
    );
    expect(title('none')).toBe('Intervene on demo:gpt2-base: no intervention');
    expect(title('patch:groups=TP-+AN-,from=/data/results/compare-2026-12-06')).toBe(
      'Intervene on demo:gpt2-base: patching (groups=TP-+AN-, from=…/compare-2026-12-06)',
    );
    expect(title('scale-keys:top=8,factor=2')).toBe('Intervene on demo:gpt2-base: key scaling (top=8, factor=2)');
  });

  it('names a detox by its input file, or pasted text', () => {
    const request = { base: 'b', expert: 'e', antiExpert: 'a', device: 'cpu' } as unknown as DetoxRequest;
    expect(jobTitle('detox:run', { ...request, text: 'hello' })).toBe('Detox pasted text');
    expect(jobTitle('detox:run', { ...request, input: 'C:\\Users\\ana\\memo.txt' })).toBe('Detox memo.txt');
  });

  it('counts each job in its own unit', () => {
    expect(progressUnit('detox:run')).toBe('sentences');
    expect(progressUnit('detox:batch')).toBe('files');
    expect(progressUnit('interp:compare')).toBe('prompts');
    expect(progressUnit('model:inspect')).toBe('steps');
  });
});
