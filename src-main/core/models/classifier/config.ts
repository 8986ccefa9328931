// Sequence classifiers (BertForSequenceClassification, RobertaForSequenceClassification; spec cli.md "Toxicity
// classifiers"): config.json read into TransformerLens-style names, and how the head's outputs are read — the label
// names in id order and the activation Hugging Face's text-classification pipeline applies to the logits.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { raise } from '../../../shared/index.ts';

export const classifierArchitectures = ['bert', 'roberta'] as const;
export type ClassifierArchitecture = (typeof classifierArchitectures)[number];

/** sigmoid: every label independent; softmax: one distribution over all labels. */
export type ClassifierActivation = 'sigmoid' | 'softmax';

export interface ClassifierConfig {
  architecture: ClassifierArchitecture;
  dModel: number;
  nLayers: number;
  nHeads: number;
  dHead: number;
  dMlp: number;
  dVocab: number;
  /** Rows of the learned position table (max_position_embeddings). */
  nCtx: number;
  /** Rows of the token-type table (type_vocab_size); ToxScope always reads row 0, as a single-text input does. */
  nTokenTypes: number;
  layerNormEps: number;
  padTokenId: number;
  /**
   * Longest input in tokens, special tokens included: every position id must index the table. BERT counts positions
   * from 0, so nCtx; RoBERTa from pad_token_id + 1 (fairseq's legacy), so nCtx − pad_token_id − 1 (512 for roberta-base).
   */
  maxTokens: number;
  /** Outputs of the classification head (rows of classifier.weight / classifier.out_proj.weight). */
  nOutputs: number;
}

/** config.json as read, before any field is trusted. */
export interface ClassifierConfigJson {
  path: string;
  json: Record<string, unknown>;
  architecture: ClassifierArchitecture;
}

/** Hugging Face's class defaults (BertConfig, RobertaConfig) for keys a config.json leaves out. */
const defaults: Record<ClassifierArchitecture, Record<string, number | string>> = {
  bert: {
    vocab_size: 30522,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    hidden_act: 'gelu',
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  },
  // RobertaConfig inherits BertConfig's defaults but for the vocabulary and the pad id (roberta-base's config.json
  // sets max_position_embeddings 514, type_vocab_size 1 and layer_norm_eps 1e-5 explicitly).
  roberta: {
    vocab_size: 50265,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    hidden_act: 'gelu',
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 1,
  },
};

const restoreHint = 'Restore config.json from the original model.';

