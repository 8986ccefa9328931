// Loading toxicity classifiers: Hugging Face folders and Detoxify checkpoints give their labels and activation, and
// every broken model is refused with WEIGHTS_INVALID (exit 3) and a message that names the problem.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src-main/cli/exit-codes.ts';
import { readClassifierLabels } from '../../../src-main/core/models/classifier/config.ts';
import { loadClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { openTorchCheckpoint } from '../../../src-main/core/weights/pytorch-checkpoint.ts';
import type { PickleValue } from '../../../src-main/core/weights/restricted-unpickler.ts';
import { evilCheckpoint, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { classifierFixture } from '../../support/tiny-classifier.ts';
import { raisedBy as failure } from '../../support/app-error.ts';

function editConfig(folder: string, change: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
  return folder;
}

const savedCache = process.env.HF_HUB_CACHE;
beforeAll(() => useTemporaryDataDir());
afterEach(() => {
  if (savedCache === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = savedCache;
});

/** An empty Hugging Face cache, so no test depends on what this machine has downloaded. */
function emptyCache(): string {
  const cache = mkdtempSync(join(os.tmpdir(), 'toxscope-hf-'));
  process.env.HF_HUB_CACHE = cache;
  return cache;
}

describe('loading Hugging Face classifiers', () => {
  it('reads a multi-label BERT from model.safetensors: id2label in order, sigmoid, buffers ignored', () => {
    const model = loadClassifier(classifierFixture('bert-multilabel'));
    expect(model.format).toBe('huggingface');
    expect(model.labels).toEqual(['toxic', 'severe_toxic', 'obscene', 'insult']);
    expect(model.activation).toBe('sigmoid');
    expect(model.config).toMatchObject({ architecture: 'bert', dModel: 16, nLayers: 2, nOutputs: 4, maxTokens: 24 });
    expect(model.weights.has('embed.W_pos')).toBe(true);
    expect([...model.weights.keys()].some((name) => name.includes('position_ids'))).toBe(false);
  });

  it('reads pytorch_model.bin with LayerNorm gamma/beta names; two labels without problem_type use softmax', () => {
    const model = loadClassifier(classifierFixture('bert-softmax'));
    expect(model.stateDict.format).toBe('pytorch');
    expect(model.labels).toEqual(['non-toxic', 'toxic']);
    expect(model.activation).toBe('softmax');
    expect(model.weights.get('blocks.1.ln_mlp.w')?.name).toBe('bert.encoder.layer.1.output.LayerNorm.gamma');
  });

  it('reads a RoBERTa classifier and ignores its unused pooler; positions exclude pad_token_id + 1', () => {
    const model = loadClassifier(classifierFixture('roberta'));
    expect(model.labels).toEqual(['neutral', 'offensive', 'hate']);
    expect(model.activation).toBe('softmax');
    expect(model.config).toMatchObject({ architecture: 'roberta', nCtx: 26, padTokenId: 1, maxTokens: 24 });
    expect([...model.weights.values()].some((tensor) => tensor.name.includes('pooler'))).toBe(false);
  });

  it('puts id2label in id order whatever the JSON order', () => {
    const folder = editConfig(classifierFixture('roberta'), (config) => {
      config.id2label = { '2': 'hate', '0': 'neutral', '1': 'offensive' };
    });
    expect(loadClassifier(folder).labels).toEqual(['neutral', 'offensive', 'hate']);
  });
});

describe('the activation rule of the text-classification pipeline', () => {
  const read = (json: Record<string, unknown>) =>
    readClassifierLabels({ path: 'config.json', json: { model_type: 'bert', ...json }, architecture: 'bert' });

  it('sigmoid for multi_label_classification and for a single label, softmax otherwise', () => {
    expect(read({ problem_type: 'multi_label_classification', num_labels: 3 }).activation).toBe('sigmoid');
    expect(read({ num_labels: 1 })).toEqual({ labels: ['LABEL_0'], activation: 'sigmoid' });
    expect(read({ problem_type: 'single_label_classification', id2label: { 0: 'toxic' } }).activation).toBe('sigmoid');
    expect(read({ id2label: { 0: 'a', 1: 'b', 2: 'c' } }).activation).toBe('softmax');
    expect(read({ problem_type: 'single_label_classification', num_labels: 2 }).activation).toBe('softmax');
  });

  it("names the labels LABEL_0, LABEL_1 when config.json has neither id2label nor num_labels (PretrainedConfig's default)", () => {
    expect(read({})).toEqual({ labels: ['LABEL_0', 'LABEL_1'], activation: 'softmax' });
  });

  it('refuses an id2label that skips an id', () => {
    expect(() => read({ id2label: { 0: 'a', 2: 'c' } })).toThrow(/must map the ids 0…1 to names/);
  });
});

describe('loading Detoxify checkpoints', () => {
  it('reads {"config", "state_dict"}: classes renamed as Detoxify does, the first len(classes) of 6 outputs, sigmoid', () => {
    const model = loadClassifier(classifierFixture('detoxify-unbiased.ckpt'), {
      tokenizerFolder: classifierFixture('detoxify-base'),
    });
    expect(model.format).toBe('detoxify');
    expect(model.labels).toEqual(['toxicity', 'severe_toxicity', 'obscene', 'identity_attack']);
    expect(model.config.nOutputs).toBe(6);
    expect(model.activation).toBe('sigmoid');
    expect(model.configPath).toMatch(/detoxify-base[/\\]config\.json$/);
  });

  it('reads the nested config through the restricted reader: dicts, lists, floats, booleans and None', () => {
    const { root } = openTorchCheckpoint(classifierFixture('detoxify-unbiased.ckpt'));
    const config = (root as Map<string, PickleValue>).get('config') as Map<string, PickleValue>;
    const get = (value: PickleValue | undefined, key: string) => (value as Map<string, PickleValue>).get(key);
    const optimizer = get(get(config, 'optimizer'), 'args');
    expect(get(optimizer, 'lr')).toBeCloseTo(3e-5, 12);
    expect(get(optimizer, 'amsgrad')).toBe(true);
    const dataset = get(get(config, 'dataset'), 'args');
    expect(get(dataset, 'test_csv_file')).toBeNull();
    expect(get(dataset, 'classes')).toEqual(['toxic', 'severe_toxic', 'obscene', 'identity_hate']);
  });

  it("finds the base model's config.json in the local Hugging Face cache under config.arch.args.model_type", () => {
    const cache = emptyCache();
    const snapshot = join(cache, 'models--tiny-roberta-base', 'snapshots', 'abc123');
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(cache, 'models--tiny-roberta-base', 'refs'));
    writeFileSync(join(cache, 'models--tiny-roberta-base', 'refs', 'main'), 'abc123\n');
    copyFileSync(join(classifierFixture('detoxify-base'), 'config.json'), join(snapshot, 'config.json'));
    const model = loadClassifier(classifierFixture('detoxify-unbiased.ckpt'));
    expect(model.tokenizerFolder).toBe(snapshot);
    expect(model.labels).toHaveLength(4);
  });

  it('without --tokenizer and without the base model in the cache: exit 2, naming --tokenizer', () => {
    emptyCache();
    const error = failure(() => loadClassifier(classifierFixture('detoxify-unbiased.ckpt')));
    expect(error.code).toBe('INPUT_INVALID');
    expect(exitCodeFor(error.code)).toBe(2);
    expect(error.message).toMatch(/tiny-roberta-base/);
    expect(error.hint).toMatch(/--tokenizer/);
  });

  it("refuses a base config of another architecture than the checkpoint's model class", () => {
    const error = failure(() =>
      loadClassifier(classifierFixture('detoxify-unbiased.ckpt'), {
        tokenizerFolder: classifierFixture('bert-multilabel'),
      }),
    );
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/RobertaForSequenceClassification, but .* describes a "bert" model/);
  });
});

describe('refusing broken classifiers (WEIGHTS_INVALID, exit 3)', () => {
  it('a checkpoint with no classification head (BertForMaskedLM)', () => {
    const error = failure(() => loadClassifier(classifierFixture('bad/no-head')));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(exitCodeFor(error.code)).toBe(3);
    expect(error.message).toMatch(/no BERT sequence-classification head: expected classifier\.weight/);
    expect(error.message).toMatch(/found cls\.predictions/);
  });

  it('id2label with 3 labels for a head of 2 outputs', () => {
    const error = failure(() => loadClassifier(classifierFixture('bad/label-mismatch')));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/classifier\.weight .* has 2 outputs, but id2label in .*config\.json gives 3\./);
  });

  it('a raw PyTorch Lightning checkpoint (no top-level "config"), pointing at convert_weights.py', () => {
    const error = failure(() =>
      loadClassifier(classifierFixture('bad/lightning-raw.ckpt'), {
        tokenizerFolder: classifierFixture('detoxify-base'),
      }),
    );
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/lacks the top-level "config" .* raw PyTorch Lightning training checkpoint/);
    expect(error.hint).toMatch(/convert_weights\.py/);
  });

  it('a .ckpt whose pickle names os.system, executing nothing', () => {
    rmSync('/tmp/toxscope-pwned', { force: true });
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-evil-'));
    copyFileSync(evilCheckpoint, join(folder, 'evil.ckpt'));
    const error = failure(() => loadClassifier(join(folder, 'evil.ckpt')));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/"posix\.system"[\s\S]*Nothing in the file was executed/);
    expect(existsSync('/tmp/toxscope-pwned')).toBe(false);
  });

  it('a model_type other than bert or roberta', () => {
    const folder = editConfig(classifierFixture('bert-multilabel'), (config) => (config.model_type = 'distilbert'));
    const error = failure(() => loadClassifier(folder));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/"distilbert" model; toxicity classifiers must be "bert" or "roberta"/);
  });

  it('weights of the other architecture than config.json says (RoBERTa keys under model_type bert)', () => {
    const folder = editConfig(classifierFixture('roberta'), (config) => (config.model_type = 'bert'));
    const error = failure(() => loadClassifier(folder));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/no BERT sequence-classification head.*found classifier\.dense\.weight/);
  });

  it('a hidden_act other than the exact gelu, and a regression head', () => {
    const act = editConfig(classifierFixture('bert-multilabel'), (config) => (config.hidden_act = 'gelu_new'));
    expect(failure(() => loadClassifier(act)).message).toMatch(/hidden_act "gelu_new" is not supported/);
    const regression = editConfig(
      classifierFixture('bert-multilabel'),
      (config) => (config.problem_type = 'regression'),
    );
    const error = failure(() => loadClassifier(regression));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/problem_type "regression"/);
  });

  it('a tensor whose shape disagrees with config.json, naming the tensor', () => {
    const folder = editConfig(classifierFixture('bert-multilabel'), (config) => (config.intermediate_size = 64));
    const error = failure(() => loadClassifier(folder));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(
      /Tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" .* \[32, 16\], but config\.json implies \[64, 16\]/,
    );
  });

  it('a folder without weights (MODEL_NOT_FOUND, exit 3)', () => {
    const folder = classifierFixture('bert-multilabel');
    rmSync(join(folder, 'model.safetensors'));
    const error = failure(() => loadClassifier(folder));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(exitCodeFor(error.code)).toBe(3);
  });
});
