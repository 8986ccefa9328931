// Safetensors reader and writer. The header is validated before anything trusts it (dtypes, shape × dtype = byte
// span, spans inside the file and not overlapping); tensors are read lazily by offset and converted to float32.
// Format: 8-byte little-endian header length N, N bytes of JSON header, then the raw tensor data.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { raise } from '../../shared/index.ts';
import { writeFileAtomic, writeFileAtomicStreamed } from '../files/atomic-write.ts';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const dtypeBytes: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string>;
  tensors: Map<string, TensorEntry>;
  /**
   * Reads one tensor as float32 (F32, F16, BF16, F64 and integer types converted). Into `scratch` when it holds the
   * tensor's float32 values, and the result is then a view of it (valid until the scratch is reused).
   */
  readFloat32(name: string, scratch?: ArrayBuffer): Float32Array;
  /** Reads one integer tensor (I64, I32) as BigInt64Array. */
  readInt64(name: string): BigInt64Array;
  /** Reads an F64 tensor at full precision (running sums, checkpoints). */
  readFloat64(name: string): Float64Array;
}

/** Headers beyond this are refused: real checkpoints have headers of tens of KB. */
const maxHeaderBytes = 100 * 1024 * 1024;

function invalid(path: string, problem: string): never {
  return raise(
    'WEIGHTS_INVALID',
    `${path} is not a valid safetensors file: ${problem}.`,
    'The file may be truncated or corrupt: copy or download it again, or re-save it with safetensors.',
  );
}

