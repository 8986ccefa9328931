// Loads a toxicity classifier (spec cli.md "Toxicity classifiers", <model>): a Hugging Face BERT/RoBERTa
// sequence-classification model (folder, cached org/name, demo:) or a Detoxify `.ckpt` whose hyperparameters come
// from the base model's config.json (--tokenizer, else config.arch.args.model_type in the local HF cache).
// Tensors are read lazily, when a graph or the reference needs them.

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { raise } from '../../../shared/index.ts';
import { fingerprintFiles } from '../../weights/fingerprint.ts';
import {
  findFolderWeights,
  loadStateDictFile,
  type StateDict,
  type StateDictTensor,
} from '../../weights/state-dict.ts';
import { resolveCachedRepo, resolveModelRef } from '../model-ref.ts';
import {
  parseClassifierConfig,
  readClassifierConfigJson,
  readClassifierLabels,
  type ClassifierActivation,
  type ClassifierConfig,
} from './config.ts';
import { readDetoxifyCheckpoint } from './detoxify.ts';
import { mapClassifierWeights } from './weights.ts';

export interface LoadedClassifier {
  /** What the user typed. */
  reference: string;
  format: 'huggingface' | 'detoxify';
  /** The config.json that gave the hyperparameters (for a Detoxify checkpoint: the base model's). */
  configPath: string;
  /**
   * Where the tokenizer files are read from: the --tokenizer folder when given, else the model's folder (for a
   * Detoxify checkpoint, the base model's folder).
   */
  tokenizerFolder: string;
  config: ClassifierConfig;
  /** Names of the reported outputs in id order: the head's first labels.length outputs. */
  labels: string[];
  activation: ClassifierActivation;
  stateDict: StateDict;
  /** Canonical name → tensor (see weights.ts). */
  weights: Map<string, StateDictTensor>;
  /** sha256 of the weights files (cached on disk by path, size and mtime). */
  fingerprint(): string;
  parameters: number;
}

export interface LoadClassifierOptions {
  /** --tokenizer: a folder or cached org/name with the tokenizer (and, for a Detoxify checkpoint, config.json). */
  tokenizerFolder?: string;
}

function isDetoxifyReference(reference: string): boolean {
  return reference.toLowerCase().endsWith('.ckpt');
}

export function loadClassifier(reference: string, options: LoadClassifierOptions = {}): LoadedClassifier {
  const tokenizerFolder = options.tokenizerFolder ? resolveModelRef(options.tokenizerFolder).folder : undefined;
  return isDetoxifyReference(reference)
    ? loadDetoxify(reference, tokenizerFolder)
    : loadHuggingFace(reference, tokenizerFolder);
}

function loaded(
  base: Omit<LoadedClassifier, 'fingerprint' | 'parameters' | 'weights'>,
  weights: Map<string, StateDictTensor>,
): LoadedClassifier {
  let fingerprint: string | null = null;
  return {
    ...base,
    weights,
    fingerprint: () => (fingerprint ??= fingerprintFiles(base.stateDict.files)),
    parameters: [...weights.values()].reduce(
      (sum, tensor) => sum + tensor.shape.reduce((product, dim) => product * dim, 1),
      0,
    ),
  };
}

function loadHuggingFace(reference: string, tokenizerFolder: string | undefined): LoadedClassifier {
  const resolved = resolveModelRef(reference);
  const raw = readClassifierConfigJson(resolved.folder);
  const { labels, activation } = readClassifierLabels(raw);
  const config = parseClassifierConfig(raw, labels.length);
  const weightsPath = findFolderWeights(resolved.folder);
  if (!weightsPath) {
    raise(
      'MODEL_NOT_FOUND',
      `${resolved.folder} has no weights (model.safetensors, a sharded index, or pytorch_model.bin).`,
      'Copy the weights into the folder.',
    );
  }
  const stateDict = loadStateDictFile(weightsPath);
  const weights = mapClassifierWeights(stateDict, config, {
    what: `id2label in ${raw.path}`,
    hint: 'id2label must list one name per output of the head: restore config.json from the model it came with.',
  });
  return loaded(
    {
      reference,
      format: 'huggingface',
      configPath: raw.path,
      tokenizerFolder: tokenizerFolder ?? resolved.folder,
      config,
      labels,
      activation,
      stateDict,
    },
    weights,
  );
}

function loadDetoxify(reference: string, tokenizerFolder: string | undefined): LoadedClassifier {
  const path = resolve(reference);
  if (!existsSync(path) || !statSync(path).isFile()) {
    raise('MODEL_NOT_FOUND', `No Detoxify checkpoint at ${path}.`, 'Check the path of the .ckpt file.');
  }
  const checkpoint = readDetoxifyCheckpoint(path);
  let baseFolder = tokenizerFolder;
  if (!baseFolder) {
    baseFolder = resolveCachedRepo(checkpoint.modelType) ?? undefined;
    if (!baseFolder) {
      raise(
        'INPUT_INVALID',
        `${path} is a Detoxify checkpoint of ${checkpoint.modelType}, whose config.json and tokenizer are not in the local Hugging Face cache.`,
        `Pass --tokenizer with a folder (or cached org/name) holding ${checkpoint.modelType}'s config.json and tokenizer files; ToxScope never downloads.`,
      );
    }
  }
  const raw = readClassifierConfigJson(baseFolder);
  if (raw.architecture !== checkpoint.architecture) {
    raise(
      'WEIGHTS_INVALID',
      `${path} holds a ${checkpoint.modelName}, but ${raw.path} describes a "${raw.architecture}" model.`,
      `Pass --tokenizer with the folder of the base model it was trained from (${checkpoint.modelType}).`,
    );
  }
  const config = parseClassifierConfig(raw, checkpoint.numClasses);
  const weights = mapClassifierWeights(checkpoint.stateDict, config, {
    what: `config.arch.args.num_classes in ${path}`,
    hint: 'The checkpoint contradicts itself: convert it again with Detoxify’s convert_weights.py.',
  });
  return loaded(
    {
      reference,
      format: 'detoxify',
      configPath: raw.path,
      tokenizerFolder: baseFolder,
      config,
      labels: checkpoint.labels,
      // Detoxify's predict applies torch.sigmoid to every output, whatever the config says.
      activation: 'sigmoid',
      stateDict: checkpoint.stateDict,
    },
    weights,
  );
}
