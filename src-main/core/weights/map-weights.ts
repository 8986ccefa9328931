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
  /** The checkpoint's name for a canonical one, for errors (left out: errors use the canonical names). */
  checkpointKey?(canonical: string): string;
  /** What to do about these missing tensors, where the architecture knows better than the general advice. */
  missingHint?(missing: string[]): string | undefined;
}

export function mapStateDict(stateDict: StateDict, mapping: WeightMapping): Map<string, StateDictTensor> {
  const files = stateDict.files.join(', ');
  const weights = new Map<string, StateDictTensor>();
  const unexpected: string[] = [];
  const checkpointLayers = new Set<string>(); // the layer numbers of the checkpoint's tensors, from their names
  for (const [key, tensor] of stateDict.tensors) {
    const canonical = mapping.canonicalKey(key);
    if (canonical === null) continue;
    const layer = canonical === undefined ? undefined : layerOf(canonical);
    if (layer !== undefined) checkpointLayers.add(layer);
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
  const configLayers = new Set([...mapping.expected.keys()].map(layerOf).filter((layer) => layer !== undefined));
  const layerCountHint =
    checkpointLayers.size > 0 && checkpointLayers.size !== configLayers.size
      ? `config.json describes ${configLayers.size} layer${configLayers.size === 1 ? '' : 's'}, but the weights hold ${checkpointLayers.size}: restore config.json from the original model, or pass that model's weights.`
      : undefined;
  const listed = (names: string[]) =>
    `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
  if (unexpected.length > 0) {
    raise(
      'WEIGHTS_INVALID',
      `${files} has tensors a ${mapping.architecture} model does not have: ${listed(unexpected)}.`,
      layerCountHint ?? mapping.foreignHint,
    );
  }
  const optional = new Set(mapping.optional ?? []);
  const missing = [...mapping.expected.keys()].filter((name) => !weights.has(name) && !optional.has(name));
  if (missing.length > 0) {
    raise(
      'WEIGHTS_INVALID',
      `${files} lacks ${missing.length} ${mapping.architecture} tensor${missing.length === 1 ? '' : 's'}: ${listed(missing.map((name) => mapping.checkpointKey?.(name) ?? name))}.`,
      mapping.missingHint?.(missing) ??
        layerCountHint ??
        'The checkpoint is incomplete: check that every file of the model (each shard of a sharded checkpoint) is there and fully copied.',
    );
  }
  return weights;
}

/** The layer number of a canonical name (blocks.{L}.…), undefined for tensors outside the layers. */
function layerOf(canonical: string): string | undefined {
  return /^blocks\.(\d+)\./.exec(canonical)?.[1];
}
