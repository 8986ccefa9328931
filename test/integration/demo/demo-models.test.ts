// The bundled demo models (resources/demo/, built by scripts/demo/train_demo.py): the files are the ones the model
// card records, they load through the same code as users' checkpoints, and they still show their effects on a
// small held-out sample: for both DPO pairs (GPT-2 and Llama) DPO lowers the independent scorer's toxicity of greedy
// continuations and compare finds a positive net reduction, and the detox trio masks and detoxifies held-out hate
// speech.

import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { detoxJob } from '../../../src-main/core/detox/detox-job.ts';
import { loadBowScorer } from '../../../src-main/core/interp/bow-scorer.ts';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { loadProbe } from '../../../src-main/core/interp/probe.ts';
import { loadAnyModel, loadModel } from '../../../src-main/core/models/load-model.ts';
import { sha256File } from '../../../src-main/core/weights/fingerprint.ts';
import {
  demoModels,
  demoProbes,
  isDemoProbe,
  presets,
  type CompareFrame,
  type DetoxFrame,
} from '../../../src-main/shared/index.ts';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { dynaHateTexts } from '../../support/dynahate.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const demo = fileURLToPath(new URL('../../../resources/demo/', import.meta.url));
const scorer = loadBowScorer(join(demo, 'bow-scorer.json'));

beforeAll(() => {
  useTemporaryDataDir();
});

async function heldOutHate(count: number): Promise<string[]> {
  const texts = await dynaHateTexts('dynabench-db_test.csv', 'hate');
  return texts.filter((text) => text.split(' ').length <= 30).slice(0, count);
}

/** The two DPO pairs, each with the probe on its base. */
const dpoPairs = [
  { base: 'demo:gpt2-base', dpo: 'demo:gpt2-dpo', probe: 'probe' },
  { base: 'demo:llama-base', dpo: 'demo:llama-dpo', probe: 'llama-probe' },
] as const;

describe('demo models', () => {
  it('are byte for byte the files whose sha256 the model card records', () => {
    const card = readFileSync(join(demo, 'README.md'), 'utf8');
    const recorded = [...card.matchAll(/^\| `([^`]+)` \| `([0-9a-f]{64})` \|/gm)].map(
      (match) => [match[1]!, match[2]!] as const,
    );
    expect(recorded.length).toBeGreaterThanOrEqual(6);
    for (const [file, sha256] of recorded) expect(sha256File(join(demo, file)), file).toBe(sha256);
  });

  it('load through the same code as users’ checkpoints, with their probes', () => {
    const architectureOf = (name: string) => /^(bart|llama|gpt2)/.exec(name)?.[1];
    for (const name of demoModels.filter((model) => !isDemoProbe(model)))
      expect(loadAnyModel(`demo:${name}`).architecture, name).toBe(architectureOf(name));
    for (const [probe, model] of Object.entries(demoProbes))
      expect(loadProbe(`demo:${probe}`, loadAnyModel(`demo:${model}`).config.dModel).metadata?.hook, probe).toMatch(
        /^blocks\.3\.hook_resid_post$/,
      );
  });

  it('include a Llama pair with grouped-query attention, a gated MLP and the GPT-2 demo’s tokenizer', () => {
    const llama = loadModel('demo:llama-base');
    expect(llama.config).toMatchObject({ family: 'llama', nHeads: 4, nKvHeads: 2, mlp: { kind: 'gated' } });
    expect(llama.config.positions.kind).toBe('rotary');
    expect(llama.tokenizer.sha256).toBe(loadModel('demo:gpt2-base').tokenizer.sha256);
  });

  it.each(dpoPairs)(
    'compare of $base and $dpo finds a positive net reduction and DPO lowers the scorer’s toxicity',
    async ({ base, dpo, probe }) => {
      const out = mkdtempSync(join(os.tmpdir(), 'toxscope-demo-compare-'));
      const result = await compareJob(
        {
          base,
          dpo,
          probe: `demo:${probe}`,
          prompts: join(demo, 'prompts.jsonl'),
          limit: 20,
          maxNewTokens: 20,
          maxPromptTokens: 32,
          batch: 10,
          weightProcessing: 'none',
          prependBos: true,
          out,
          device: 'cpu',
        },
        testContext<CompareFrame>().context,
      );
      expect(result.summary.netReduction).toBeGreaterThan(0);
      const generations = readFileSync(join(out, 'generations.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { base: string; dpo: string });
      const mean = (texts: string[]) => texts.reduce((sum, text) => sum + scorer.score(text), 0) / texts.length;
      expect(mean(generations.map((row) => row.dpo))).toBeLessThan(mean(generations.map((row) => row.base)));
    },
  );

  it.each(dpoPairs)(
    'run from the command line by their demo: names, as the README shows ($base)',
    ({ base, dpo, probe }) => {
      requireBuild();
      const out = mkdtempSync(join(os.tmpdir(), 'toxscope-demo-cli-'));
      const run = runToxscope(
        mkdtempSync(join(os.tmpdir(), 'toxscope-demo-data-')),
        'compare',
        '--base',
        base,
        '--dpo',
        dpo,
        '--probe',
        `demo:${probe}`,
        '--prompts',
        join(demo, 'prompts.jsonl'),
        '--limit',
        '4',
        '--max-new-tokens',
        '5',
        '--out',
        out,
      );
      expect(run.status, run.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { probe: { path: string } };
      expect(manifest.probe.path).toBe(join(demo, probe, 'probe.safetensors'));
    },
  );

  it('detox masks a word in most held-out hate sentences and lowers their toxicity', async () => {
    const sentences = await heldOutHate(12);
    const explain = join(mkdtempSync(join(os.tmpdir(), 'toxscope-demo-detox-')), 'explain.json');
    await detoxJob(
      {
        base: 'demo:bart-base',
        expert: 'demo:bart-expert',
        antiExpert: 'demo:bart-anti-expert',
        text: sentences.join('\n'),
        explain,
        settings: presets.magr,
        batch: 6,
        device: 'cpu',
      },
      testContext<DetoxFrame>().context,
    );
    const segments = (
      JSON.parse(readFileSync(explain, 'utf8')) as {
        segments: { text: string; rewrite: string; words: { masked: boolean }[] }[];
      }
    ).segments;
    const masked = segments.filter((segment) => segment.words.some((word) => word.masked));
    expect(masked.length / segments.length).toBeGreaterThanOrEqual(0.8);
    const mean = (texts: string[]) => texts.reduce((sum, text) => sum + scorer.score(text), 0) / texts.length;
    expect(mean(masked.map((segment) => segment.rewrite))).toBeLessThan(mean(masked.map((segment) => segment.text)));
  });
});
