// Input checked before a run starts (the real `toxscope` process): a prompt plus more new tokens than the model has
// positions, or a training text longer than them, is refused with exit 2, naming the limit, the culprit and the
// setting that fits, and nothing is written; a bare model name that is not in the Hugging Face cache says where it
// was looked up (exit 3).

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoFolder } from '../../../src-main/core/models/model-ref.ts';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-checks-'));
const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);
const prompts = () => join(demoFolder(), 'prompts.jsonl');
const positionsLimit = /demo:gpt2-base has 128 positions \(n_positions in its config\.json\)/;

beforeAll(() => requireBuild());

describe('too many new tokens for the positions', () => {
  it('compare exits 2 before it writes anything, naming the longest prompt and the new tokens that fit', () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-cli-long-')), 'out');
    const run = toxscope(
      'compare',
      '--base',
      'demo:gpt2-base',
      '--dpo',
      'demo:gpt2-dpo',
      '--probe',
      'demo:probe',
      '--prompts',
      prompts(),
      '--max-new-tokens',
      '256',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/The longest prompt, prompt \d+, is \d+ tokens and 256 new tokens are asked for/);
    expect(run.stderr).toMatch(positionsLimit);
    expect(run.stderr).toMatch(/hint: Lower --max-new-tokens to \d+, or shorten prompt \d+\./);
    expect(run.stderr).not.toMatch(/Gather|out of data bounds/);
    expect(existsSync(out)).toBe(false);
  });

  it('compare runs when the actual prompts fit, though the longest possible prompt would not', () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-cli-fits-')), 'out');
    const run = toxscope(
      'compare',
      '--base',
      'demo:gpt2-base',
      '--dpo',
      'demo:gpt2-dpo',
      '--probe',
      'demo:probe',
      '--prompts',
      prompts(),
      '--max-new-tokens',
      '100', // 32 prompt tokens + BOS + 100 > 128, but the demo prompts are under 10 tokens
      '--limit',
      '2',
      '--quiet',
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });

  it('intervene exits 2 with the same advice', () => {
    const run = toxscope(
      'intervene',
      '--model',
      'demo:gpt2-base',
      '--probe',
      'demo:probe',
      '--prompts',
      prompts(),
      '--intervention',
      'none',
      '--max-new-tokens',
      '256',
      '--out',
      join(mkdtempSync(join(os.tmpdir(), 'toxscope-cli-long-')), 'out'),
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(positionsLimit);
    expect(run.stderr).toMatch(/hint: Lower --max-new-tokens to \d+, or shorten prompt \d+\./);
  });

  it('generate exits 2, naming the prompt length and the new tokens that fit', () => {
    const run = toxscope('generate', 'demo:gpt2-base', '--prompt', 'Hello there', '--max-new-tokens', '200');
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/The prompt is 2 tokens and 200 new tokens are asked for: 202 positions/);
    expect(run.stderr).toMatch(positionsLimit);
    expect(run.stderr).toMatch(/hint: Lower --max-new-tokens to 126, or shorten the prompt\./);
  });
});

describe('texts longer than the positions', () => {
  it('probe train exits 2 before it runs, naming the text and the --max-tokens that fits', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-probe-'));
    const rows = ['you idiot,1', 'you are nice,0', 'what a moron,1', 'thanks a lot,0', `${'word '.repeat(200)},1`];
    writeFileSync(join(folder, 'data.csv'), `text,label\n${rows.join('\n')}\n`);
    const run = toxscope(
      'probe',
      'train',
      '--model',
      'demo:gpt2-base',
      '--data',
      join(folder, 'data.csv'),
      '--text-column',
      'text',
      '--label-column',
      'label',
      '--max-tokens',
      '512',
      '--out',
      join(folder, 'probe.safetensors'),
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/Text 5 of .*data\.csv is \d+ tokens long as read \(--max-tokens 512\)/);
    expect(run.stderr).toMatch(positionsLimit);
    expect(run.stderr).toMatch(/hint: Lower --max-tokens to 128\./);
    expect(existsSync(join(folder, 'probe.safetensors'))).toBe(false);
  });
});

describe('a model name that is not in the Hugging Face cache', () => {
  it('says it looked in the cache, where, and how to get the model there (exit 3)', () => {
    const home = mkdtempSync(join(os.tmpdir(), 'toxscope-hfhome-'));
    const saved = { HF_HOME: process.env.HF_HOME, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
    process.env.HF_HOME = home;
    delete process.env.HF_HUB_CACHE;
    try {
      const run = toxscope('inspect', 'gpt2');
      expect(run.status, run.stderr).toBe(3);
      expect(run.stderr).toContain(
        `"gpt2" was looked up in the local Hugging Face cache (${join(home, 'hub')}) and is not there`,
      );
      expect(run.stderr).toMatch(/huggingface-cli download gpt2/);
      expect(run.stderr).not.toMatch(/No model folder/);
    } finally {
      for (const [key, value] of Object.entries(saved))
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
  });
});
