// The `classifier:inspect` job behind the Models page's classifier rows (issue 15 §5): a toxicity classifier is
// described as its own kind — architecture, layers, labels and the one the detox gate reads, parameters, fingerprint —
// and a reference that is not a classifier fails with the loader's message.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { inspectClassifierJob } from '../../../src-main/core/models/model-jobs.ts';
import { jobRequestGuards, toAppError } from '../../../src-main/shared/index.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';

beforeAll(() => useTemporaryDataDir());

const inspect = (model: string) => inspectClassifierJob({ model }, testContext<never>().context);

describe('classifier:inspect', () => {
  it('describes demo:classifier: a RoBERTa sequence classifier whose one label is the gate’s', async () => {
    const inspection = await inspect('demo:classifier');
    const loaded = loadClassifier('demo:classifier');
    expect(inspection).toMatchObject({
      architecture: 'roberta',
      format: 'huggingface',
      nLayers: loaded.config.nLayers,
      dModel: loaded.config.dModel,
      labels: ['toxicity'],
      activation: 'sigmoid',
      toxicityLabel: 'toxicity',
      parameters: loaded.parameters,
    });
    expect(inspection.weights.sha256).toBe(loaded.fingerprint());
    expect(inspection.weights.files.length).toBeGreaterThan(0);
  });

  it('names the label the gate compares on a multi-label BERT head', async () => {
    const inspection = await inspect(classifierFixture('bert-multilabel'));
    expect(inspection.architecture).toBe('bert');
    expect(inspection.labels.length).toBeGreaterThan(1);
    expect(inspection.labels).toContain(inspection.toxicityLabel);
  });

  it('fails on a language model with a message naming it', async () => {
    const error = await inspect('demo:gpt2-base').then(
      () => expect.fail('a language model is not a classifier'),
      toAppError,
    );
    expect(error.code).toMatch(/INVALID|NOT_FOUND/);
    expect(error.message).toMatch(/gpt2/);
  });

  it('accepts {model, tokenizer?} requests and nothing else', () => {
    const guard = jobRequestGuards['classifier:inspect'];
    expect(guard({ model: 'demo:classifier' })).toBe(true);
    expect(guard({ model: '/m/detoxify.ckpt', tokenizer: 'bert-base-uncased' })).toBe(true);
    expect(guard({ model: '' })).toBe(false);
    expect(guard({ model: 'demo:classifier', weights: '/x' })).toBe(false);
  });
});
