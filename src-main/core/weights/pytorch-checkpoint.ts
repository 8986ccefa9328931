// PyTorch checkpoints (`torch.save` zip format: .bin, .pt): the restricted unpickler for the structure, lazy reads
// of each tensor's storage from the archive, dtype conversion to float32 and strided gathers.

import { closeSync, openSync, readSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { unpickle, type PickleValue, type TensorRef, type TorchDtype } from './restricted-unpickler.ts';
import { toFloat32, type SafetensorsDtype } from './safetensors.ts';
import { isZipFile, openZip, type ZipArchive } from './zip-archive.ts';

const elementBytes: Record<TorchDtype, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const asSafetensorsDtype: Record<TorchDtype, SafetensorsDtype> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

export interface TorchCheckpoint {
  path: string;
  /** The unpickled top-level object (a Map for state dicts and `{"state": ...}` files). */
  root: PickleValue;
  /** A tensor as float32; a contiguous one into `scratch` when it holds its values (then a view of it). */
  readFloat32(tensor: TensorRef, scratch?: ArrayBuffer): Float32Array;
}

export function isTensorRef(value: PickleValue | undefined): value is TensorRef {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'tensor';
}

function startsWithPickle(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(1);
    return readSync(fd, head, 0, 1, 0) === 1 && head[0] === 0x80;
  } finally {
    closeSync(fd);
  }
}

export function openTorchCheckpoint(path: string): TorchCheckpoint {
  if (!isZipFile(path)) {
    if (startsWithPickle(path)) {
      raise(
        'WEIGHTS_INVALID',
        `${path} uses PyTorch's legacy (pre-1.6) serialisation, which ToxScope does not read.`,
        'Re-save it with a current PyTorch: torch.save(torch.load(path), path), or convert it to safetensors.',
      );
    }
    raise(
      'WEIGHTS_INVALID',
      `${path} is neither a PyTorch zip checkpoint nor a pickle.`,
      'Check that this is a .bin/.pt file written by torch.save.',
    );
  }
  const archive = openZip(path);
  const pickleName = [...archive.entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName)
    raise(
      'WEIGHTS_INVALID',
      `${path} has no data.pkl: it is a zip file, but not one written by torch.save.`,
      'Check the file.',
    );
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteOrderEntry = archive.entries.get(`${prefix}byteorder`);
  if (byteOrderEntry && archive.read(`${prefix}byteorder`).toString('utf8').trim() !== 'little') {
    raise(
      'WEIGHTS_INVALID',
      `${path} was saved on a big-endian machine.`,
      'Re-save it on a little-endian machine (x86, ARM).',
    );
  }
  const root = unpickle(archive.read(pickleName), path);
  return { path, root, readFloat32: (tensor, scratch) => readTensor(archive, prefix, tensor, scratch) };
}

function readTensor(archive: ZipArchive, prefix: string, tensor: TensorRef, scratch?: ArrayBuffer): Float32Array {
  const { storage, shape, stride, storageOffset } = tensor;
  const bytesPerElement = elementBytes[storage.dtype];
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (count === 0) return new Float32Array(0);
  // The furthest element the view touches decides how much of the storage to read.
  const lastElement = storageOffset + shape.reduce((sum, dim, axis) => sum + (dim - 1) * stride[axis]!, 0);
  if (lastElement >= storage.numel) {
    raise(
      'WEIGHTS_INVALID',
      `${archive.path}: a tensor of shape [${shape.join(', ')}] reaches past the end of its storage.`,
      'The file is corrupt; copy it again.',
    );
  }
  const raw = archive.readRange(
    `${prefix}data/${storage.key}`,
    storageOffset * bytesPerElement,
    (lastElement - storageOffset + 1) * bytesPerElement,
  );
  const contiguous = shape.every(
    (_, axis) => stride[axis] === shape.slice(axis + 1).reduce((product, dim) => product * dim, 1),
  );
  const into =
    contiguous && scratch && scratch.byteLength >= 4 * count ? new Float32Array(scratch, 0, count) : undefined;
  const values = toFloat32(raw, asSafetensorsDtype[storage.dtype], into);
  if (contiguous) return values;
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let source = 0;
    for (let axis = 0; axis < shape.length; axis++) source += index[axis]! * stride[axis]!;
    out[flat] = values[source]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}
