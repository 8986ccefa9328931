// Tiny seeded BERT/RoBERTa sequence classifiers in Hugging Face layout (config.json, model.safetensors with the real
// key names) written to temporary folders, and copies of the fixtures test/reference/classifier_reference.py wrote.

import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors, type WritableTensor } from '../../src-main/core/weights/safetensors.ts';
import { randomNormal, seededRandom } from './random.ts';

export interface TinyClassifierOptions {
  architecture: 'bert' | 'roberta';
  labels: string[];
  problemType?: 'multi_label_classification' | 'single_label_classification';
}

export const tinyClassifierShape = { dModel: 16, heads: 2, mlp: 32, layers: 2, vocab: 50, positions: 24 };

export function writeTinyClassifierFolder(
  seed: number,
  options: TinyClassifierOptions,
  folder = mkdtempSync(join(os.tmpdir(), 'toxscope-classifier-')),
): string {
  const { dModel: d, heads, mlp, layers, vocab, positions } = tinyClassifierShape;
  const { architecture, labels } = options;
  const roberta = architecture === 'roberta';
  const types = roberta ? 1 : 2;
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({
      architectures: [roberta ? 'RobertaForSequenceClassification' : 'BertForSequenceClassification'],
      model_type: architecture,
      vocab_size: vocab,
      hidden_size: d,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      intermediate_size: mlp,
      hidden_act: 'gelu',
      max_position_embeddings: positions,
      type_vocab_size: types,
      layer_norm_eps: roberta ? 1e-5 : 1e-12,
      pad_token_id: roberta ? 1 : 0,
      id2label: Object.fromEntries(labels.map((name, id) => [String(id), name])),
      label2id: Object.fromEntries(labels.map((name, id) => [name, id])),
      ...(options.problemType ? { problem_type: options.problemType } : {}),
    }),
  );
  const random = seededRandom(seed);
  const tensors: WritableTensor[] = [];
  const add = (name: string, shape: number[], std: number, base = 0) => {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, dtype: 'F32', shape, data: randomNormal(random, count, std).map((value) => value + base) });
  };
  const p = `${architecture}.`;
  add(`${p}embeddings.word_embeddings.weight`, [vocab, d], 0.3);
  add(`${p}embeddings.position_embeddings.weight`, [positions, d], 0.2);
  add(`${p}embeddings.token_type_embeddings.weight`, [types, d], 0.2);
  add(`${p}embeddings.LayerNorm.weight`, [d], 0.1, 1);
  add(`${p}embeddings.LayerNorm.bias`, [d], 0.1);
  for (let layer = 0; layer < layers; layer++) {
    const q = `${p}encoder.layer.${layer}.`;
    for (const projection of ['query', 'key', 'value']) {
      add(`${q}attention.self.${projection}.weight`, [d, d], 0.4);
      add(`${q}attention.self.${projection}.bias`, [d], 0.1);
    }
    add(`${q}attention.output.dense.weight`, [d, d], 0.3);
    add(`${q}attention.output.dense.bias`, [d], 0.1);
    add(`${q}attention.output.LayerNorm.weight`, [d], 0.1, 1);
    add(`${q}attention.output.LayerNorm.bias`, [d], 0.1);
    add(`${q}intermediate.dense.weight`, [mlp, d], 0.3);
    add(`${q}intermediate.dense.bias`, [mlp], 0.1);
    add(`${q}output.dense.weight`, [d, mlp], 0.3);
    add(`${q}output.dense.bias`, [d], 0.1);
    add(`${q}output.LayerNorm.weight`, [d], 0.1, 1);
    add(`${q}output.LayerNorm.bias`, [d], 0.1);
  }
  const head = roberta
    ? { dense: 'classifier.dense', out: 'classifier.out_proj' }
    : { dense: 'bert.pooler.dense', out: 'classifier' };
  add(`${head.dense}.weight`, [d, d], 0.3);
  add(`${head.dense}.bias`, [d], 0.1);
  add(`${head.out}.weight`, [labels.length, d], 0.6);
  add(`${head.out}.bias`, [labels.length], 0.2);
  writeFileSync(join(folder, 'model.safetensors'), encodeSafetensors(tensors));
  return folder;
}

const fixtures = fileURLToPath(new URL('../fixtures/classifiers/', import.meta.url));

/** A copy of test/fixtures/classifiers/<name> (a folder or a file) in a fresh temporary folder; returns its path. */
export function classifierFixture(name: string): string {
  const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-classifier-fixture-'));
  const target = join(folder, basename(name));
  cpSync(join(fixtures, name), target, { recursive: true });
  return target;
}