function parseHeader(path: string, header: unknown, dataLength: number, dataStart: number): SafetensorsFile['tensors'] {
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    invalid(path, 'the header is not a JSON object');
  const tensors = new Map<string, TensorEntry>();
  const spans: [number, number, string][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) invalid(path, `the entry for "${name}" is not an object`);
    if (typeof entry.dtype !== 'string' || !(entry.dtype in dtypeBytes)) {
      invalid(path, `tensor "${name}" has unsupported dtype ${JSON.stringify(entry.dtype)}`);
    }
    const dtype = entry.dtype as SafetensorsDtype;
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
      invalid(path, `tensor "${name}" has a malformed shape ${JSON.stringify(shape)}`);
    }
    const offsets = entry.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0) ||
      offsets[0] > offsets[1]
    ) {
      invalid(path, `tensor "${name}" has malformed data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((product, dim) => product * dim, 1) * dtypeBytes[dtype];
    if (end - begin !== expected) {
      invalid(
        path,
        `tensor "${name}" of shape [${(shape as number[]).join(', ')}] ${dtype} needs ${expected} bytes but its header gives ${end - begin}`,
      );
    }
    if (end > dataLength)
      invalid(
        path,
        `tensor "${name}" ends at byte ${end} of a data section of only ${dataLength} bytes (truncated file?)`,
      );
    spans.push([begin, end, name]);
    tensors.set(name, {
      name,
      dtype,
      shape: shape as number[],
      fileOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let index = 1; index < spans.length; index++) {
    const previous = spans[index - 1]!;
    const current = spans[index]!;
    if (current[0] < previous[1]) invalid(path, `tensors "${previous[2]}" and "${current[2]}" overlap`);
  }
  return tensors;
}

/** `length` bytes at `offset`, into `into` (at least that long) or a new buffer. */
function readBytes(path: string, offset: number, length: number, into?: Buffer): Buffer {
  const buffer = into ?? Buffer.allocUnsafe(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const read = readSync(fd, buffer, done, length - done, offset + done);
      if (read === 0) invalid(path, `the file ended while reading ${length} bytes at offset ${offset}`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** Converts IEEE half-precision bits to a float. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * A tensor's bytes as float32 values: in new memory, or in the first values of `into` when given (at least as many
 * values as the tensor has), so that reading many large tensors in turn does not take fresh memory for each.
 */
export function toFloat32(bytes: Buffer, dtype: SafetensorsDtype, into?: Float32Array): Float32Array {
  const count = bytes.length / dtypeBytes[dtype];
  const aligned = new Uint8Array(bytes).buffer; // copy: typed views need aligned offsets
  const out = into?.subarray(0, count);
  switch (dtype) {
    case 'F16': {
      const halves = new Uint16Array(aligned);
      const values = out ?? new Float32Array(count);
      for (let index = 0; index < count; index++) values[index] = halfToFloat(halves[index]!);
      return values;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const halves = new Uint16Array(aligned);
      const values = out ?? new Float32Array(count);
      const words = new Uint32Array(values.buffer, values.byteOffset, count);
      for (let index = 0; index < count; index++) words[index] = halves[index]! << 16;
      return values;
    }
  }
  const converted = otherToFloat32(aligned, dtype);
  if (!out) return converted;
  out.set(converted);
  return out;
}

/** The dtypes other than the half-precision ones, converted from aligned bytes into new memory. */
function otherToFloat32(aligned: ArrayBuffer, dtype: Exclude<SafetensorsDtype, 'F16' | 'BF16'>): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned));
    case 'I64':
      return Float32Array.from(new BigInt64Array(aligned), (value) => Number(value));
    case 'I32':
      return Float32Array.from(new Int32Array(aligned));
    case 'I16':
      return Float32Array.from(new Int16Array(aligned));
    case 'I8':
      return Float32Array.from(new Int8Array(aligned));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(aligned));
  }
}

export function openSafetensors(path: string): SafetensorsFile {
  let fileSize: number;
  const fd = openSync(path, 'r');
  try {
    fileSize = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  if (fileSize < 8) invalid(path, `it is only ${fileSize} bytes long`);
  const headerLength = Number(readBytes(path, 0, 8).readBigUInt64LE(0));
  if (headerLength > maxHeaderBytes) invalid(path, `its header claims ${headerLength} bytes`);
  if (8 + headerLength > fileSize)
    invalid(path, `its header claims ${headerLength} bytes but the file has ${fileSize - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(readBytes(path, 8, headerLength).toString('utf8'));
  } catch {
    invalid(path, 'the header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors = parseHeader(path, header, fileSize - dataStart, dataStart);
  const rawMetadata = (header as Record<string, unknown>).__metadata__;
  const metadata: Record<string, string> = {};
  if (rawMetadata !== undefined) {
    if (typeof rawMetadata !== 'object' || rawMetadata === null) invalid(path, '__metadata__ is not an object');
    for (const [key, value] of Object.entries(rawMetadata)) metadata[key] = String(value);
  }

  const entry = (name: string): TensorEntry =>
    tensors.get(name) ??
    raise('WEIGHTS_INVALID', `${path} has no tensor named "${name}".`, 'Check that the file belongs to this model.');

  return {
    path,
    metadata,
    tensors,
    readFloat32(name, scratch) {
      const tensor = entry(name);
      const count = tensor.byteLength / dtypeBytes[tensor.dtype];
      const into = scratch && scratch.byteLength >= 4 * count ? new Float32Array(scratch, 0, count) : undefined;
      if (tensor.dtype === 'F32' && into) {
        readBytes(path, tensor.fileOffset, tensor.byteLength, Buffer.from(scratch!, 0, tensor.byteLength));
        return into;
      }
      const bytes = readBytes(path, tensor.fileOffset, tensor.byteLength);
      // The read has its own buffer, so aligned float32 bytes are viewed as they are instead of copied.
      if (tensor.dtype === 'F32' && bytes.byteOffset % 4 === 0)
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      return toFloat32(bytes, tensor.dtype, into);
    },
    readFloat64(name) {
      const tensor = entry(name);
      if (tensor.dtype !== 'F64')
        raise('WEIGHTS_INVALID', `Tensor "${name}" in ${path} is ${tensor.dtype}, not F64.`, 'Check the file.');
      return new Float64Array(new Uint8Array(readBytes(path, tensor.fileOffset, tensor.byteLength)).buffer);
    },
    readInt64(name) {
      const tensor = entry(name);
      const bytes = readBytes(path, tensor.fileOffset, tensor.byteLength);
      const aligned = new Uint8Array(bytes).buffer;
      if (tensor.dtype === 'I64') return new BigInt64Array(aligned);
      if (tensor.dtype === 'I32') return BigInt64Array.from(new Int32Array(aligned), (value) => BigInt(value));
      return raise(
        'WEIGHTS_INVALID',
        `Tensor "${name}" in ${path} is ${tensor.dtype}, not an integer type.`,
        'Check the file.',
      );
    },
  };
}

export type WritableTensor =
  | { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }
  | { name: string; dtype: 'F64'; shape: number[]; data: Float64Array }
  | { name: string; dtype: 'I64'; shape: number[]; data: BigInt64Array };

/** Serialises tensors to safetensors bytes (tensors in the given order, header padded to 8 bytes). */
/** The 8-byte length and the space-padded JSON header for tensors laid out back to back in this order. */
function safetensorsHeader(
  tensors: { name: string; dtype: string; shape: number[]; byteLength: number }[],
  metadata: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.byteLength],
    };
    offset += tensor.byteLength;
  }
  let headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (headerBytes.length % 8)) % 8;
  headerBytes = Buffer.concat([headerBytes, Buffer.alloc(padding, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([length, headerBytes]);
}

function checkValueCount(tensor: WritableTensor): void {
  const expected = tensor.shape.reduce((product, dim) => product * dim, 1);
  if (expected !== tensor.data.length) {
    throw new RangeError(
      `tensor ${tensor.name}: shape [${tensor.shape.join(', ')}] needs ${expected} values, got ${tensor.data.length}`,
    );
  }
}

const bytesOf = (data: WritableTensor['data']) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

export function encodeSafetensors(tensors: WritableTensor[], metadata: Record<string, string> = {}): Buffer {
  tensors.forEach(checkValueCount);
  const header = safetensorsHeader(
    tensors.map((tensor) => ({ ...tensor, byteLength: tensor.data.byteLength })),
    metadata,
  );
  return Buffer.concat([header, ...tensors.map((tensor) => bytesOf(tensor.data))]);
}

/** A float32 tensor whose values are produced only when it is written (e.g. converted from bf16 on the way). */
export interface DeferredTensor {
  name: string;
  shape: number[];
  read(): Float32Array;
}

/**
 * Writes float32 tensors one at a time (peak memory: one tensor, not the file: a converted 1B-parameter model is
 * 5 GB), atomically. Returns where the data section starts, so external-data offsets can be made absolute.
 */
export function writeSafetensorsDeferred(path: string, tensors: DeferredTensor[]): number {
  const header = safetensorsHeader(
    tensors.map((tensor) => ({
      name: tensor.name,
      dtype: 'F32',
      shape: tensor.shape,
      byteLength: 4 * tensor.shape.reduce((product, dim) => product * dim, 1),
    })),
    {},
  );
  writeFileAtomicStreamed(path, (write) => {
    write(header);
    for (const tensor of tensors) {
      const data = tensor.read();
      checkValueCount({ name: tensor.name, dtype: 'F32', shape: tensor.shape, data });
      write(bytesOf(data));
    }
  });
  return header.length;
}

export function writeSafetensors(path: string, tensors: WritableTensor[], metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
