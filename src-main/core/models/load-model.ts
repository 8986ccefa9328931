// Loads a model reference (+ optional --weights file) into config, tokenizer and mapped weights, lazily: tensors
// are read only when a graph or reference needs them. Every failure names the file and says what to do.

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { loadTokenizer, type LoadedTokenizer } from '../tokenizer/load-tokenizer.ts';
import { fingerprintFiles } from '../weights/fingerprint.ts';
import { findFolderWeights, loadStateDictFile, type StateDict, type StateDictTensor } from '../weights/state-dict.ts';
import { readModelConfig, type Architecture } from './architectures.ts';
import { parseBartConfig, type BartConfig } from './bart/config.ts';
import { mapBartWeights } from './bart/weights.ts';
import { parseGpt2Config, type Gpt2Config } from './gpt2/config.ts';
import { mapGpt2Weights } from './gpt2/weights.ts';
import { resolveModelRef, type ResolvedModel } from './model-ref.ts';

interface LoadedModelBase {
  resolved: ResolvedModel;
  tokenizer: LoadedTokenizer;
  stateDict: StateDict;
  /** Canonical name → tensor (see each architecture's weights.ts). */
  weights: Map<string, StateDictTensor>;
  /** sha256 of the weights files (computed once, then cached on disk by path, size and mtime). */
  fingerprint(): string;
  /** sha256 of the tokenizer's vocabulary, merges and added tokens: equal for equal tokenizers in any file format. */
  tokenizerSha256: string;
  /** Bytes of all weight files. */
  weightsBytes: number;
  parameters: number;
}

export interface LoadedGpt2Model extends LoadedModelBase {
  architecture: 'gpt2';
  config: Gpt2Config;
}

export interface LoadedBartModel extends LoadedModelBase {
  architecture: 'bart';
  config: BartConfig;
}

export type AnyLoadedModel = LoadedGpt2Model | LoadedBartModel;
/** The decoder-only models the neuron analysis runs on. */
export type LoadedModel = LoadedGpt2Model;

function tokenizerSha256(loaded: LoadedTokenizer): string {
  const spec = loaded.tokenizer.spec;
  const hash = createHash('sha256');
  for (const [token, id] of [...spec.vocab].sort((a, b) => a[1] - b[1])) hash.update(`${id}\t${token}\n`);
  for (const [left, right] of spec.merges) hash.update(`${left} ${right}\n`);
  for (const added of [...spec.addedTokens].sort((a, b) => a.id - b.id))
    hash.update(`+${added.id}\t${added.content}\n`);
  return hash.digest('hex');
}

/** Loads any supported architecture. */
export function loadAnyModel(reference: string, weightsFile?: string): AnyLoadedModel {
  const resolved = resolveModelRef(reference);
  const raw = readModelConfig(resolved.folder);
  const tokenizer = loadTokenizer(resolved.folder, raw.architecture);
  const weightsPath = weightsFile ?? findFolderWeights(resolved.folder);
  if (!weightsPath) {
    raise(
      'MODEL_NOT_FOUND',
      `${resolved.folder} has no weights (model.safetensors, a sharded index, or pytorch_model.bin).`,
      'Copy the weights into the folder, or pass them with --weights FILE.',
    );
  }
  const stateDict = loadStateDictFile(weightsPath);
  let fingerprint: string | null = null;
  const common = (weights: Map<string, StateDictTensor>, dVocab: number): LoadedModelBase => {
    if (tokenizer.tokenizer.vocabSize > dVocab) {
      raise(
        'WEIGHTS_INVALID',
        `The tokenizer in ${resolved.folder} has ${tokenizer.tokenizer.vocabSize} tokens but config.json says vocab_size ${dVocab}.`,
        'The tokenizer files belong to another model: copy the ones that came with these weights.',
      );
    }
    return {
      resolved,
      tokenizer,
      stateDict,
      weights,
      fingerprint: () => (fingerprint ??= fingerprintFiles(stateDict.files)),
      tokenizerSha256: tokenizerSha256(tokenizer),
      weightsBytes: stateDict.files.reduce((sum, file) => sum + statSync(file).size, 0),
      parameters: [...weights.values()].reduce(
        (sum, tensor) => sum + tensor.shape.reduce((product, dim) => product * dim, 1),
        0,
      ),
    };
  };
  if (raw.architecture === 'bart') {
    const config = parseBartConfig(raw);
    return { architecture: 'bart', config, ...common(mapBartWeights(stateDict, config), config.dVocab) };
  }
  const config = parseGpt2Config(raw);
  return { architecture: 'gpt2', config, ...common(mapGpt2Weights(stateDict, config), config.dVocab) };
}

function expectArchitecture(model: AnyLoadedModel, architecture: Architecture, use: string): void {
  if (model.architecture !== architecture) {
    raise(
      'INPUT_INVALID',
      `${model.resolved.reference} is a ${model.architecture} model; ${use} needs a ${architecture} model.`,
      architecture === 'gpt2'
        ? 'Pass a GPT-2 checkpoint (e.g. gpt2-medium or demo:gpt2-base).'
        : 'Pass a BART checkpoint (e.g. facebook/bart-base or demo:bart-base).',
    );
  }
}

/** Loads a GPT-2 model (the DPO analysis and generation). */
export function loadModel(reference: string, weightsFile?: string): LoadedGpt2Model {
  const model = loadAnyModel(reference, weightsFile);
  expectArchitecture(model, 'gpt2', 'this command');
  return model as LoadedGpt2Model;
}

/** Loads a BART model (detox). */
export function loadBartModel(reference: string, weightsFile?: string): LoadedBartModel {
  const model = loadAnyModel(reference, weightsFile);
  expectArchitecture(model, 'bart', 'detox');
  return model as LoadedBartModel;
}
