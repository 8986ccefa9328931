// The probe in every accepted format (files written by torch.save and numpy.save), label parsing, and the
// logistic-regression fit that `probe train` uses.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitLogisticRegression, predictLogit } from '../../../src-main/core/interp/logistic-regression.ts';
import { loadProbe } from '../../../src-main/core/interp/probe.ts';
import { parseLabel } from '../../../src-main/core/interp/probe-train-job.ts';
import { encodeSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { toAppError } from '../../../src-main/shared/index.ts';
import { seededRandom } from '../../support/random.ts';

const probes = new URL('../../fixtures/probes/', import.meta.url).pathname;
const expected = [0.5, -0.2, 0.1, 0.9, -0.4, 0.3, 0.2, -0.7];

describe('probe files', () => {
  it.each(['vector.pt', 'row.pt', 'two-columns.pt', 'state-dict.pt', 'vector.npy', 'vector.json'])(
    'reads %s as the same vector',
    (file) => {
      const probe = loadProbe(join(probes, file), 8);
      Array.from(probe.vector).forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 6));
      expect(probe.norm).toBeCloseTo(Math.hypot(...expected), 6);
      expect(probe.sha256).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('reads a one-tensor safetensors probe', () => {
    const path = join(mkdtempSync(join(os.tmpdir(), 'toxscope-probe-')), 'probe.safetensors');
    writeFileSync(
      path,
      encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [8], data: Float32Array.from(expected) }]),
    );
    expect(Array.from(loadProbe(path, 8).vector)).toEqual(Array.from(Float32Array.from(expected)));
  });

  it('refuses a probe whose size is not d_model, naming both', () => {
    let message = '';
    try {
      loadProbe(join(probes, 'vector.pt'), 1024);
    } catch (thrown) {
      message = toAppError(thrown).message;
    }
    expect(message).toMatch(/has 8 numbers but the model's d_model is 1024/);
  });
});

describe('labels', () => {
  it('reads numbers, DynaHate and common words, or an explicit positive value', () => {
    expect(parseLabel('0.8')).toBe(1);
    expect(parseLabel('0.0')).toBe(0);
    expect(parseLabel('hate')).toBe(1);
    expect(parseLabel('nothate')).toBe(0);
    expect(parseLabel('maybe')).toBeNull();
    expect(parseLabel('spam', 'spam')).toBe(1);
    expect(parseLabel('ham', 'spam')).toBe(0);
  });
});

describe('logistic regression', () => {
  it('reaches a stationary point of the L2-regularised loss and separates a learnable problem', () => {
    const random = seededRandom(3);
    const truth = [2, -1, 0.5, 0];
    const features: Float64Array[] = [];
    const labels: number[] = [];
    for (let index = 0; index < 400; index++) {
      const x = Float64Array.from(truth, () => random() * 2 - 1);
      features.push(x);
      labels.push(truth.reduce((sum, w, j) => sum + w * x[j]!, 0) + 0.3 * (random() - 0.5) > 0 ? 1 : 0);
    }
    const model = fitLogisticRegression(features, Uint8Array.from(labels));
    expect(model.gradientNorm).toBeLessThan(1e-3);
    const accuracy =
      features.filter((x, index) => (predictLogit(model, x) > 0 ? 1 : 0) === labels[index]).length / features.length;
    expect(accuracy).toBeGreaterThan(0.9);
    expect(model.weights[0]).toBeGreaterThan(0);
    expect(model.weights[1]).toBeLessThan(0);
  });
});
