// Golden parity with the independent PyTorch classifiers (test/reference/classifier_reference.py): each fixture in
// its real layout (safetensors, pytorch_model.bin with gamma/beta names, a Detoxify .ckpt) gives the labels in order,
// the activation, and the probabilities (1e-4) and logits of single rows and a right-padded batch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ClassifierSession } from '../../../src-main/core/models/classifier/classifier-session.ts';
import { loadClassifier, type LoadedClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { classifierPositionIds } from '../../../src-main/core/models/classifier/reference.ts';
import { openSafetensors, type SafetensorsFile } from '../../../src-main/core/weights/safetensors.ts';
import { describeMismatch, maxAbsDifference } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const golden = (name: string) =>
  openSafetensors(fileURLToPath(new URL(`../../golden/classifier-${name}.safetensors`, import.meta.url)));
const measured: string[] = [];

const cases: { name: string; load: () => LoadedClassifier }[] = [
  { name: 'bert-multilabel', load: () => loadClassifier(classifierFixture('bert-multilabel')) },
  { name: 'bert-softmax', load: () => loadClassifier(classifierFixture('bert-softmax')) },
  { name: 'roberta', load: () => loadClassifier(classifierFixture('roberta')) },
  {
    name: 'detoxify-unbiased',
    load: () =>
      loadClassifier(classifierFixture('detoxify-unbiased.ckpt'), {
        tokenizerFolder: classifierFixture('detoxify-base'),
      }),
  },
];

beforeAll(() => useTemporaryDataDir());
afterAll(() => console.log(measured.join('\n')));

function rowsOf(file: SafetensorsFile): number[][] {
  return Array.from({ length: Number(file.metadata.rows) }, (_, r) =>
    Array.from(file.readInt64(`row${r}.input_ids`), Number),
  );
}

describe('classifier golden parity with PyTorch', () => {
  for (const { name, load } of cases) {
    it(`${name}: labels in id order and the activation the pipeline (or Detoxify) uses`, () => {
      const file = golden(name);
      expect(file.metadata.format_version).toBe('1');
      const model = load();
      expect(model.labels).toEqual(JSON.parse(file.metadata.labels!));
      expect(model.activation).toBe(file.metadata.activation);
    });

    for (const attention of ['fused', 'standard'] as const) {
      it(`${name}, ${attention} attention: probabilities to 1e-4 and logits of each row and of the padded batch`, async () => {
        const file = golden(name);
        const model = load();
        const session = await ClassifierSession.open(model, {
          device: cpu,
          attention,
          logits: true,
          batch: 4,
          length: 24,
        });
        const rows = rowsOf(file);
        const problems: string[] = [];
        let worst = 0;
        const check = (what: string, actual: Float32Array, expected: Float32Array) => {
          worst = Math.max(worst, maxAbsDifference(actual, expected));
          const problem = describeMismatch(what, actual, expected, 1e-4);
          if (problem) problems.push(problem);
        };
        for (const [r, row] of rows.entries()) {
          const scores = await session.score([row]);
          check(`row ${r} probabilities`, scores.probabilities[0]!, file.readFloat32(`row${r}.probabilities`));
          check(`row ${r} logits`, scores.logits![0]!, file.readFloat32(`row${r}.logits`));
        }
        const batch = await session.score(rows);
        const flat = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((part) => Array.from(part)));
        check('batch probabilities', flat(batch.probabilities), file.readFloat32('batch.probabilities'));
        check('batch logits', flat(batch.logits!), file.readFloat32('batch.logits'));
        await session.release();
        measured.push(`${name} ${attention}: max |ToxScope − PyTorch| ${worst.toExponential(2)}`);
        expect(problems).toEqual([]);
      });
    }

    it(`${name}: the padded batch's position ids are PyTorch's`, () => {
      const file = golden(name);
      const model = load();
      const ids = Array.from(file.readInt64('batch.input_ids'), Number);
      const expected = Array.from(file.readInt64('batch.position_ids'), Number);
      const width = ids.length / Number(file.metadata.rows);
      const actual = Array.from({ length: Number(file.metadata.rows) }, (_, r) =>
        classifierPositionIds(model.config, ids.slice(r * width, (r + 1) * width)),
      ).flat();
      expect(actual).toEqual(expected);
    });
  }
});
