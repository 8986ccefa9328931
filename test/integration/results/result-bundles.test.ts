// The results history and the neuron close-up on real runs of the demo pair: listing, opening (the per-neuron
// table equals neurons.csv), renaming, exporting as a zip that reads back byte for byte, deleting only bundles, an
// interrupted run offered for resume, a failed one listed with its error, a lab run listed once; and a neuron's
// activations equal those the activations job reports.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob } from '../../../src-main/core/interp/compare-job.ts';
import { interveneJob } from '../../../src-main/core/interp/intervene-job.ts';
import { neuronDetailJob } from '../../../src-main/core/interp/neuron-detail-job.ts';
import { demoFolder } from '../../../src-main/core/models/model-ref.ts';
import { activationsJob } from '../../../src-main/core/models/model-jobs.ts';
import {
  deleteResult,
  exportFileName,
  exportResult,
  listResults,
  openResult,
  renameResult,
} from '../../../src-main/core/results/result-bundles.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { openZip } from '../../../src-main/core/weights/zip-archive.ts';
import {
  toAppError,
  type CompareFrame,
  type CompareRequest,
  type ResultEntry,
} from '../../../src-main/shared/index.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const resultsFolder = join(useTemporaryDataDir(), 'results');
const compareFolder = join(resultsFolder, 'compare-demo');
const request: CompareRequest = {
  base: 'demo:gpt2-base',
  dpo: 'demo:gpt2-dpo',
  probe: 'demo:probe',
  prompts: join(demoFolder(), 'prompts.jsonl'),
  limit: 8,
  maxNewTokens: 6,
  maxPromptTokens: 32,
  batch: 4,
  weightProcessing: 'none',
  prependBos: true,
  out: compareFolder,
  device: 'cpu',
};

beforeAll(async () => {
  await compareJob(request, testContext<CompareFrame>().context);
});

