// The compare job against the independent PyTorch reference (test/reference/compare_reference.py) on the tiny
// fixtures, plus resume after cancel, reproducibility, planted effects and bad input.

import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareJob, neuronsCsvHeader } from '../../../src-main/core/interp/compare-job.ts';
import { parseCsv } from '../../../src-main/core/files/csv.ts';
import { encodeSafetensors, openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import {
  toAppError,
  type CompareFrame,
  type CompareRequest,
  type CompareSummary,
} from '../../../src-main/shared/index.ts';
import { maxAbsDifference } from '../../support/check-tensor.ts';
import { dpoCheckpoint, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

const fixtures = new URL('../../fixtures/compare/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(new URL('../../golden/compare-tiny.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
> & {
  format_version: string;
  positions: number;
};
let baseFolder: string;

beforeAll(() => {
  useTemporaryDataDir();
  baseFolder = tinyGpt2Folder('hub');
  expect(golden.format_version).toBe('1');
});

function request(overrides: Partial<CompareRequest> = {}): CompareRequest {
  return {
    base: baseFolder,
    dpo: dpoCheckpoint,
    probe: join(fixtures, 'probe8.json'),
    prompts: join(fixtures, 'prompts.jsonl'),
    maxNewTokens: 20,
    maxPromptTokens: 32,
    batch: 4,
    weightProcessing: 'none',
    prependBos: true,
    out: mkdtempSync(join(os.tmpdir(), 'toxscope-compare-')),
    device: 'cpu',
    threads: 1,
    ...overrides,
  };
}

function readNeurons(out: string) {
  const rows = parseCsv(readFileSync(join(out, 'neurons.csv'), 'utf8')).map((entry) => entry.record);
  const header = rows[0]!;
  const column = (name: string) => rows.slice(1).map((row) => row[header.indexOf(name)]!);
  return { header, column, numbers: (name: string) => column(name).map(Number) };
}

async function failure(run: Promise<unknown>) {
  return run.then(
    () => null,
    (thrown: unknown) => toAppError(thrown),
  );
}

describe.each(['none', 'center'] as const)('compare vs the PyTorch reference (weight processing %s)', (processing) => {
  let out: string;
  let summary: CompareSummary;
  const expected = () => golden[processing] as Record<string, number[] | string[] | number | Record<string, number>>;

  beforeAll(async () => {
    const result = await compareJob(request({ weightProcessing: processing }), testContext<CompareFrame>().context);
    out = result.out;
    summary = result.summary;
  });

  it('writes the contract header and one row per neuron', () => {
    const { header, column } = readNeurons(out);
    expect(header).toEqual(neuronsCsvHeader);
    expect(column('layer')).toHaveLength(2 * 32);
  });

  it('matches the reference means, projections and Δ to 1e-5', () => {
    const { numbers } = readNeurons(out);
    for (const name of ['mean_act_pre', 'mean_act_dpo', 's_pre', 's_dpo', 'cos_pre', 'cos_dpo', 'delta']) {
      expect(maxAbsDifference(numbers(name), expected()[name] as number[]), name).toBeLessThan(1e-5);
    }
  });

  it('assigns every neuron the reference groups (v1 and v3)', () => {
    const { column } = readNeurons(out);
    expect(column('group')).toEqual(expected().group);
    expect(column('group_v3')).toEqual(expected().group_v3);
  });

  it('reports the reference gross and net reduction, v1 shares and layer projections', () => {
    expect(summary.positions).toBe(golden.positions);
    expect(summary.grossReduction).toBeCloseTo(expected().grossReduction as number, 5);
    expect(summary.netReduction).toBeCloseTo(expected().netReduction as number, 5);
    for (const [group, share] of Object.entries(expected().shareV1 as Record<string, number>)) {
      expect(summary.groups[group as 'TP-'].share, group).toBeCloseTo(share, 5);
    }
    expect(
      maxAbsDifference(
        summary.layerProjection.map((row) => row.base),
        expected().layerProjectionPre as number[],
      ),
    ).toBeLessThan(1e-5);
    expect(
      maxAbsDifference(
        summary.layerProjection.map((row) => row.dpo),
        expected().layerProjectionDpo as number[],
      ),
    ).toBeLessThan(1e-5);
  });

  it('passes the §4.1 consistency check: Σ P + b_out·ŵ = L per layer, to 1e-5', () => {
    expect(summary.layerProjectionCheck).toBeLessThan(1e-5);
  });

  it('gives shares that sum to 1 (v1 reduction groups, v3 groups of the gross)', () => {
    const v1 = ['TP-', 'TN+', 'AP+', 'AN-'] as const;
    expect(v1.reduce((sum, group) => sum + summary.groups[group].share, 0)).toBeCloseTo(1, 10);
    expect(Object.values(summary.groupsV3).reduce((sum, group) => sum + group.share, 0)).toBeCloseTo(1, 10);
  });

  it('splits the relative activation change histogram by v3 group, each group counted once', () => {
    const { histogram, byGroupV3 } = summary.relativeActivationChange;
    const countsByGroupV3 = histogram.countsByGroupV3!;
    const groups = Object.keys(byGroupV3) as (keyof typeof byGroupV3)[];
    histogram.counts.forEach((count, bin) =>
      expect(groups.reduce((sum, group) => sum + countsByGroupV3[group][bin]!, 0)).toBeLessThanOrEqual(count),
    );
    for (const group of groups)
      expect(countsByGroupV3[group].reduce((sum, count) => sum + count, 0)).toBe(byGroupV3[group].count);
  });
});

describe('compare runs', () => {
  it('resumes a cancelled run in the same folder and ends with the numbers of an uninterrupted run', async () => {
    const whole = await compareJob(request(), testContext<CompareFrame>().context);
    const out = mkdtempSync(join(os.tmpdir(), 'toxscope-resume-'));
    const cancelled = testContext<CompareFrame>((frame, controller) => {
      if (frame.promptsDone >= 4) controller.abort();
    });
    expect(await failure(compareJob(request({ out }), cancelled.context))).toMatchObject({ code: 'CANCELLED' });
    const resumed = await compareJob(request({ out }), testContext<CompareFrame>().context);
    expect(resumed.resumedFrom).toBe(4);
    expect(readFileSync(join(out, 'neurons.csv'), 'utf8')).toBe(readFileSync(join(whole.out, 'neurons.csv'), 'utf8'));
    expect(readFileSync(join(out, 'generations.jsonl'), 'utf8')).toBe(
      readFileSync(join(whole.out, 'generations.jsonl'), 'utf8'),
    );
  });

  it('resumes mid-window at another batch size, past what a crash leaves, with the same continuations and numbers', async () => {
    // Batch 1 makes windows of four prompts: cancelling after six leaves the second window half done.
    const whole = await compareJob(request({ batch: 1 }), testContext<CompareFrame>().context);
    const out = mkdtempSync(join(os.tmpdir(), 'toxscope-resume-batch-'));
    const cancelled = testContext<CompareFrame>((frame, controller) => {
      if (frame.promptsDone >= 6) controller.abort();
    });
    expect(await failure(compareJob(request({ out, batch: 1 }), cancelled.context))).toMatchObject({
      code: 'CANCELLED',
    });
    // What a crash can leave behind: a window's lines appended before its state was saved, and the sums of a
    // checkpoint whose state was never written (here the wrong model's, so counting them would show).
    const partial = join(out, '.partial');
    const state = JSON.parse(readFileSync(join(partial, 'state.json'), 'utf8')) as { checkpoint: number };
    appendFileSync(join(partial, 'base.jsonl'), '"left behind"\n');
    copyFileSync(
      join(partial, `dpo.${state.checkpoint}.safetensors`),
      join(partial, `base.${state.checkpoint + 1}.safetensors`),
    );
    const resumed = await compareJob(request({ out, batch: 2 }), testContext<CompareFrame>().context);
    expect(resumed.resumedFrom).toBe(6);
    expect(readFileSync(join(out, 'generations.jsonl'), 'utf8')).toBe(
      readFileSync(join(whole.out, 'generations.jsonl'), 'utf8'),
    );
    expect(resumed.summary.positions).toBe(whole.summary.positions);
    // Other batches add the same activations in another order: equal up to float rounding.
    const [mine, theirs] = [readNeurons(out), readNeurons(whole.out)];
    for (const column of ['mean_act_pre', 'mean_act_dpo', 'delta'])
      expect(maxAbsDifference(mine.numbers(column), theirs.numbers(column)), column).toBeLessThan(1e-6);
  });

  it('gives identical files when run twice with the same inputs, in turns and side by side', async () => {
    const first = await compareJob(request(), testContext<CompareFrame>().context);
    // Two threads: the models run side by side, one intra-op thread each, as the one thread of `first` ran them in turns.
    const second = await compareJob(request({ threads: 2 }), testContext<CompareFrame>().context);
    for (const file of ['neurons.csv', 'summary.json', 'generations.jsonl']) {
      expect(readFileSync(join(second.out, file), 'utf8'), file).toBe(readFileSync(join(first.out, file), 'utf8'));
    }
    const manifest = JSON.parse(readFileSync(join(first.out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      formatVersion: 1,
      command: 'compare',
      settings: { weightProcessing: 'none' },
      device: { used: 'cpu' },
    });
    expect((manifest.models as { base: { sha256: string } }).base.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('streams partial results after every batch', async () => {
    const { context, frames } = testContext<CompareFrame>();
    await compareJob(request({ batch: 3 }), context);
    expect(frames.map((frame) => frame.promptsDone)).toEqual([3, 6, 9, 10]);
    expect(frames.at(-1)!.summary.prompts).toBe(10);
  });

  it('finds planted effects: last-layer neurons whose key vectors were halved, and nothing else moves', async () => {
    // "DPO" = base with W_in columns of three last-layer neurons scaled by 0.5. With one new token the recorded
    // position is the last prompt token, so no generated token can differ and untouched neurons must not move.
    const folder = tinyGpt2Folder('hub');
    const file = openSafetensors(join(folder, 'model.safetensors'));
    const planted = [3, 11, 20];
    const tensors = [...file.tensors.values()]
      .filter((entry) => entry.dtype === 'F32')
      .map((entry) => {
        const data = file.readFloat32(entry.name);
        if (entry.name === 'h.1.mlp.c_fc.weight')
          for (let row = 0; row < entry.shape[0]!; row++)
            for (const neuron of planted) data[row * entry.shape[1]! + neuron]! *= 0.5;
        return { name: entry.name, dtype: 'F32' as const, shape: entry.shape, data };
      });
    const plantedWeights = join(mkdtempSync(join(os.tmpdir(), 'toxscope-planted-')), 'planted.safetensors');
    writeFileSync(plantedWeights, encodeSafetensors(tensors));
    const result = await compareJob(
      request({ dpo: plantedWeights, maxNewTokens: 1 }),
      testContext<CompareFrame>().context,
    );
    const { numbers, column } = readNeurons(result.out);
    const deltaAct = numbers('delta_act');
    const meanPre = numbers('mean_act_pre');
    const groups = column('group');
    for (let index = 0; index < 64; index++) {
      const layer = Math.floor(index / 32);
      const neuron = index % 32;
      if (layer === 1 && planted.includes(neuron)) {
        expect(Math.abs(deltaAct[index]!), `planted ${neuron}`).toBeGreaterThan(1e-3);
        // Halving x·k shrinks a positive activation; the group follows the neuron's cosine and sign.
        if (meanPre[index]! > 0.1) expect(groups[index]).toMatch(/^(TP-|AP-)$/);
      } else {
        expect(deltaAct[index], `untouched ${layer}/${neuron}`).toBe(0);
      }
    }
  });
});

describe('compare refuses bad input', () => {
  it('a probe whose dimension is not d_model', async () => {
    const probe = join(mkdtempSync(join(os.tmpdir(), 'toxscope-probe-')), 'probe.json');
    writeFileSync(probe, JSON.stringify([1, 2, 3]));
    const error = await failure(compareJob(request({ probe }), testContext<CompareFrame>().context));
    expect(error?.message).toMatch(/has 3 numbers but the model's d_model is 8/);
  });

  it('a DPO model of another shape', async () => {
    const other = tinyGpt2Folder('hub');
    const config = JSON.parse(readFileSync(join(other, 'config.json'), 'utf8')) as Record<string, unknown>;
    config.n_layer = 1;
    writeFileSync(join(other, 'config.json'), JSON.stringify(config));
    // A 1-layer model needs 1-layer weights: keep only layer 0 of the same checkpoint.
    const file = openSafetensors(join(other, 'model.safetensors'));
    const tensors = [...file.tensors.values()]
      .filter((entry) => !entry.name.startsWith('h.1.'))
      .map((entry) => ({
        name: entry.name,
        dtype: 'F32' as const,
        shape: entry.shape,
        data: file.readFloat32(entry.name),
      }));
    writeFileSync(join(other, 'model.safetensors'), encodeSafetensors(tensors));
    const error = await failure(compareJob(request({ dpo: other }), testContext<CompareFrame>().context));
    expect(error?.message).toMatch(/different shapes/);
  });

  it('a DPO model with another tokenizer', async () => {
    const other = tinyGpt2Folder('hub');
    const vocab = JSON.parse(readFileSync(join(other, 'vocab.json'), 'utf8')) as Record<string, number>;
    const [first, second] = Object.keys(vocab);
    [vocab[first!], vocab[second!]] = [vocab[second!]!, vocab[first!]!];
    writeFileSync(join(other, 'vocab.json'), JSON.stringify(vocab));
    expect((await failure(compareJob(request({ dpo: other }), testContext<CompareFrame>().context)))?.message).toMatch(
      /different tokenizers/,
    );
  });

  it('an empty prompts file, and a malformed line with its number', async () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-prompts-'));
    writeFileSync(join(folder, 'empty.jsonl'), '\n\n');
    expect(
      (
        await failure(
          compareJob(request({ prompts: join(folder, 'empty.jsonl') }), testContext<CompareFrame>().context),
        )
      )?.message,
    ).toMatch(/contains no prompts/);
    writeFileSync(join(folder, 'bad.jsonl'), '{"prompt": "fine"}\n{"prompt": 3}\n');
    const error = await failure(
      compareJob(request({ prompts: join(folder, 'bad.jsonl') }), testContext<CompareFrame>().context),
    );
    expect(error?.message).toMatch(/bad\.jsonl, line 2: has no "prompt" string/);
  });

  it('reads prompts from .txt and from .csv with --column', async () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-prompts-'));
    copyFileSync(join(fixtures, 'prompts.jsonl'), join(folder, 'copy.jsonl'));
    writeFileSync(join(folder, 'p.txt'), 'First prompt\n\nSecond prompt\n');
    writeFileSync(join(folder, 'p.csv'), 'id,text\n1,"First, with a comma"\n2,"Second ""quoted"""\n');
    const txt = await compareJob(
      request({ prompts: join(folder, 'p.txt'), maxNewTokens: 2 }),
      testContext<CompareFrame>().context,
    );
    expect(txt.summary.prompts).toBe(2);
    const csv = await compareJob(
      request({ prompts: join(folder, 'p.csv'), column: 'text', maxNewTokens: 2 }),
      testContext<CompareFrame>().context,
    );
    expect(readFileSync(join(csv.out, 'generations.jsonl'), 'utf8')).toContain('"prompt":"Second \\"quoted\\""');
    expect(
      (await failure(compareJob(request({ prompts: join(folder, 'p.csv') }), testContext<CompareFrame>().context)))
        ?.hint,
    ).toMatch(/--column NAME/);
  });
});
