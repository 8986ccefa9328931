// Text → score parity with the independent PyTorch reference (test/golden/classifier-text-*.safetensors): each
// fixture's own tokenizer (uncased and cased WordPiece, RoBERTa's vocab.json + merges.txt) encodes exactly as
// `tokenizer(text, truncation=True, max_length=N)`, and the scores of single texts and of a padded batch match to 1e-4.

import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  classifierMaxLength,
  encodeForClassifier,
  lengthOrder,
  loadClassifierTokenizer,
  openTextClassifier,
  toxicityLabel,
} from '../../../src-main/core/models/classifier/classifier-text.ts';
import { loadClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const golden = (name: string) =>
  openSafetensors(fileURLToPath(new URL(`../../golden/classifier-text-${name}.safetensors`, import.meta.url)));

beforeAll(() => useTemporaryDataDir());

describe('classifier text parity with PyTorch', () => {
  for (const name of ['bert-multilabel', 'bert-softmax', 'roberta']) {
    const file = golden(name);
    const texts = JSON.parse(file.metadata.texts!) as string[];
    const maxLengths = JSON.parse(file.metadata.max_lengths!) as number[];
    for (const maxLength of maxLengths) {
      it(`${name}, max_length ${maxLength}: ids as tokenizer(text, truncation=True) gives them`, async () => {
        const model = loadClassifier(classifierFixture(name));
        const rows = await encodeForClassifier(loadClassifierTokenizer(model), texts, maxLength);
        rows.forEach((row, r) =>
          expect(row, `text ${r}`).toEqual(Array.from(file.readInt64(`max${maxLength}.text${r}.input_ids`), Number)),
        );
      });

      it(`${name}, max_length ${maxLength}: probabilities of each text and of the batch to 1e-4`, async () => {
        const model = loadClassifier(classifierFixture(name));
        const problems: string[] = [];
        for (const batch of [1, texts.length]) {
          const classifier = await openTextClassifier(model, { device: cpu, batch, maxLength });
          const results = await classifier.classify(texts);
          await classifier.release();
          results.forEach((result, r) => {
            expect(result.labels).toEqual(model.labels);
            const actual = Float32Array.from(model.labels.map((label) => result.scores[label]!));
            const expected =
              batch === 1
                ? file.readFloat32(`max${maxLength}.text${r}.probabilities`)
                : file
                    .readFloat32(`max${maxLength}.batch.probabilities`)
                    .slice(r * model.labels.length, (r + 1) * model.labels.length);
            const problem = describeMismatch(`batch ${batch}, text ${r}`, actual, expected, 1e-4);
            if (problem) problems.push(problem);
          });
        }
        expect(problems).toEqual([]);
      });
    }
  }

  it('a text longer than max_length keeps its first N − 2 tokens and ends with the separator', async () => {
    const model = loadClassifier(classifierFixture('bert-multilabel'));
    const tokenizer = loadClassifierTokenizer(model);
    const text = 'the quick brown fox jumps over the lazy dog';
    const [full] = await encodeForClassifier(tokenizer, [text], 512);
    const [cut] = await encodeForClassifier(tokenizer, [text], 6);
    expect(full!.length).toBeGreaterThan(6);
    expect(cut).toEqual([...full!.slice(0, 5), full![full!.length - 1]!]);
  });

  it('the default max length is 512, the tokenizer’s limit, or the model’s positions, whichever is least', () => {
    const model = loadClassifier(classifierFixture('roberta'));
    expect(classifierMaxLength(model, undefined)).toBe(model.config.maxTokens);
    expect(classifierMaxLength(model, 10)).toBe(10);
  });

  it('a --max-length above the model’s positions is refused as bad input, naming the limit', () => {
    const model = loadClassifier(classifierFixture('bert-multilabel'));
    expect(() => classifierMaxLength(model, model.config.maxTokens + 1)).toThrow(
      expect.objectContaining({
        appError: expect.objectContaining({ code: 'INPUT_INVALID', message: expect.stringMatching(/24 positions/) }),
      }),
    );
  });

  it('the gate reads the toxicity label: Detoxify’s, Jigsaw’s, or the toxic side of a two-label head', () => {
    expect(toxicityLabel(['toxicity', 'severe_toxicity', 'obscene'])).toBe('toxicity');
    expect(toxicityLabel(['severe_toxic', 'toxic'])).toBe('toxic');
    expect(toxicityLabel(['non-toxic', 'toxic'])).toBe('toxic');
    expect(toxicityLabel(['neutral', 'offensive', 'hate'])).toBe('offensive');
    expect(toxicityLabel(['LABEL_0', 'LABEL_1'])).toBe('LABEL_1');
  });
});

describe('classifier batching by length', () => {
  const words = 'the quick brown fox jumps over the lazy dog while a cat sleeps'.split(' ');
  /** Eleven texts of 1–14 words in a shuffled order of lengths, so a sorted window really reorders them. */
  const mixed = [5, 1, 14, 3, 9, 2, 12, 7, 1, 10, 4].map((count, index) =>
    Array.from({ length: count }, (_, word) => words[(index + word) % words.length]).join(' '),
  );

  it('scores windows sorted by length, returns them in input order, each as scored alone (1e-5)', async () => {
    const model = loadClassifier(classifierFixture('bert-multilabel'));
    const rows = await encodeForClassifier(loadClassifierTokenizer(model), mixed.slice(0, 9), 24);
    expect(lengthOrder(rows)).not.toEqual(rows.map((_, index) => index)); // the first window is reordered
    const alone = await openTextClassifier(model, { device: cpu, batch: 1, window: 1 });
    const sorted = await openTextClassifier(model, { device: cpu, batch: 3, window: 9 });
    const expected = await alone.classify(mixed);
    const actual = await sorted.classify(mixed);
    await alone.release();
    await sorted.release();
    expect(actual.map((result) => result.text)).toEqual(mixed);
    const problems = actual
      .map((result, r) =>
        describeMismatch(
          `text ${r} (${mixed[r]!.split(' ').length} words)`,
          Float32Array.from(model.labels.map((label) => result.scores[label]!)),
          Float32Array.from(model.labels.map((label) => expected[r]!.scores[label]!)),
          1e-5,
        ),
      )
      .filter((problem) => problem !== null);
    expect(problems).toEqual([]);
  });

  it('orders a window longest first, equal lengths in input order', () => {
    expect(lengthOrder([[1, 2], [1, 2, 3], [1], [4, 5, 6], [7, 8]])).toEqual([1, 3, 0, 4, 2]);
  });

  it('a window defaults to 1,024 texts (8 batches when larger), and is never smaller than a batch', async () => {
    const model = loadClassifier(classifierFixture('bert-multilabel'));
    const opened = await Promise.all(
      [{ batch: 4 }, { batch: 200 }, { batch: 4, window: 2 }].map((options) =>
        openTextClassifier(model, { device: cpu, ...options }),
      ),
    );
    expect(opened.map((classifier) => classifier.window)).toEqual([1024, 1600, 4]);
    for (const classifier of opened) await classifier.release();
  });
});
