// The toxicity probe w ∈ R^{d_model} (spec dpo-neurons.md §2): loaded from any format the contract names and
// checked against the model. `.pt` (a tensor [d], [1, d], [d, 2] → column 1 (toxic), or a one-tensor state dict),
// `.safetensors` (one tensor, or "probe"), `.npy`, or `.json` (an array of numbers). A sidecar `<file>.json` written by
// `toxscope probe train` adds the layer, hook, bias and accuracy.

import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { demoFolder } from '../models/model-ref.ts';
import { isDemoProbe, raise } from '../../shared/index.ts';
import { sha256File } from '../weights/fingerprint.ts';
import { isTensorRef, openTorchCheckpoint } from '../weights/pytorch-checkpoint.ts';
import type { PickleValue } from '../weights/restricted-unpickler.ts';
import { openSafetensors } from '../weights/safetensors.ts';

/** What `probe train` records beside the vector. */
export interface ProbeMetadata {
  /** The hook whose mean over real tokens the probe reads, e.g. blocks.23.hook_resid_post. */
  hook: string;
  bias: number;
  heldOutAccuracy: number;
  trainExamples: number;
  heldOutExamples: number;
  dataSha256: string;
  model: string;
}

export interface Probe {
  /** w as stored. */
  vector: Float32Array; // [d_model]
  /** ŵ = w / ‖w‖. */
  unit: Float64Array; // [d_model]
  norm: number;
  path: string;
  format: 'pt' | 'safetensors' | 'npy' | 'json';
  sha256: string;
  metadata: ProbeMetadata | null;
}

function invalid(path: string, problem: string): never {
  return raise(
    'WEIGHTS_INVALID',
    `The probe ${path} ${problem}.`,
    'A probe is one vector of d_model numbers: a tensor [d], [1, d] or [d, 2] in .pt/.safetensors/.npy, or a JSON array.',
  );
}

/** Reduces a tensor of shape [d], [1, d] or [d, 2] (take column 1, the toxic class) to a vector. */
function toVector(path: string, values: Float32Array, shape: number[]): Float32Array {
  if (shape.length === 1) return values;
  if (shape.length === 2 && shape[0] === 1) return values;
  if (shape.length === 2 && shape[1] === 2)
    return Float32Array.from({ length: shape[0]! }, (_, row) => values[row * 2 + 1]!);
  return invalid(path, `has shape [${shape.join(', ')}]`);
}

function fromTorch(path: string): Float32Array {
  const checkpoint = openTorchCheckpoint(path);
  let root: PickleValue = checkpoint.root;
  if (root instanceof Map) {
    const tensors = [...root.values()].filter(isTensorRef);
    if (tensors.length !== 1) invalid(path, `holds ${tensors.length} tensors, not one`);
    root = tensors[0]!;
  }
  if (!isTensorRef(root)) invalid(path, 'does not hold a tensor');
  return toVector(path, checkpoint.readFloat32(root), root.shape);
}

function fromSafetensors(path: string): Float32Array {
  const file = openSafetensors(path);
  const names = [...file.tensors.keys()];
  const name = file.tensors.has('probe')
    ? 'probe'
    : names.length === 1
      ? names[0]!
      : invalid(path, `holds ${names.length} tensors and none named "probe"`);
  return toVector(path, file.readFloat32(name), file.tensors.get(name)!.shape);
}

/** NumPy's .npy: magic, version, a Python-dict header (descr, fortran_order, shape), then the data. */
function fromNpy(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') invalid(path, 'is not a .npy file');
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((dim) => dim.trim())
    .filter(Boolean)
    .map(Number);
  const data = new Uint8Array(bytes.subarray(headerStart + headerLength)).buffer;
  let values: Float32Array;
  if (descr === '<f4')
    values = new Float32Array(
      data,
      0,
      shape.reduce((a, b) => a * b, 1),
    );
  else if (descr === '<f8')
    values = Float32Array.from(
      new Float64Array(
        data,
        0,
        shape.reduce((a, b) => a * b, 1),
      ),
    );
  else return invalid(path, `has dtype ${String(descr)} (expected little-endian float32 or float64)`);
  if (fortran === 'True' && shape.length === 2) {
    const [rows, columns] = shape as [number, number];
    values = Float32Array.from(
      { length: rows * columns },
      (_, flat) => values[(flat % columns) * rows + Math.floor(flat / columns)]!,
    );
  }
  return toVector(path, values, shape);
}

function fromJson(path: string): Float32Array {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return invalid(path, 'is not valid JSON');
  }
  if (!Array.isArray(json) || !json.every((value) => typeof value === 'number' && Number.isFinite(value)))
    invalid(path, 'is not an array of numbers');
  return Float32Array.from(json as number[]);
}

function readMetadata(path: string): ProbeMetadata | null {
  const sidecar = `${path}.json`;
  if (extname(path) === '.json' || !existsSync(sidecar)) return null;
  try {
    return JSON.parse(readFileSync(sidecar, 'utf8')) as ProbeMetadata;
  } catch {
    return invalid(sidecar, 'is not valid JSON');
  }
}

/** `demo:probe` and `demo:llama-probe` name the bundled demo probes; anything else is a file path. */
export function resolveProbePath(reference: string): string {
  const name = reference.startsWith('demo:') ? reference.slice('demo:'.length) : null;
  return name !== null && isDemoProbe(name) ? join(demoFolder(), name, 'probe.safetensors') : reference;
}

/** Loads a probe (a file, or a demo probe) and checks it against the model's d_model. */
export function loadProbe(reference: string, dModel: number): Probe {
  const path = resolveProbePath(reference);
  if (!existsSync(path))
    raise(
      'INPUT_INVALID',
      `No probe file at ${path}.`,
      'Pass the probe with --probe FILE (.pt, .safetensors, .npy or .json).',
      { field: 'probe', appHint: 'Choose a probe file that exists (.pt, .safetensors, .npy or .json), or demo:probe.' },
    );
  const extension = extname(path).toLowerCase();
  const readers: Record<string, [Probe['format'], (file: string) => Float32Array]> = {
    '.pt': ['pt', fromTorch],
    '.pth': ['pt', fromTorch],
    '.bin': ['pt', fromTorch],
    '.safetensors': ['safetensors', fromSafetensors],
    '.npy': ['npy', fromNpy],
    '.json': ['json', fromJson],
  };
  const reader =
    readers[extension] ??
    raise(
      'INPUT_INVALID',
      `${path}: unsupported probe file type "${extension}".`,
      'Use .pt, .safetensors, .npy or .json.',
    );
  const vector = reader[1](path);
  if (vector.length !== dModel) invalid(path, `has ${vector.length} numbers but the model's d_model is ${dModel}`);
  const norm = Math.hypot(...vector);
  if (!(norm > 0) || !Number.isFinite(norm)) invalid(path, 'is zero or not finite');
  return {
    vector,
    unit: Float64Array.from(vector, (value) => value / norm),
    norm,
    path,
    format: reader[0],
    sha256: sha256File(path),
    metadata: readMetadata(path),
  };
}
