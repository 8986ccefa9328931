// Loads a model reference (+ optional --weights file) into config, tokenizer and mapped weights, lazily: tensors
// are read only when a graph or reference needs them. Every failure names the file and says what to do.

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { loadTokenizer, type LoadedTokenizer } from '../tokenizer/load-tokenizer.ts';
import { fingerprintFiles } from '../weights/fingerprint.ts';
import { findFolderWeights, loadStateDictFile, type StateDict } from '../weights/state-dict.ts';
import { readModelConfig } from './architectures.ts';
import { parseGpt2Config, type Gpt2Config } from './gpt2/config.ts';
import { mapGpt2Weights, type Gpt2Weights } from './gpt2/weights.ts';
import { resolveModelRef, type ResolvedModel } from './model-ref.ts';

export interface LoadedGpt2Model {
  architecture: 'gpt2';
  resolved: ResolvedModel;
  config: Gpt2Config;
  tokenizer: LoadedTokenizer;
  stateDict: StateDict;
  weights: Gpt2Weights;
  /** sha256 of the weights files (computed once, then cached on disk by path, size and mtime). */
  fingerprint(): string;
  /** sha256 of the tokenizer's vocabulary, merges and added tokens: equal for equal tokenizers in any file format. */
  tokenizerSha256: string;
  /** Bytes of all weight files. */
  weightsBytes: number;
  parameters: number;
}

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

export function loadModel(reference: string, weightsFile?: string): LoadedModel {
  const resolved = resolveModelRef(reference);
  const raw = readModelConfig(resolved.folder);
  const config = parseGpt2Config(raw);
  const tokenizer = loadTokenizer(resolved.folder, raw.architecture);
  if (tokenizer.tokenizer.vocabSize > config.dVocab) {
    raise(
      'WEIGHTS_INVALID',
      `The tokenizer in ${resolved.folder} has ${tokenizer.tokenizer.vocabSize} tokens but config.json says vocab_size ${config.dVocab}.`,
      'The tokenizer files belong to another model: copy the ones that came with these weights.',
    );
  }
  const weightsPath = weightsFile ?? findFolderWeights(resolved.folder);
  if (!weightsPath) {
    raise(
      'MODEL_NOT_FOUND',
      `${resolved.folder} has no weights (model.safetensors, a sharded index, or pytorch_model.bin).`,
      'Copy the weights into the folder, or pass them with --weights FILE.',
    );
  }
  const stateDict = loadStateDictFile(weightsPath);
  const weights = mapGpt2Weights(stateDict, config);
  let fingerprint: string | null = null;
  return {
    architecture: 'gpt2',
    resolved,
    config,
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
}
