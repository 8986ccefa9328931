// Interventions on a gated-MLP family (the tiny Llama-3 with grouped heads): ablation removes exactly m·v with v the
// down_proj column, patching to the model's own means reproduces them, and editing with α = 0 is the identity.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectBatch, collectionGraphOptions, emptySums } from '../../../src-main/core/interp/collect-activations.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { noInterventions } from '../../../src-main/core/models/decoder/decoder-session.ts';
import { openDecoderSession } from '../../../src-main/core/models/decoder/open-session.ts';
import { readValueVectors } from '../../../src-main/core/models/decoder/weights.ts';
import { loadModel, type LoadedModel } from '../../../src-main/core/models/load-model.ts';
import type { InterveneRequest } from '../../../src-main/shared/index.ts';
import { decoderFixtureDir, tinyDecoderFolder } from '../../support/decoder-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const prompts = [
  [1, 17, 240, 5, 99],
  [1, 288, 12, 7],
];
let folder: string;
let model: LoadedModel;
const probe = Array.from({ length: 32 }, (_, index) => Math.cos(index * 0.7));
const unit = Float64Array.from(probe, (value) => value / Math.hypot(...probe));

beforeAll(() => {
  useTemporaryDataDir();
  folder = tinyDecoderFolder('llama3');
  model = loadModel(folder);
});

describe('interventions on a gated MLP', () => {
  it('ablating neurons removes exactly their writes m·v (v = down_proj column) from the MLP output', async () => {
    const { dMlp, dModel } = model.config; // 48, 32
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
    const ablated = [2, 9, 40];
    const scale = new Float32Array(2 * dMlp).fill(1);
    for (const neuron of ablated) scale[dMlp + neuron] = 0;
    const clean = (await step()).outputs;
    const cut = (await step(scale)).outputs;
    const values = readValueVectors(model.weights, model.config, 1); // [d_mlp, d_model]
    const post = clean['blocks.1.mlp.hook_post']!.data as Float32Array;
    const before = clean['blocks.1.hook_mlp_out']!.data as Float32Array;
    const after = cut['blocks.1.hook_mlp_out']!.data as Float32Array;
    for (let p = 0; p < ids.length; p++)
      for (let d = 0; d < dModel; d++) {
        const removed = ablated.reduce((sum, n) => sum + post[p * dMlp + n]! * values[n * dModel + d]!, 0);
        expect(after[p * dModel + d]).toBeCloseTo(before[p * dModel + d]! - removed, 5);
      }
    await session.release();
  });

  it('patching every neuron to the model’s own means records exactly those means', async () => {
    const { nLayers, dMlp } = model.config;
    const options = { ...collectionGraphOptions(nLayers), interventions: true };
    const { session } = await openDecoderSession(model, options, { device: cpu, batch: 2, length: 30 });
    const clean = emptySums(nLayers, dMlp);
    await collectBatch(session, prompts, clean, { maxNewTokens: 5, padTokenId: 0, unit });
    const means = Float32Array.from(clean.post.map((value) => value / clean.positions));
    const patch = {
      ...noInterventions(model.config),
      mlpPostOverrideMask: new Float32Array(nLayers * dMlp).fill(1),
      mlpPostOverrideValue: means,
      positions: 'last' as const,
    };
    const patched = emptySums(nLayers, dMlp);
    await collectBatch(session, prompts, patched, { maxNewTokens: 5, padTokenId: 0, unit, interventions: patch });
    const patchedMeans = patched.post.map((value) => value / patched.positions);
    for (let index = 0; index < nLayers * dMlp; index++) expect(patchedMeans[index]).toBeCloseTo(means[index]!, 6);
    await session.release();
  });

  it('editing with α = 0 is the identity (intervene job, DPO weights from dpo.pt)', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'toxscope-llama-intervene-'));
    writeFileSync(join(dir, 'probe.json'), JSON.stringify(probe));
    writeFileSync(join(dir, 'prompts.txt'), 'the cat sat\nwhy is this\nhello there\n');
    const request = (intervention: string): InterveneRequest => ({
      model: folder,
      weights: join(decoderFixtureDir, 'llama3', 'dpo.pt'),
      probe: join(dir, 'probe.json'),
      prompts: join(dir, 'prompts.txt'),
      intervention,
      maxNewTokens: 6,
      maxPromptTokens: 32,
      batch: 2,
      prependBos: false,
      out: mkdtempSync(join(dir, 'out-')),
      device: 'cpu',
      threads: 1,
    });
    const none = await interveneJob(request('none'), testContext<never>().context);
    const edit = await interveneJob(request('edit:alpha=0,beta=0.5'), testContext<never>().context);
    expect(edit.summary.intervention.neurons).toBeGreaterThan(0);
    expect(readFileSync(join(edit.out, 'generations.jsonl'), 'utf8')).toBe(
      readFileSync(join(none.out, 'generations.jsonl'), 'utf8'),
    );
    const ablate = await interveneJob(request('ablate:top=8'), testContext<never>().context);
    expect(ablate.summary.intervention.neurons).toBe(8);
  });
});
