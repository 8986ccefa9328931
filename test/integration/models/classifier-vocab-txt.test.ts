// BERT classifiers shipped with only a vocab.txt (bert-base-uncased, unitary/toxic-bert): the folder's tokenizer.json
// replaced by the same vocabulary as vocab.txt gives the ids of the independent PyTorch reference's WordPiece
// (test/golden/classifier-text-*.safetensors) and the same probabilities.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodeForClassifier,
  loadClassifierTokenizer,
  openTextClassifier,
} from '../../../src-main/core/models/classifier/classifier-text.ts';
import { loadClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };

beforeAll(() => useTemporaryDataDir());

/** A copy of a fixture whose tokenizer.json is replaced by vocab.txt, its ids in line order. */
function vocabTxtCopy(name: string): string {
  const folder = classifierFixture(name);
  const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  const tokens = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  tokens.forEach(([, id], line) => expect(id).toBe(line)); // a vocab.txt can only hold consecutive ids
  writeFileSync(join(folder, 'vocab.txt'), `${tokens.map(([token]) => token).join('\n')}\n`);
  rmSync(join(folder, 'tokenizer.json'));
  return folder;
}

describe('BERT classifier folders with vocab.txt only', () => {
  for (const name of ['bert-multilabel', 'bert-softmax']) {
    it(`${name} (${name === 'bert-softmax' ? 'cased' : 'uncased'}): ids and probabilities as the reference`, async () => {
      const file = openSafetensors(
        fileURLToPath(new URL(`../../golden/classifier-text-${name}.safetensors`, import.meta.url)),
      );
      const texts = JSON.parse(file.metadata.texts!) as string[];
      const maxLength = (JSON.parse(file.metadata.max_lengths!) as number[])[0]!;
      const model = loadClassifier(vocabTxtCopy(name));
      const rows = await encodeForClassifier(loadClassifierTokenizer(model), texts, maxLength);
      rows.forEach((row, r) =>
        expect(row, `text ${r}`).toEqual(Array.from(file.readInt64(`max${maxLength}.text${r}.input_ids`), Number)),
      );
      const classifier = await openTextClassifier(model, { device: cpu, batch: 1, maxLength });
      const results = await classifier.classify(texts);
      await classifier.release();
      const problems = results
        .map((result, r) =>
          describeMismatch(
            `text ${r}`,
            Float32Array.from(model.labels.map((label) => result.scores[label]!)),
            file.readFloat32(`max${maxLength}.text${r}.probabilities`),
            1e-4,
          ),
        )
        .filter((problem) => problem !== null);
      expect(problems).toEqual([]);
    });
  }
});
