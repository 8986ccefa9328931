// Maps a checkpoint's tensors onto an architecture's canonical names: every shape checked against the config, extra
// tensors refused, missing ones named. GPT-2 and BART each supply their key mapping and expected shapes.

import { raise } from '../../shared/index.ts';
import type { StateDict, StateDictTensor } from './state-dict.ts';

export interface WeightMapping {
  /** How errors name the architecture, e.g. "GPT-2". */
  architecture: string;
  /** Canonical name of a checkpoint key; null = a known tensor the graph does not use; undefined = not this model's. */
  canonicalKey(key: string): string | null | undefined;
  /** Canonical name → shape that config.json implies. */
  expected: Map<string, number[]>;
  /** Canonical names a checkpoint may lack (the caller fills them in). */
  optional?: readonly string[];
  /** What to check when the checkpoint has tensors this model does not. */
  foreignHint: string;
}

export function mapStateDict(stateDict: StateDict, mapping: WeightMapping): Map<string, StateDictTensor> {
  const files = stateDict.files.join(', ');
  const weights = new Map<string, StateDictTensor>();
  const unexpected: string[] = [];
  for (const [key, tensor] of stateDict.tensors) {
    const canonical = mapping.canonicalKey(key);
    if (canonical === null) continue;
    const shape = canonical === undefined ? undefined : mapping.expected.get(canonical);
    if (canonical === undefined || shape === undefined) {
      unexpected.push(key);
      continue;
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((dim, axis) => dim !== shape[axis])) {
      raise(
        'WEIGHTS_INVALID',
        `Tensor "${key}" in ${files} has shape [${tensor.shape.join(', ')}], but config.json implies [${shape.join(', ')}].`,
        'The weights do not belong to this config: pass the matching config.json, or weights of the same model size.',
      );
    }
    weights.set(canonical, tensor);
  }
  if (unexpected.length > 0) {
    raise(
      'WEIGHTS_INVALID',
      `${files} has tensors a ${mapping.architecture} model does not have: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}.`,
      mapping.foreignHint,
    );
  }
  const optional = new Set(mapping.optional ?? []);
  const missing = [...mapping.expected.keys()].filter((name) => !weights.has(name) && !optional.has(name));
  if (missing.length > 0) {
    raise(
      'WEIGHTS_INVALID',
      `${files} lacks ${missing.length} ${mapping.architecture} tensors, e.g. ${missing.slice(0, 3).join(', ')}.`,
      'The checkpoint is incomplete, or config.json has more layers than the weights.',
    );
  }
  return weights;
}
