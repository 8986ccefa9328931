// Loads a base/DPO pair for comparison and refuses pairs that cannot be compared neuron by neuron.

import { existsSync, statSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { loadModel, type LoadedModel } from '../models/load-model.ts';

export interface ModelPair {
  base: LoadedModel;
  dpo: LoadedModel;
  /** How each was loaded, for a thread that loads it again (compare-model-worker.ts). */
  sources: { base: ModelSource; dpo: ModelSource };
}

/** How loadModel is called for one model: a model reference and, for a weights file put onto it, that file. */
export interface ModelSource {
  reference: string;
  weightsFile?: string;
}

/** `dpo` is a model reference, or a weights file put onto the base's architecture and tokenizer (dpo.pt). */
function modelPairSources(
  base: string,
  baseWeights: string | undefined,
  dpo: string,
): { base: ModelSource; dpo: ModelSource } {
  const dpoIsFile = existsSync(dpo) && statSync(dpo).isFile();
  return {
    base: { reference: base, weightsFile: baseWeights },
    dpo: dpoIsFile ? { reference: base, weightsFile: dpo } : { reference: dpo },
  };
}

export function loadModelPair(base: string, baseWeights: string | undefined, dpo: string): ModelPair {
  const sources = modelPairSources(base, baseWeights, dpo);
  const baseModel = loadModel(sources.base.reference, sources.base.weightsFile);
  const dpoModel = loadModel(sources.dpo.reference, sources.dpo.weightsFile);
  const shape = (model: LoadedModel) => {
    const { nLayers, dModel, dMlp, nHeads, dVocab } = model.config;
    return `${nLayers} layers, d_model ${dModel}, d_mlp ${dMlp}, ${nHeads} heads, vocabulary ${dVocab}`;
  };
  if (shape(baseModel) !== shape(dpoModel)) {
    raise(
      'INPUT_INVALID',
      `The base (${shape(baseModel)}) and the DPO model (${shape(dpoModel)}) have different shapes, so their neurons cannot be compared.`,
      'Pass the DPO checkpoint trained from this base model.',
    );
  }
  if (baseModel.tokenizerSha256 !== dpoModel.tokenizerSha256) {
    raise(
      'INPUT_INVALID',
      `The base and the DPO model use different tokenizers (${baseModel.resolved.folder} vs ${dpoModel.resolved.folder}).`,
      "Both models must read the same tokens: copy the base model's tokenizer files next to the DPO weights, or pass the DPO weights file with --dpo FILE.",
      {
        field: 'dpo',
        appHint:
          "Both models must read the same tokens: copy the base model's tokenizer files next to the DPO weights, or give the DPO weights file itself as the DPO model.",
      },
    );
  }
  return { base: baseModel, dpo: dpoModel, sources };
}
