// Loads a model reference (+ optional --weights file) into config, tokenizer and mapped weights, lazily: tensors
// are read only when a graph or reference needs them. Every failure names the file and says what to do.

import { statSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { assertTokenizerFiles, loadTokenizer, type LoadedTokenizer } from '../tokenizer/load-tokenizer.ts';
import { fingerprintFiles } from '../weights/fingerprint.ts';
import { findFolderWeights, loadStateDictFile, type StateDict, type StateDictTensor } from '../weights/state-dict.ts';
import { isDecoderArchitecture, readModelConfig, type DecoderArchitecture } from './architectures.ts';
import { parseBartConfig, type BartConfig } from './bart/config.ts';
import { mapBartWeights } from './bart/weights.ts';
import { parseDecoderConfig, type DecoderConfig } from './decoder/config.ts';
import { mapDecoderWeights } from './decoder/weights.ts';
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
  /** Trainable parameters as Hugging Face's num_parameters() counts them: tied matrices once, buffers never. */
  parameters: number;
}

export interface LoadedDecoderModel extends LoadedModelBase {
  architecture: DecoderArchitecture;
  config: DecoderConfig;
}

export interface LoadedBartModel extends LoadedModelBase {
  architecture: 'bart';
  config: BartConfig;
}

export type AnyLoadedModel = LoadedDecoderModel | LoadedBartModel;
/** The decoder-only models the neuron analysis runs on. */
export type LoadedModel = LoadedDecoderModel;

/**
 * Loads any supported architecture. The tokenizer's files must be there, but they are read on first use (`tokenizer`,
 * `tokenizerSha256`), and its size checked against the config then: a thread that only runs the model's session never
 * holds a tokenizer (gpt2-medium's: 82 MB).
 */
export function loadAnyModel(reference: string, weightsFile?: string): AnyLoadedModel {
  const resolved = resolveModelRef(reference);
  const raw = readModelConfig(resolved.folder);
  assertTokenizerFiles(resolved.folder);
  const weightsPath = weightsFile ?? findFolderWeights(resolved.folder);
  if (!weightsPath) {
    raise(
      'MODEL_NOT_FOUND',
      `${resolved.folder} has no weights (model.safetensors, a sharded index, or pytorch_model.bin).`,
      'Copy the weights into the folder, or pass them with --weights FILE.',
      { appHint: 'Copy the weights (model.safetensors or pytorch_model.bin) into the folder.' },
    );
  }
  const stateDict = loadStateDictFile(weightsPath);
  let fingerprint: string | null = null;
  let tokenizer: LoadedTokenizer | null = null;
  const checkedTokenizer = (dVocab: number): LoadedTokenizer => {
    const loaded = loadTokenizer(resolved.folder, raw.architecture);
    if (loaded.tokenizer.vocabSize > dVocab) {
      raise(
        'WEIGHTS_INVALID',
        `The tokenizer in ${resolved.folder} has ${loaded.tokenizer.vocabSize} tokens but config.json says vocab_size ${dVocab}.`,
        'The tokenizer files belong to another model: copy the ones that came with these weights.',
      );
    }
    return loaded;
  };
  /** `buffers`: canonical tensors that are not parameters (BART's final_logits_bias). */
  const common = (weights: Map<string, StateDictTensor>, dVocab: number, buffers: string[] = []): LoadedModelBase => ({
    resolved,
    get tokenizer() {
      return (tokenizer ??= checkedTokenizer(dVocab));
    },
    get tokenizerSha256() {
      return this.tokenizer.sha256;
    },
    stateDict,
    weights,
    fingerprint: () => (fingerprint ??= fingerprintFiles(stateDict.files)),
    weightsBytes: stateDict.files.reduce((sum, file) => sum + statSync(file).size, 0),
    parameters: [...weights]
      .filter(([name]) => !buffers.includes(name))
      .reduce((sum, [, tensor]) => sum + tensor.shape.reduce((product, dim) => product * dim, 1), 0),
  });
  // Object.assign, not a spread: a spread would call the getters above.
  if (raw.architecture === 'bart') {
    const config = parseBartConfig(raw);
    const weights = mapBartWeights(stateDict, config);
    return Object.assign(common(weights, config.dVocab, ['final_logits_bias']), {
      architecture: 'bart' as const,
      config,
    });
  }
  const config = parseDecoderConfig(raw);
  return Object.assign(common(mapDecoderWeights(stateDict, config), config.dVocab), {
    architecture: raw.architecture,
    config,
  });
}

/** Loads a causal language model: GPT-2, Llama, Mistral, Qwen2 or Gemma-2 (the DPO analysis and generation). */
export function loadModel(reference: string, weightsFile?: string): LoadedDecoderModel {
  const model = loadAnyModel(reference, weightsFile);
  if (!isDecoderArchitecture(model.architecture))
    raise(
      'INPUT_INVALID',
      `${model.resolved.reference} is a ${model.architecture} model; this command needs a causal language model.`,
      'Pass a GPT-2, Llama, Mistral, Qwen2 or Gemma-2 checkpoint (e.g. gpt2-medium or demo:gpt2-base).',
    );
  return model as LoadedDecoderModel;
}

/** Loads a BART model (detox). */
export function loadBartModel(reference: string, weightsFile?: string): LoadedBartModel {
  const model = loadAnyModel(reference, weightsFile);
  if (model.architecture !== 'bart')
    raise(
      'INPUT_INVALID',
      `${model.resolved.reference} is a ${model.architecture} model; detox needs a bart model.`,
      'Pass a BART checkpoint (e.g. facebook/bart-base or demo:bart-base).',
    );
  return model as LoadedBartModel;
}

/**
 * The BOS id a prompt starts with: the tokenizer's own, as TransformerLens' to_tokens and Hugging Face's tokenizer
 * add it, else config.json's bos_token_id; null when the model has none (Qwen2).
 */
export function bosTokenIdOf(model: AnyLoadedModel): number | null {
  return model.tokenizer.tokenizer.specialIds.bos ?? model.config.bosTokenId;
}