/** Reads `folder/config.json` and checks that it describes a BERT or RoBERTa model. */
export function readClassifierConfigJson(folder: string): ClassifierConfigJson {
  const path = join(folder, 'config.json');
  if (!existsSync(path)) {
    raise(
      'MODEL_NOT_FOUND',
      `${folder} has no config.json.`,
      'Pass the model folder as saved by save_pretrained (config.json beside the weights).',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    raise('WEIGHTS_INVALID', `${path} is not valid JSON (${(error as Error).message}).`, restoreHint);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    raise('WEIGHTS_INVALID', `${path} is not a JSON object.`, restoreHint);
  const modelType = (json as { model_type?: unknown }).model_type;
  if (!(classifierArchitectures as readonly unknown[]).includes(modelType)) {
    raise(
      'WEIGHTS_INVALID',
      `${path} describes a "${String(modelType)}" model; toxicity classifiers must be "bert" or "roberta" (model_type).`,
      'Pass a BertForSequenceClassification or RobertaForSequenceClassification model.',
    );
  }
  return { path, json: json as Record<string, unknown>, architecture: modelType as ClassifierArchitecture };
}

/** Hyperparameters from config.json; `nOutputs` is the head's size (from id2label, or a Detoxify checkpoint). */
export function parseClassifierConfig(raw: ClassifierConfigJson, nOutputs: number): ClassifierConfig {
  const { path, json, architecture } = raw;
  const value = (key: string): unknown => json[key] ?? defaults[architecture][key];
  const integer = (key: string, minimum: number): number => {
    const found = value(key);
    if (!Number.isInteger(found) || (found as number) < minimum) {
      return raise(
        'WEIGHTS_INVALID',
        `${path}: "${key}" must be an integer ≥ ${minimum}, got ${JSON.stringify(json[key])}.`,
        restoreHint,
      );
    }
    return found as number;
  };
  const dModel = integer('hidden_size', 1);
  const nHeads = integer('num_attention_heads', 1);
  if (dModel % nHeads !== 0) {
    raise('WEIGHTS_INVALID', `${path}: hidden_size ${dModel} is not a multiple of ${nHeads} heads.`, restoreHint);
  }
  const activation = value('hidden_act');
  if (activation !== 'gelu') {
    raise(
      'WEIGHTS_INVALID',
      `${path}: hidden_act ${JSON.stringify(activation)} is not supported; ToxScope runs BERT and RoBERTa with "gelu" (the exact erf GELU).`,
      'Use a classifier fine-tuned from a standard BERT or RoBERTa checkpoint.',
    );
  }
  const positionType = json.position_embedding_type ?? 'absolute';
  if (positionType !== 'absolute') {
    raise(
      'WEIGHTS_INVALID',
      `${path}: position_embedding_type ${JSON.stringify(positionType)} is not supported (only "absolute").`,
      'Use a classifier with absolute position embeddings (the BERT and RoBERTa default).',
    );
  }
  if (json.is_decoder === true) {
    raise(
      'WEIGHTS_INVALID',
      `${path}: is_decoder is true; a sequence classifier attends both ways.`,
      'Use an encoder (is_decoder false) classifier.',
    );
  }
  const eps = value('layer_norm_eps');
  if (typeof eps !== 'number' || !(eps > 0)) {
    raise(
      'WEIGHTS_INVALID',
      `${path}: "layer_norm_eps" must be a positive number, got ${JSON.stringify(eps)}.`,
      restoreHint,
    );
  }
  const nCtx = integer('max_position_embeddings', 1);
  const padTokenId = integer('pad_token_id', 0);
  const maxTokens = architecture === 'roberta' ? nCtx - padTokenId - 1 : nCtx;
  if (maxTokens < 2) {
    raise(
      'WEIGHTS_INVALID',
      `${path}: max_position_embeddings ${nCtx} leaves no room for a RoBERTa input with pad_token_id ${padTokenId}.`,
      restoreHint,
    );
  }
  return {
    architecture,
    dModel,
    nLayers: integer('num_hidden_layers', 1),
    nHeads,
    dHead: dModel / nHeads,
    dMlp: integer('intermediate_size', 1),
    dVocab: integer('vocab_size', 1),
    nCtx,
    nTokenTypes: integer('type_vocab_size', 1),
    layerNormEps: eps as number,
    padTokenId,
    maxTokens,
    nOutputs,
  };
}

export interface ClassifierLabels {
  /** Label names in id order. */
  labels: string[];
  activation: ClassifierActivation;
}

/**
 * Labels and activation of a Hugging Face classifier, as PretrainedConfig and the text-classification pipeline read
 * them: id2label in id order (else num_labels, default 2, named LABEL_i); sigmoid for multi_label_classification or a
 * single label, softmax otherwise. A regression head (problem_type "regression") is not a classifier: refused.
 */
export function readClassifierLabels(raw: ClassifierConfigJson): ClassifierLabels {
  const { path, json } = raw;
  let labels: string[];
  const id2label = json.id2label;
  if (id2label !== undefined && id2label !== null) {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) {
      raise('WEIGHTS_INVALID', `${path}: "id2label" must be an object of id → name.`, restoreHint);
    }
    const entries = Object.entries(id2label as Record<string, unknown>);
    labels = new Array<string>(entries.length);
    for (const [key, name] of entries) {
      const id = Number(key);
      if (!/^\d+$/.test(key) || id >= entries.length || labels[id] !== undefined || typeof name !== 'string') {
        raise(
          'WEIGHTS_INVALID',
          `${path}: "id2label" must map the ids 0…${entries.length - 1} to names, once each; found ${JSON.stringify(key)}: ${JSON.stringify(name)}.`,
          restoreHint,
        );
      }
      labels[id] = name;
    }
    // A "num_labels" beside id2label is ignored, as PretrainedConfig does (it warns and keeps id2label).
  } else {
    const count = json.num_labels ?? 2;
    if (!Number.isInteger(count) || (count as number) < 1) {
      raise('WEIGHTS_INVALID', `${path}: "num_labels" must be a positive integer.`, restoreHint);
    }
    labels = Array.from({ length: count as number }, (_, id) => `LABEL_${id}`);
  }
  if (labels.length === 0) raise('WEIGHTS_INVALID', `${path}: "id2label" is empty.`, restoreHint);

  const problemType = json.problem_type ?? null;
  const problemTypes = ['single_label_classification', 'multi_label_classification', 'regression'];
  if (problemType !== null && !problemTypes.includes(problemType as string)) {
    raise(
      'WEIGHTS_INVALID',
      `${path}: problem_type ${JSON.stringify(problemType)} is none of ${problemTypes.join(', ')}.`,
      restoreHint,
    );
  }
  if (problemType === 'regression') {
    raise(
      'WEIGHTS_INVALID',
      `${path}: problem_type "regression": this model predicts numbers, not label probabilities.`,
      'Pass a classification model (single- or multi-label).',
    );
  }
  const activation: ClassifierActivation =
    problemType === 'multi_label_classification' || labels.length === 1 ? 'sigmoid' : 'softmax';
  return { labels, activation };
}