describe('result bundles', () => {
  it('lists a finished compare with its models and numbers, and skips folders that are not runs', () => {
    mkdirSync(join(resultsFolder, 'holiday-photos'));
    const [entry, ...rest] = listResults(resultsFolder);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ path: compareFolder, kind: 'compare', name: 'compare-demo', complete: true });
    expect(entry!.description).toMatch(
      /^demo:gpt2-base vs demo:gpt2-dpo · 8 prompts · net reduction -?[\d.]+ · TP− [\d.]+%$/,
    );
    expect(listResults(join(resultsFolder, 'missing'))).toEqual([]);
  });

  it('opens the summary, the request that made it and every neuron of neurons.csv by columns', () => {
    const bundle = openResult(compareFolder);
    if (bundle.kind !== 'compare') throw new Error('expected a compare bundle');
    expect(bundle.request).toEqual(request);
    expect(bundle.neurons.count).toBe(4 * 512);
    const lines = readFileSync(join(compareFolder, 'neurons.csv'), 'utf8').trim().split('\n');
    const row = lines[1 + 700]!.split(',');
    expect([bundle.neurons.layer[700], bundle.neurons.neuron[700]]).toEqual([1, 188]);
    expect(bundle.neurons.delta[700]).toBe(Number(row[10]));
    expect(bundle.neurons.group[700]).toBe(row[12]);
  });

  it('renames with a label and keeps the folder path (resumes and from=DIR stay valid)', () => {
    expect(renameResult(compareFolder, '  Demo pair, 8 prompts ')).toMatchObject({
      path: compareFolder,
      name: 'Demo pair, 8 prompts',
    });
    expect(listResults(resultsFolder)[0]!.name).toBe('Demo pair, 8 prompts');
  });

  it('exports the bundle as a zip that reads back byte for byte', () => {
    const exported = exportResult(compareFolder);
    expect(exported.fileName).toBe('Demo pair, 8 prompts.zip'); // named after the label
    const zipPath = join(mkdtempSync(join(os.tmpdir(), 'toxscope-zip-')), exported.fileName);
    writeFileSync(zipPath, Buffer.from(exported.base64, 'base64'));
    const archive = openZip(zipPath);
    expect([...archive.entries.keys()].sort()).toEqual(
      ['generations.jsonl', 'label.json', 'manifest.json', 'neurons.csv', 'summary.json'].map(
        (file) => `compare-demo/${file}`,
      ),
    );
    for (const file of ['neurons.csv', 'summary.json', 'generations.jsonl', 'manifest.json', 'label.json'])
      expect(archive.read(`compare-demo/${file}`)).toEqual(readFileSync(join(compareFolder, file)));
  });

  it('names a zip after a label without the characters file systems refuse, or after the folder', () => {
    expect(exportFileName('DPO vs base: 8/12 prompts?', 'compare-x')).toBe('DPO vs base_ 8_12 prompts_.zip');
    expect(exportFileName('  ..tabs\tand\nlines.. ', 'compare-x')).toBe('tabs and lines.zip');
    expect(exportFileName('???', 'compare-x')).toBe('___.zip');
    expect(exportFileName(' . ', 'compare-x')).toBe('compare-x.zip');
    expect(exportFileName('x'.repeat(300), 'compare-x')).toBe(`${'x'.repeat(120)}.zip`);
  });

  it('offers an interrupted compare for resume with its request, and refuses to open it', async () => {
    const interrupted = join(resultsFolder, 'compare-interrupted');
    const controller = new AbortController();
    const context = testContext<CompareFrame>().context;
    await expect(
      compareJob(
        { ...request, out: interrupted, limit: 16 },
        {
          ...context,
          signal: controller.signal,
          frame: () => controller.abort(), // cancel after the first batch
        },
      ),
    ).rejects.toMatchObject({ appError: { code: 'CANCELLED' } });
    const entry = listResults(resultsFolder).find((candidate) => candidate.path === interrupted)!;
    expect(entry).toMatchObject({ complete: false, resume: { ...request, out: interrupted, limit: 16 } });
    expect(entry.description).toMatch(/^interrupted after 4 prompts/);
    expect(() => openResult(interrupted)).toThrow(/interrupted compare run/);
  });

  it("keeps a failed compare's partial folder, names it in the error, and lists it with the error", async () => {
    const failed = join(resultsFolder, 'compare-failed');
    // A folder takes request.json's place, so the run fails right after it has claimed its .partial folder.
    mkdirSync(join(failed, '.partial', 'request.json'), { recursive: true });
    const error = await compareJob({ ...request, out: failed }, testContext<CompareFrame>().context).then(
      () => null,
      (thrown: unknown) => toAppError(thrown),
    );
    expect(error?.hint).toContain(`What finished is kept in ${join(failed, '.partial')}`);
    expect(error?.appHint).toMatch(/resume or delete it on the Results page\.$/);
    const entry = listResults(resultsFolder).find((candidate) => candidate.path === failed)!;
    expect(entry).toMatchObject({ complete: false, running: false });
    expect(entry.description).toMatch(/^failed after 0 prompts \(Unexpected failure: /);
    expect(deleteResult(failed)).toEqual({ deleted: failed });
  });

  it('lists a partial folder left before the first batch, so it can be deleted', () => {
    const orphan = join(resultsFolder, 'compare-orphan');
    mkdirSync(join(orphan, '.partial'), { recursive: true });
    const entry = listResults(resultsFolder).find((candidate) => candidate.path === orphan)!;
    expect(entry).toMatchObject({ complete: false, resume: null, running: false });
    expect(entry.description).toBe('interrupted after 0 prompts');
    expect(deleteResult(orphan)).toEqual({ deleted: orphan });
  });

  it('refuses more new tokens than the positions hold before it writes anything', async () => {
    const tooLong = join(resultsFolder, 'compare-too-long');
    await expect(
      compareJob({ ...request, out: tooLong, maxNewTokens: 256 }, testContext<CompareFrame>().context),
    ).rejects.toMatchObject({ appError: { code: 'INPUT_INVALID', field: 'maxNewTokens' } });
    expect(existsSync(tooLong)).toBe(false);
  });

  it('shows a run that is still writing as running: no resume, no delete, and no second run into its folder', async () => {
    const live = join(resultsFolder, 'compare-live');
    let entryWhileRunning: ResultEntry | undefined;
    let deleteRefusal: unknown = null;
    await compareJob(
      { ...request, out: live, limit: 8 },
      testContext<CompareFrame>(() => {
        if (entryWhileRunning) return;
        entryWhileRunning = listResults(resultsFolder).find((entry) => entry.path === live);
        try {
          deleteResult(live);
        } catch (error) {
          deleteRefusal = error;
        }
      }).context,
    );
    expect(entryWhileRunning).toMatchObject({ complete: false, running: true, resume: null });
    expect(entryWhileRunning!.description).toMatch(/^running after 4 prompts/);
    expect(String(deleteRefusal)).toMatch(/still writing/);
    expect(listResults(resultsFolder).find((entry) => entry.path === live)).toMatchObject({ complete: true });
    // While a live marker is in a folder, a second compare into it is refused before it touches anything.
    mkdirSync(join(live, '.partial'), { recursive: true });
    writeFileSync(
      join(live, '.partial', 'running.json'),
      JSON.stringify({ pid: process.pid, token: 'another run', heartbeat: Date.now() }),
    );
    await expect(compareJob({ ...request, out: live }, testContext<CompareFrame>().context)).rejects.toThrow(
      /Another compare run \(process \d+\) is writing to/,
    );
  });

  it('renames and deletes only inside the results folder', () => {
    const elsewhere = mkdtempSync(join(os.tmpdir(), 'toxscope-elsewhere-'));
    cpSync(compareFolder, join(elsewhere, 'run'), { recursive: true });
    expect(() => deleteResult(join(elsewhere, 'run'))).toThrow(/outside ToxScope's results folder/);
    expect(() => renameResult(join(elsewhere, 'run'), 'x')).toThrow(/outside ToxScope's results folder/);
    expect(existsSync(join(elsewhere, 'run', 'neurons.csv'))).toBe(true);
  });

  it('deletes a bundle and refuses to delete a folder that is not one', () => {
    expect(() => deleteResult(join(resultsFolder, 'holiday-photos'))).toThrow(/not a ToxScope result folder/);
    expect(existsSync(join(resultsFolder, 'holiday-photos'))).toBe(true);
    const copy = join(resultsFolder, 'compare-interrupted');
    expect(deleteResult(copy)).toEqual({ deleted: copy });
    expect(existsSync(copy)).toBe(false);
  });

  it('lists a lab run (a folder of intervene runs that record their condition) once, and opens it as its table', async () => {
    const labFolder = join(resultsFolder, 'lab-demo');
    const condition = async (index: number, kind: string, label: string, model: 'base' | 'dpo') =>
      interveneJob(
        {
          model: `demo:gpt2-${model}`,
          probe: 'demo:probe',
          prompts: join(demoFolder(), 'prompts.jsonl'),
          intervention: 'none',
          scorer: 'demo:gpt2-base',
          maxNewTokens: 4,
          maxPromptTokens: 32,
          limit: 4,
          batch: 4,
          prependBos: true,
          out: join(labFolder, `${index + 1}-${kind}`),
          labCondition: { index, kind, label, spec: 'none', model },
          device: 'cpu',
        },
        testContext<never>().context,
      );
    // Finished out of order, listed in the table's order.
    const dpo = await condition(1, 'dpo', 'DPO, unmodified', 'dpo');
    const base = await condition(0, 'base', 'base, unmodified', 'base');
    const labs = listResults(resultsFolder).filter((entry) => entry.kind === 'lab');
    expect(labs).toHaveLength(1);
    expect(labs[0]).toMatchObject({ path: labFolder, name: 'lab-demo', complete: true, running: false });
    expect(labs[0]!.description).toMatch(
      /^Interventions lab: 2 conditions on demo:gpt2-base and demo:gpt2-dpo · probe toxicity base -?[\d.]+, DPO -?[\d.]+$/,
    );
    const bundle = openResult(labFolder);
    if (bundle.kind !== 'lab') throw new Error('expected a lab bundle');
    expect(bundle.conditions.map(({ condition, out, model }) => [condition.label, out, model])).toEqual([
      ['base, unmodified', base.out, 'demo:gpt2-base'],
      ['DPO, unmodified', dpo.out, 'demo:gpt2-dpo'],
    ]);
    expect(bundle.conditions[1]!.summary).toEqual(dpo.summary);
    // A condition's own folder is an intervene run as before; the lab folder is deleted as one.
    expect(openResult(base.out).kind).toBe('intervene');
    expect(deleteResult(labFolder)).toEqual({ deleted: labFolder });
    expect(existsSync(labFolder)).toBe(false);
  });
});

describe('neuron close-up', () => {
  it("reports the neuron's activations at every token as the activations job does, in both models", async () => {
    const prompt = 'you are such a';
    const detail = await neuronDetailJob(
      {
        base: 'demo:gpt2-base',
        dpo: 'demo:gpt2-dpo',
        layer: 3,
        neuron: 17,
        prompt,
        prependBos: true,
        topTokens: 5,
        device: 'cpu',
      },
      testContext<never>().context,
    );
    expect(detail.tokens.length).toBe(detail.base.activations.length);
    expect(detail.tokens[0]).toBe('<|endoftext|>');
    for (const [model, side] of [
      ['demo:gpt2-base', detail.base],
      ['demo:gpt2-dpo', detail.dpo],
    ] as const) {
      const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-neuron-')), 'a.safetensors');
      await activationsJob(
        { model, text: prompt, prependBos: true, hooks: ['blocks.3.mlp.hook_post'], out, device: 'cpu' },
        testContext<never>().context,
      );
      const post = openSafetensors(out).readFloat32('blocks.3.mlp.hook_post'); // [pos, 512]
      expect(side.activations).toEqual(side.activations.map((_, position) => post[position * 512 + 17]));
      expect(side.promoted).toHaveLength(5);
      expect(side.promoted[0]!.logit).toBeGreaterThanOrEqual(side.promoted[4]!.logit);
      expect(side.suppressed[0]!.logit).toBeLessThanOrEqual(side.suppressed[4]!.logit);
      expect(side.promoted[0]!.logit).toBeGreaterThan(side.suppressed[0]!.logit);
    }
    // The DPO checkpoint changed this layer's weights, so its value vector differs.
    expect(detail.dpo.valueNorm).not.toBe(detail.base.valueNorm);
  });

  it('refuses a neuron that does not exist, naming the ranges', async () => {
    await expect(
      neuronDetailJob(
        {
          base: 'demo:gpt2-base',
          dpo: 'demo:gpt2-dpo',
          layer: 4,
          neuron: 0,
          prompt: 'hi',
          prependBos: true,
          topTokens: 5,
          device: 'cpu',
        },
        testContext<never>().context,
      ),
    ).rejects.toThrow(/no neuron L4 N0: the model has layers 0\.\.3 and neurons 0\.\.511/);
  });
});
