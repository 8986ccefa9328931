// Interventions through the graph's inputs on the tiny GPT-2: ablation zeroes exactly the ablated writes, patching
// to a model's own means reproduces them, editing with α = 0 changes nothing, perplexity matches the reference
// forward, and the intervene job writes the contract's files.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectBatch, collectionGraphOptions, emptySums } from '../../../src-main/core/interp/collect-activations.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { perplexity } from '../../../src-main/core/interp/metrics.ts';
import { noInterventions } from '../../../src-main/core/models/decoder/decoder-session.ts';
import { openDecoderSession } from '../../../src-main/core/models/decoder/open-session.ts';
import { decoderReferenceForward } from '../../../src-main/core/models/decoder/reference.ts';
import { loadModel, type LoadedModel } from '../../../src-main/core/models/load-model.ts';
import type { InterveneRequest } from '../../../src-main/shared/index.ts';
import { dpoCheckpoint, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const prompts = [
  [50256, 464, 6193, 1909, 318],
  [50256, 40, 460, 470],
];
let folder: string;
let model: LoadedModel;
const probe = [0.5, -0.2, 0.1, 0.9, -0.4, 0.3, 0.2, -0.7];
const unit = Float64Array.from(probe, (value) => value / Math.hypot(...probe));

beforeAll(() => {
  useTemporaryDataDir();
  folder = tinyGpt2Folder('hub');
  model = loadModel(folder);
});

describe('interventions on the graph', () => {
  it('ablating a set of neurons removes exactly their writes m·v from the MLP output', async () => {
    const { session } = await openDecoderSession(
      model,
      {
        hooks: ['blocks.1.mlp.hook_post', 'blocks.1.hook_mlp_out'],
        hookPositions: 'all',
        logits: 'none',
        kvCache: false,
        interventions: true,
      },
      { device: cpu, batch: 1, length: 8 },
    );
    const ids = prompts[0]!;
    const step = (scale?: Float32Array) =>
      session.step({
        batch: 1,
        pos: ids.length,
        inputIds: BigInt64Array.from(ids, BigInt),
        attentionMask: new BigInt64Array(ids.length).fill(1n),
        positionIds: BigInt64Array.from(ids, (_, p) => BigInt(p)),
        cache: null,
        interventions: scale ? { ...noInterventions(model.config), mlpPostScale: scale } : undefined,
      });
    const ablated = [2, 9, 17];
    const scale = new Float32Array(2 * 32).fill(1);
    for (const neuron of ablated) scale[32 + neuron] = 0;
    const clean = (await step()).outputs;
    const cut = (await step(scale)).outputs;
    const wOut = model.weights.get('blocks.1.mlp.W_out')!.read(); // [d_mlp, d_model]
    const post = clean['blocks.1.mlp.hook_post']!.data as Float32Array;
    const before = clean['blocks.1.hook_mlp_out']!.data as Float32Array;
    const after = cut['blocks.1.hook_mlp_out']!.data as Float32Array;
    for (let p = 0; p < ids.length; p++) {
      for (let d = 0; d < 8; d++) {
        const removed = ablated.reduce((sum, neuron) => sum + post[p * 32 + neuron]! * wOut[neuron * 8 + d]!, 0);
        expect(after[p * 8 + d]).toBeCloseTo(before[p * 8 + d]! - removed, 5);
      }
    }
    expect(
      Array.from(cut['blocks.1.mlp.hook_post']!.data as Float32Array).filter((_, index) =>
        ablated.includes(index % 32),
      ),
    ).toEqual(new Array(ids.length * 3).fill(0));
    await session.release();
  });

  it('patching every neuron to the model’s own means records exactly those means', async () => {
    const options = { ...collectionGraphOptions(2), interventions: true };
    const { session } = await openDecoderSession(model, options, { device: cpu, batch: 2, length: 30 });
    const clean = emptySums(2, 32);
    await collectBatch(session, prompts, clean, { maxNewTokens: 5, padTokenId: 50256, unit });
    const means = clean.post.map((value) => value / clean.positions);
    const patch = {
      ...noInterventions(model.config),
      mlpPostOverrideMask: new Float32Array(64).fill(1),
      mlpPostOverrideValue: Float32Array.from(means),
      positions: 'last' as const,
    };
    const patched = emptySums(2, 32);
    await collectBatch(session, prompts, patched, { maxNewTokens: 5, padTokenId: 50256, unit, interventions: patch });
    const patchedMeans = patched.post.map((value) => value / patched.positions);
    for (let index = 0; index < 64; index++)
      expect(patchedMeans[index]).toBeCloseTo(Float32Array.from(means)[index]!, 6);
    await session.release();
  });

  it('measures perplexity exactly as the reference forward pass implies', async () => {
    const ids = [464, 6193, 1909, 318, 257, 1110, 13, 198, 40, 460];
    const { session } = await openDecoderSession(
      model,
      { hooks: [], hookPositions: 'all', logits: 'all', kvCache: false, interventions: true },
      { device: cpu, batch: 1, length: 64 },
    );
    const measured = await perplexity(session, ids, { nCtx: 4, interventions: noInterventions(model.config) });
    await session.release();
    const weights = new Map([...model.weights].map(([name, tensor]) => [name, tensor.read()]));
    let nll = 0;
    let count = 0;
    for (let start = 0; start < ids.length; start += 4) {
      const window = ids.slice(start, start + 4);
      if (window.length < 2) continue;
      const logits = decoderReferenceForward(model.config, weights, {
        inputIds: [window],
        attentionMask: [window.map(() => 1)],
        positionIds: [window.map((_, p) => p)],
      }).get('logits')!;
      for (let p = 0; p + 1 < window.length; p++) {
        const row = Array.from(logits.subarray(p * 50257, (p + 1) * 50257));
        const max = Math.max(...row);
        nll += max + Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0)) - row[window[p + 1]!]!;
        count++;
      }
    }
    expect(measured.windows).toBe(3);
    expect(Math.log(measured.perplexity)).toBeCloseTo(nll / count, 6); // mean NLL to 1e-6
  });
});

