// One view of a checkpoint's tensors, whatever the file format: safetensors (single or sharded with an index),
// PyTorch zip (.bin/.pt, sharded .bin with an index, or a `{"state": ...}` training checkpoint such as dpo.pt).
// Key names are the file's own; per-architecture converters normalise them.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { raise } from '../../shared/index.ts';
import { isTensorRef, openTorchCheckpoint } from './pytorch-checkpoint.ts';
import type { PickleValue } from './restricted-unpickler.ts';
import { openSafetensors } from './safetensors.ts';

export interface StateDictTensor {
  name: string;
  shape: number[];
  /** The dtype as stored (F32, F16, BF16, float32, ...). */
  dtype: string;
  /** Where this tensor's float32 bytes lie in a file, when they can be used in place (F32 safetensors). */
  location: { path: string; offset: number; byteLength: number } | null;
  /**
   * The tensor as float32. `scratch`: memory to read it into when it holds the tensor's float32 values (the result is
   * then a view of it, valid until the scratch is reused; any dtype, safetensors or a contiguous PyTorch tensor), so
   * reading many large tensors in turn does not take fresh memory for each.
   */
  read(scratch?: ArrayBuffer): Float32Array;
}

export type WeightsFormat = 'safetensors' | 'pytorch';

export interface StateDict {
  format: WeightsFormat;
  files: string[];
  tensors: Map<string, StateDictTensor>;
}

function fromSafetensors(paths: string[]): StateDict {
  const tensors = new Map<string, StateDictTensor>();
  for (const path of paths) {
    const file = openSafetensors(path);
    for (const entry of file.tensors.values()) {
      tensors.set(entry.name, {
        name: entry.name,
        shape: entry.shape,
        dtype: entry.dtype,
        location: entry.dtype === 'F32' ? { path, offset: entry.fileOffset, byteLength: entry.byteLength } : null,
        read: (scratch) => file.readFloat32(entry.name, scratch),
      });
    }
  }
  return { format: 'safetensors', files: paths, tensors };
}

/** Training checkpoints keep the state dict under one of these keys (dpo.pt uses "state"). */
const nestedStateKeys = ['state', 'state_dict', 'model_state_dict', 'model'];

function fromTorch(paths: string[]): StateDict {
  const tensors = new Map<string, StateDictTensor>();
  for (const path of paths) {
    const checkpoint = openTorchCheckpoint(path);
    let root: PickleValue = checkpoint.root;
    if (root instanceof Map) {
      const nested = nestedStateKeys
        .map((key) => (root as Map<PickleValue, PickleValue>).get(key))
        .find((value) => value instanceof Map);
      if (nested) root = nested;
    }
    if (!(root instanceof Map)) {
      raise(
        'WEIGHTS_INVALID',
        `${path} does not hold a state dict (a mapping of names to tensors).`,
        'Save the model with torch.save(model.state_dict(), path).',
      );
    }
    for (const [key, value] of root) {
      if (typeof key !== 'string' || !isTensorRef(value)) continue;
      tensors.set(key, {
        name: key,
        shape: value.shape,
        dtype: value.storage.dtype,
        location: null,
        read: (scratch) => checkpoint.readFloat32(value, scratch),
      });
    }
  }
  if (tensors.size === 0) {
    raise(
      'WEIGHTS_INVALID',
      `${paths.join(', ')} contains no tensors.`,
      'Check that this is a model checkpoint, not an optimiser state or a config.',
    );
  }
  return { format: 'pytorch', files: paths, tensors };
}

function shardsFromIndex(indexPath: string): string[] {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch {
    return raise(
      'WEIGHTS_INVALID',
      `${indexPath} is not valid JSON.`,
      'Restore the index file from the checkpoint it belongs to.',
    );
  }
  const weightMap = (index as { weight_map?: unknown }).weight_map;
  if (typeof weightMap !== 'object' || weightMap === null) {
    return raise(
      'WEIGHTS_INVALID',
      `${indexPath} has no "weight_map".`,
      'Restore the index file from the checkpoint it belongs to.',
    );
  }
  // In file order (model-00001-of-00004 … 00004), not in the order the index happens to name them first.
  const shards = [...new Set(Object.values(weightMap).map(String))]
    .sort()
    .map((shard) => join(dirname(indexPath), shard));
  const missing = shards.filter((shard) => !existsSync(shard));
  if (missing.length > 0) {
    raise(
      'MODEL_NOT_FOUND',
      `${indexPath} lists shards that are missing: ${missing.map((shard) => basename(shard)).join(', ')}.`,
      'Copy every shard of the checkpoint into the folder.',
    );
  }
  return shards;
}

/** Loads a weights file by its extension: .safetensors, .bin, .pt, .pth, or a shard index .json. */
export function loadStateDictFile(path: string): StateDict {
  if (!existsSync(path)) raise('MODEL_NOT_FOUND', `No weights file at ${path}.`, 'Check the path.');
  const extension = extname(path).toLowerCase();
  if (extension === '.safetensors') return fromSafetensors([path]);
  if (extension === '.bin' || extension === '.pt' || extension === '.pth') return fromTorch([path]);
  if (path.endsWith('.safetensors.index.json')) return fromSafetensors(shardsFromIndex(path));
  if (path.endsWith('.bin.index.json')) return fromTorch(shardsFromIndex(path));
  return raise(
    'INPUT_INVALID',
    `${path}: unsupported weights file type "${extension}".`,
    'Use .safetensors, .bin, .pt or .pth.',
  );
}

/** The weights of a Hugging Face folder, in the order transformers prefers: safetensors, sharded, then .bin. */
export function findFolderWeights(folder: string): string | null {
  const candidates = [
    'model.safetensors',
    'model.safetensors.index.json',
    'pytorch_model.bin',
    'pytorch_model.bin.index.json',
  ];
  return candidates.map((name) => join(folder, name)).find((path) => existsSync(path)) ?? null;
}

const dtypeNames: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };

/** The element type most of a checkpoint's values are stored in, by Hugging Face's name (float32, bfloat16, …). */
export function storedDtype(stateDict: StateDict): string {
  const counts = new Map<string, number>();
  for (const tensor of stateDict.tensors.values()) {
    const name = dtypeNames[tensor.dtype] ?? tensor.dtype;
    const size = tensor.shape.reduce((product, dim) => product * dim, 1);
    counts.set(name, (counts.get(name) ?? 0) + size);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'float32';
}
