// A neuron's top-activating examples from a compare run of the demo pair: the run's prompts with each model's
// continuation, ranked by that model's largest activation, with both models' activations equal to a forward pass of
// the same tokens on its own; and the run's generations.jsonl read back for the continuations view.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { neuronDetailJob } from '../../../src-main/core/interp/neuron-detail-job.ts';
import { demoFolder } from '../../../src-main/core/models/model-ref.ts';
import { activationsJob, tokenizeJob } from '../../../src-main/core/models/model-jobs.ts';
import { readGenerations } from '../../../src-main/core/results/generations.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import type { CompareFrame, NeuronDetailRequest } from '../../../src-main/shared/index.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const folder = join(useTemporaryDataDir(), 'results', 'compare-examples');
const maxPromptTokens = 32;

beforeAll(async () => {
  await compareJob(
    {
      base: 'demo:gpt2-base',
      dpo: 'demo:gpt2-dpo',
      probe: 'demo:probe',
      prompts: join(demoFolder(), 'prompts.jsonl'),
      limit: 6,
      maxNewTokens: 5,
      maxPromptTokens,
      batch: 4,
      weightProcessing: 'none',
      prependBos: true,
      out: folder,
      classifier: 'demo:classifier',
      device: 'cpu',
    },
    testContext<CompareFrame>().context,
  );
});

const request = (run: NeuronDetailRequest['run']): NeuronDetailRequest => ({
  base: 'demo:gpt2-base',
  dpo: 'demo:gpt2-dpo',
  layer: 2,
  neuron: 40,
  prompt: 'hello',
  prependBos: true,
  topTokens: 3,
  ...(run ? { run } : {}),
  device: 'cpu',
});

/** The neuron's activation at every position of BOS + `ids` in one model, from the activations job. */
async function activationsOf(model: string, ids: number[]): Promise<number[]> {
  const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-example-')), 'a.safetensors');
  await activationsJob(
    { model, ids, prependBos: true, hooks: ['blocks.2.mlp.hook_post'], out, device: 'cpu' },
    testContext<never>().context,
  );
  const post = openSafetensors(out).readFloat32('blocks.2.mlp.hook_post'); // [pos, d_mlp]
  return [-1, ...ids].map((_, position) => post[position * 512 + 40]!);
}

describe("a neuron's top-activating examples from a run", () => {
  it('ranks each model’s own continuations by its largest activation, and both strips match a lone forward pass', async () => {
    const detail = await neuronDetailJob(
      request({ folder, maxPromptTokens, top: 3, limit: 100 }),
      testContext<never>().context,
    );
    const examples = detail.examples!;
    expect(examples.scanned).toBe(6);
    const generations = readGenerations(folder).rows;
    for (const side of ['base', 'dpo'] as const) {
      const list = examples[side];
      expect(list).toHaveLength(3);
      for (let rank = 1; rank < list.length; rank++)
        expect(list[rank - 1]!.max).toBeGreaterThanOrEqual(list[rank]!.max);
      for (const example of list) {
        expect(example.max).toBe(Math.max(...example[side]));
        const row = generations[example.index]!;
        if (row.kind !== 'compare') throw new Error('a compare run writes compare rows');
        // The strip is the prompt (after BOS) and then this model's continuation.
        expect(example.tokens[0]).toBe('<|endoftext|>');
        expect(example.tokens.slice(1, example.promptTokens).join('')).toBe(row.prompt);
        expect(example.tokens.slice(example.promptTokens).join('')).toBe(row[side]);
      }
      // The top example's activations, in both models, equal one forward pass over the same ids.
      const top = list[0]!;
      const row = generations[top.index]!;
      if (row.kind !== 'compare') throw new Error('a compare run writes compare rows');
      const tokenize = (text: string) =>
        tokenizeJob({ model: 'demo:gpt2-base', text }, testContext<never>().context).then((result) => result.ids);
      const ids = [...(await tokenize(row.prompt)).slice(0, maxPromptTokens), ...(await tokenize(row[side]))];
      expect(ids).toHaveLength(top.tokens.length - 1); // BOS is the first token
      for (const [model, strip] of [
        ['demo:gpt2-base', top.base],
        ['demo:gpt2-dpo', top.dpo],
      ] as const) {
        const alone = await activationsOf(model, ids);
        const worst = Math.max(...alone.map((value, index) => Math.abs(value - strip[index]!)));
        expect(worst, `${side} example in ${model}: first ${strip.slice(0, 4)} vs ${alone.slice(0, 4)}`).toBeLessThan(
          1e-4,
        );
      }
    }
  });

  it('scans only the first `limit` prompts, and returns no examples when no run is named', async () => {
    const limited = await neuronDetailJob(
      request({ folder, maxPromptTokens, top: 10, limit: 2 }),
      testContext<never>().context,
    );
    expect(limited.examples!.scanned).toBe(2);
    expect(limited.examples!.base.map((example) => example.index).sort()).toEqual([0, 1]);
    const plain = await neuronDetailJob(request(undefined), testContext<never>().context);
    expect(plain.examples).toBeUndefined();
  });
});

describe("a run's generations read back", () => {
  it('lists every prompt with both continuations and their scores, and refuses a folder without generations.jsonl', () => {
    const { rows } = readGenerations(folder);
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({ kind: 'compare', baseToxicity: expect.any(Number) });
    expect(() => readGenerations(join(folder, 'nowhere'))).toThrow(/has no generations\.jsonl/);
  });
});