describe('intervene job', () => {
  function request(overrides: Partial<InterveneRequest> = {}): InterveneRequest {
    return {
      model: folder,
      weights: dpoCheckpoint,
      probe: join(fixtures, 'probe8.json'),
      prompts: join(fixtures, 'prompts.jsonl'),
      intervention: 'none',
      maxNewTokens: 8,
      maxPromptTokens: 32,
      batch: 4,
      prependBos: false,
      out: mkdtempSync(join(os.tmpdir(), 'toxscope-intervene-')),
      device: 'cpu',
      threads: 1,
      ...overrides,
    };
  }

  it('writes summary.json, generations.jsonl and manifest.json, scored by the unmodified base', async () => {
    const f1 = join(mkdtempSync(join(os.tmpdir(), 'toxscope-f1-')), 'wiki.jsonl');
    writeFileSync(f1, '{"prompt": "The city is", "gold": "The city is known for its bridges"}\n');
    const pplText = join(mkdtempSync(join(os.tmpdir(), 'toxscope-ppl-')), 'text.txt');
    writeFileSync(pplText, 'A short paragraph of plain text for perplexity.\n\nAnother line.');
    const result = await interveneJob(
      request({ intervention: 'ablate:top=4', pplText, f1Data: f1 }),
      testContext<never>().context,
    );
    expect(result.summary).toMatchObject({ prompts: 10, intervention: { spec: 'ablate:top=4', neurons: 4 } });
    expect(result.summary.toxicity.scorer).toMatch(/unmodified/);
    expect(result.summary.perplexity).toBeGreaterThan(1);
    expect(result.summary.f1).toBeGreaterThan(0); // the prompt's own tokens overlap the gold
    const lines = readFileSync(join(result.out, 'generations.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(JSON.parse(lines[0]!)).toMatchObject({ prompt: 'The weather today is' });
    expect(JSON.parse(readFileSync(join(result.out, 'manifest.json'), 'utf8'))).toMatchObject({
      command: 'intervene',
      formatVersion: 1,
    });
  });

  it('editing with α = 0 is the identity', async () => {
    const none = await interveneJob(request(), testContext<never>().context);
    const edit = await interveneJob(request({ intervention: 'edit:alpha=0,beta=0.5' }), testContext<never>().context);
    expect(edit.summary.intervention.neurons).toBeGreaterThan(0);
    expect(readFileSync(join(edit.out, 'generations.jsonl'), 'utf8')).toBe(
      readFileSync(join(none.out, 'generations.jsonl'), 'utf8'),
    );
  });

  it('changes the continuations when the intervention bites (subtracting a large multiple of ŵ)', async () => {
    const none = await interveneJob(request(), testContext<never>().context);
    const subtract = await interveneJob(request({ intervention: 'subtract:alpha=50' }), testContext<never>().context);
    expect(readFileSync(join(subtract.out, 'generations.jsonl'), 'utf8')).not.toBe(
      readFileSync(join(none.out, 'generations.jsonl'), 'utf8'),
    );
  });
});
