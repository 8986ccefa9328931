// One model of a compare on its own worker thread (the built out/main/compare-model-worker.js): generation into its
// sums, a load failure reported with the model's own error, and a cancel that stops a batch.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectionGraphOptions, emptySums } from '../../../src-main/core/interp/collect-activations.ts';
import { CompareModelThread, type CompareModelInit } from '../../../src-main/core/interp/compare-model-thread.ts';
import { loadProbe } from '../../../src-main/core/interp/probe.ts';
import { loadModel } from '../../../src-main/core/models/load-model.ts';
import { toAppError } from '../../../src-main/shared/index.ts';
import { requireBuild, workerDir } from '../../support/built-app.ts';
import { tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
let init: CompareModelInit;

beforeAll(() => {
  requireBuild();
  useTemporaryDataDir();
  const folder = tinyGpt2Folder('hub');
  const { nLayers, dModel, dMlp } = loadModel(folder).config;
  init = {
    source: { reference: folder },
    unit: loadProbe(join(fixtures, 'probe8.json'), dModel).unit,
    weightProcessing: 'none',
    graphOptions: { ...collectionGraphOptions(nLayers), interventions: false },
    run: { device: { requested: 'cpu', used: 'cpu', note: '' }, threads: 1, batch: 2, length: 16 },
    sums: emptySums(nLayers, dMlp),
    maxNewTokens: 5,
    padTokenId: 0,
  };
});

const prompts = [
  [464, 3290, 318],
  [40, 588],
];

describe('CompareModelThread', () => {
  it('generates batches into its running sums, and ends when released', async () => {
    const thread = await CompareModelThread.start(workerDir, init, 'the base model', new AbortController().signal);
    expect(thread.statics.cos.length).toBe(init.sums.post.length);
    const generated = await thread.collect(prompts);
    expect(generated.map((ids) => ids.length)).toEqual([5, 5]);
    expect(thread.sums).toMatchObject({ prompts: 2, positions: 10 });
    await thread.collect(prompts);
    expect(thread.sums).toMatchObject({ prompts: 4, positions: 20 });
    await thread.release();
  });

  it("rejects the start with the model's own error when it cannot be loaded", async () => {
    const missing = { ...init, source: { reference: join(fixtures, 'no-such-model') } };
    const error = await CompareModelThread.start(
      workerDir,
      missing,
      'the DPO model',
      new AbortController().signal,
    ).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.code).toBe('MODEL_NOT_FOUND');
    expect(error?.message).toContain('no-such-model');
  });

  it('stops a batch with CANCELLED once the signal is aborted, and goes on from the sums before it', async () => {
    const controller = new AbortController();
    const thread = await CompareModelThread.start(workerDir, init, 'the base model', controller.signal);
    controller.abort();
    const error = await thread.collect(prompts).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.code).toBe('CANCELLED');
    expect(thread.sums).toMatchObject({ prompts: 0, positions: 0 }); // the stopped batch is not counted
    await thread.collect(prompts); // the thread goes on from the sums before the stopped batch
    expect(thread.sums).toMatchObject({ prompts: 2, positions: 10 });
    await thread.release();
  });
});
