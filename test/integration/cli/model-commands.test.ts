// The model commands of the CLI contract (cli.md §1–4) run as users run them: the real `toxscope` process on the
// tiny GPT-2 checkpoints, checked against the PyTorch goldens and the contract's output formats and exit codes.

import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { dpoCheckpoint, evilCheckpoint, gpt2Golden, tinyGpt2Folder } from '../../support/gpt2-fixtures.ts';

let folder: string;
const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-data-'));

const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);

beforeAll(() => {
  requireBuild();
  folder = tinyGpt2Folder('hub');
});

describe('toxscope model commands', () => {
  it('inspect prints the contract JSON with the weights fingerprint', () => {
    const run = toxscope('inspect', folder);
    expect(run.status).toBe(0);
    const inspection = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(inspection)).toEqual([
      'architecture',
      'nLayers',
      'dModel',
      'dMlp',
      'nHeads',
      'nKvHeads',
      'headDim',
      'dVocab',
      'nCtx',
      'parameters',
      'tokenizer',
      'weights',
    ]);
    expect(inspection).toMatchObject({
      architecture: 'gpt2',
      nLayers: 2,
      dModel: 8,
      dMlp: 32,
      nHeads: 2,
      dVocab: 50257,
      nCtx: 64,
      tokenizer: { vocabSize: 50257 },
      weights: { format: 'safetensors' },
    });
    expect((inspection.weights as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tokenize prints ids and tokens as the Hugging Face GPT-2 tokenizer gives them', () => {
    const run = toxscope('tokenize', folder, '--text', 'The quick brown fox jumps over');
    expect(JSON.parse(run.stdout)).toEqual({
      ids: [464, 2068, 7586, 21831, 18045, 625],
      tokens: ['The', 'Ġquick', 'Ġbrown', 'Ġfox', 'Ġjumps', 'Ġover'],
    });
  });

  it('activations writes every default hook, logits and input_ids matching PyTorch to 1e-4', () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-act-')), 'acts.safetensors');
    const run = toxscope(
      'activations',
      folder,
      '--weights',
      dpoCheckpoint,
      '--ids',
      '464,2068,7586,21831,18045,625',
      '--out',
      out,
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^device: cpu/m);
    const written = openSafetensors(out);
    expect([...written.tensors.keys()]).toEqual([
      'blocks.0.mlp.hook_post',
      'blocks.1.mlp.hook_post',
      'logits',
      'input_ids',
    ]);
    expect(written.tensors.get('logits')?.shape).toEqual([6, 50257]);
    expect(written.tensors.get('input_ids')?.dtype).toBe('I64');
    const golden = gpt2Golden('dpo');
    for (const hook of ['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']) {
      expect(describeMismatch(hook, written.readFloat32(hook), golden.readFloat32(`prompt0.${hook}`), 1e-4)).toBeNull();
    }
    expect(
      describeMismatch(
        'logits[-1]',
        written.readFloat32('logits').subarray(5 * 50257),
        golden.readFloat32('prompt0.logits.last'),
        1e-4,
      ),
    ).toBeNull();
  });

  it('activations selects hooks by glob', () => {
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-act-')), 'resid.safetensors');
    expect(
      toxscope(
        'activations',
        folder,
        '--text',
        'Hello',
        '--hooks',
        'blocks.*.hook_resid_post,ln_final.hook_normalized',
        '--out',
        out,
        '--quiet',
      ).status,
    ).toBe(0);
    expect([...openSafetensors(out).tensors.keys()]).toEqual([
      'blocks.0.hook_resid_post',
      'blocks.1.hook_resid_post',
      'ln_final.hook_normalized',
      'input_ids',
    ]);
  });

  it('generate --json gives the reference greedy tokens', () => {
    const run = toxscope(
      'generate',
      folder,
      '--prompt',
      'The quick brown fox jumps over',
      '--max-new-tokens',
      '8',
      '--json',
    );
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { promptIds: number[]; ids: number[]; text: string };
    expect(result.promptIds).toEqual([464, 2068, 7586, 21831, 18045, 625]);
    expect(result.ids).toEqual(Array.from(gpt2Golden('base').readInt64('prompt0.greedy8'), Number));
  });

  it('generate --sample is reproducible with a seed', () => {
    const args = [
      'generate',
      folder,
      '--prompt',
      'Hello',
      '--max-new-tokens',
      '6',
      '--sample',
      '--temperature',
      '0.8',
      '--top-k',
      '20',
      '--seed',
      '7',
      '--json',
    ];
    expect(toxscope(...args).stdout).toBe(toxscope(...args).stdout);
  });

  it('exits 2 for a prompt longer than the context, with the numbers', () => {
    const run = toxscope(
      'generate',
      folder,
      '--prompt',
      'word '.repeat(70) /* 70 words + a trailing space token = 71 tokens */,
      '--max-new-tokens',
      '4',
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /The prompt is 71 tokens and 4 new tokens are asked for: 75 positions, but .* has 64 positions \(n_positions in its config\.json\)/,
    );
    expect(run.stderr).toMatch(/hint: Shorten the prompt\./);
  });

  it('exits 3 for a hostile checkpoint and 2 for bad usage', () => {
    expect(toxscope('inspect', folder, '--weights', evilCheckpoint).status).toBe(3);
    const usage = toxscope('activations', folder, '--text', 'x');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/needs --out FILE\.safetensors/);
  });

  it('inspects, tokenizes and captures a BART model: encoder and decoder hooks and logits match PyTorch to 1e-4', () => {
    const bart = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-bart-'));
    cpSync(new URL('../../fixtures/bart-tiny/', import.meta.url), bart, { recursive: true });
    expect(JSON.parse(toxscope('inspect', bart).stdout)).toMatchObject({
      architecture: 'bart',
      nLayers: { encoder: 2, decoder: 2 },
      dModel: 16,
      dMlp: 32,
      dVocab: 261,
    });
    const golden = openSafetensors(new URL('../../golden/bart-tiny.safetensors', import.meta.url).pathname);
    expect(JSON.parse(toxscope('tokenize', bart, '--text', 'Hey you!').stdout).ids).toEqual(
      Array.from(golden.readInt64('row0.input_ids'), Number),
    );
    const out = join(bart, 'acts.safetensors');
    const run = toxscope('activations', bart, '--text', 'Hey you!', '--out', out, '--quiet');
    expect(run.status, run.stderr).toBe(0);
    const written = openSafetensors(out);
    expect([...written.tensors.keys()]).toEqual([
      'encoder.blocks.0.mlp.hook_post',
      'encoder.blocks.1.mlp.hook_post',
      'decoder.blocks.0.mlp.hook_post',
      'decoder.blocks.1.mlp.hook_post',
      'logits',
      'input_ids',
    ]);
    for (const name of ['encoder.blocks.1.mlp.hook_post', 'decoder.blocks.1.mlp.hook_post', 'logits']) {
      expect(describeMismatch(name, written.readFloat32(name), golden.readFloat32(`row0.${name}`), 1e-4)).toBeNull();
    }
  });
});
