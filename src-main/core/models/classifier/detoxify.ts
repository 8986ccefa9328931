// Detoxify checkpoints (`*.ckpt`): the torch.save'd {"config": …, "state_dict": …} that Detoxify's load_checkpoint
// reads (detoxify/detoxify.py), read through the restricted unpickler. The config names the model class, the number
// of outputs and the class names; hyperparameters and tokenizer come from the base model's folder (loadClassifier).

import { raise } from '../../../shared/index.ts';
import { isTensorRef, openTorchCheckpoint } from '../../weights/pytorch-checkpoint.ts';
import type { PickleValue } from '../../weights/restricted-unpickler.ts';
import type { StateDict, StateDictTensor } from '../../weights/state-dict.ts';
import type { ClassifierArchitecture } from './config.ts';

/** The model classes Detoxify's config may name (`config.arch.args.model_name`) that ToxScope runs. */
const modelClasses: Record<string, ClassifierArchitecture> = {
  BertForSequenceClassification: 'bert',
  RobertaForSequenceClassification: 'roberta',
};

/** Detoxify standardises class names between its models (load_checkpoint's change_names). */
const renamedClasses: Record<string, string> = {
  toxic: 'toxicity',
  identity_hate: 'identity_attack',
  severe_toxic: 'severe_toxicity',
};

export interface DetoxifyCheckpoint {
  path: string;
  /** config.arch.args.model_name, e.g. BertForSequenceClassification. */
  modelName: string;
  architecture: ClassifierArchitecture;
  /** config.arch.args.num_classes: the head's outputs. */
  numClasses: number;
  /** config.arch.args.model_type: the Hugging Face base model, e.g. bert-base-uncased (where the config lives). */
  modelType: string;
  /** config.dataset.args.classes, renamed as Detoxify does; the first labels.length outputs are reported. */
  labels: string[];
  stateDict: StateDict;
}

const convertHint =
  "Convert a training checkpoint with Detoxify's convert_weights.py (python convert_weights.py --checkpoint FILE --save_to OUT.ckpt) and pass OUT.ckpt.";

function lookup(root: PickleValue, keys: string[]): PickleValue | undefined {
  let value: PickleValue | undefined = root;
  for (const key of keys) value = value instanceof Map ? value.get(key) : undefined;
  return value;
}

export function readDetoxifyCheckpoint(path: string): DetoxifyCheckpoint {
  const checkpoint = openTorchCheckpoint(path);
  const root = checkpoint.root;
  const hasConfig = root instanceof Map && root.get('config') instanceof Map;
  const stateDictValue = root instanceof Map ? root.get('state_dict') : undefined;
  if (!hasConfig || !(stateDictValue instanceof Map)) {
    const lightning = root instanceof Map && (root.has('pytorch-lightning_version') || root.has('hyper_parameters'));
    raise(
      'WEIGHTS_INVALID',
      `${path} is not a Detoxify checkpoint: it lacks the top-level ${hasConfig ? '"state_dict"' : '"config"'} that Detoxify's load_checkpoint needs ({"config": …, "state_dict": …})${lightning ? '; it is a raw PyTorch Lightning training checkpoint' : ''}.`,
      convertHint,
    );
  }
  const config = (keys: string[]) => lookup(root, ['config', ...keys]);
  const invalid = (field: string, problem: string): never =>
    raise('WEIGHTS_INVALID', `${path}: config.${field} ${problem}.`, convertHint);

  const modelName = config(['arch', 'args', 'model_name']);
  if (typeof modelName !== 'string') return invalid('arch.args.model_name', 'is missing (the model class to build)');
  const architecture = modelClasses[modelName];
  if (!architecture) {
    raise(
      'WEIGHTS_INVALID',
      `${path}: config.arch.args.model_name is ${modelName}; ToxScope runs ${Object.keys(modelClasses).join(' and ')} checkpoints.`,
      'Use a Detoxify BERT ("original") or RoBERTa ("unbiased") checkpoint.',
    );
  }
  const numClasses = config(['arch', 'args', 'num_classes']);
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1)
    return invalid('arch.args.num_classes', 'must be a positive integer');
  const modelType = config(['arch', 'args', 'model_type']);
  if (typeof modelType !== 'string' || modelType === '')
    return invalid('arch.args.model_type', 'is missing (the Hugging Face base model, e.g. bert-base-uncased)');
  const classes = config(['dataset', 'args', 'classes']);
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((name) => typeof name === 'string'))
    return invalid('dataset.args.classes', 'must be a non-empty list of class names');
  if (classes.length > numClasses)
    return invalid('dataset.args.classes', `names ${classes.length} classes, more than num_classes ${numClasses}`);
  const labels = (classes as string[]).map((name) => renamedClasses[name] ?? name);

  const tensors = new Map<string, StateDictTensor>();
  for (const [key, value] of stateDictValue) {
    if (typeof key !== 'string' || !isTensorRef(value)) continue;
    tensors.set(key, {
      name: key,
      shape: value.shape,
      dtype: value.storage.dtype,
      location: null,
      read: () => checkpoint.readFloat32(value),
    });
  }
  if (tensors.size === 0) {
    raise('WEIGHTS_INVALID', `${path}: "state_dict" holds no tensors.`, convertHint);
  }
  return {
    path,
    modelName,
    architecture,
    numClasses,
    modelType,
    labels,
    stateDict: { format: 'pytorch', files: [path], tensors },
  };
}
