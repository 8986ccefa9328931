// A read-only ZIP reader for PyTorch checkpoints (torch.save's zip format): central directory, ZIP64, stored and
// deflated entries. Stored entries can be read lazily by absolute file offset.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { raise } from '../../shared/index.ts';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  path: string;
  entries: Map<string, ZipEntry>;
  /** Reads a whole entry (inflating it when deflated). */
  read(name: string): Buffer;
  /** Reads `length` bytes at `offset` inside a stored (uncompressed) entry. */
  readRange(name: string, offset: number, length: number): Buffer;
}

function corrupt(path: string, problem: string): never {
  return raise(
    'WEIGHTS_INVALID',
    `${path} is not a readable PyTorch zip checkpoint: ${problem}.`,
    'The file may be truncated; copy it again, or re-save it with torch.save.',
  );
}

function readAt(fd: number, path: string, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) corrupt(path, `unexpected end of file at byte ${position + done}`);
    done += read;
  }
  return buffer;
}

export function isZipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    closeSync(fd);
  }
}

export function openZip(path: string): ZipArchive {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const tailLength = Math.min(fileSize, 65557);
    const tail = readAt(fd, path, fileSize - tailLength, tailLength);
    let eocd = -1;
    for (let index = tail.length - 22; index >= 0; index--) {
      if (tail.readUInt32LE(index) === 0x06054b50) {
        eocd = index;
        break;
      }
    }
    if (eocd < 0) corrupt(path, 'no end-of-central-directory record (truncated download?)');
    let entryCount = tail.readUInt16LE(eocd + 10);
    let directorySize = tail.readUInt32LE(eocd + 12);
    let directoryOffset = tail.readUInt32LE(eocd + 16);
    if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || tail.readUInt32LE(locator) !== 0x07064b50)
        corrupt(path, 'a ZIP64 archive without its locator');
      const zip64Offset = Number(tail.readBigUInt64LE(locator + 8));
      const zip64 = readAt(fd, path, zip64Offset, 56);
      if (zip64.readUInt32LE(0) !== 0x06064b50) corrupt(path, 'a broken ZIP64 end record');
      entryCount = Number(zip64.readBigUInt64LE(32));
      directorySize = Number(zip64.readBigUInt64LE(40));
      directoryOffset = Number(zip64.readBigUInt64LE(48));
    }
    if (directoryOffset + directorySize > fileSize)
      corrupt(path, 'the central directory lies beyond the end of the file');
    const directory = readAt(fd, path, directoryOffset, directorySize);
    const entries = new Map<string, ZipEntry>();
    let cursor = 0;
    for (let count = 0; count < entryCount; count++) {
      if (cursor + 46 > directory.length || directory.readUInt32LE(cursor) !== 0x02014b50)
        corrupt(path, 'a damaged central directory');
      const method = directory.readUInt16LE(cursor + 10);
      let compressedSize = directory.readUInt32LE(cursor + 20);
      let size = directory.readUInt32LE(cursor + 24);
      const nameLength = directory.readUInt16LE(cursor + 28);
      const extraLength = directory.readUInt16LE(cursor + 30);
      const commentLength = directory.readUInt16LE(cursor + 32);
      let localHeaderOffset = directory.readUInt32LE(cursor + 42);
      const name = directory.toString('utf8', cursor + 46, cursor + 46 + nameLength);
      // ZIP64 extra field: 64-bit values for exactly the fields saturated above, in this order.
      let extra = cursor + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = directory.readUInt16LE(extra);
        const length = directory.readUInt16LE(extra + 2);
        if (id === 0x0001) {
          let field = extra + 4;
          const next = () => {
            const value = Number(directory.readBigUInt64LE(field));
            field += 8;
            return value;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        extra += 4 + length;
      }
      entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      cursor = extraEnd + commentLength;
    }
    return createArchive(path, entries);
  } finally {
    closeSync(fd);
  }
}

function createArchive(path: string, entries: Map<string, ZipEntry>): ZipArchive {
  const dataOffsets = new Map<string, number>();
  const entry = (name: string) => entries.get(name) ?? corrupt(path, `it has no entry "${name}"`);

  function withFile<T>(action: (fd: number) => T): T {
    const fd = openSync(path, 'r');
    try {
      return action(fd);
    } finally {
      closeSync(fd);
    }
  }

  function dataOffset(fd: number, found: ZipEntry): number {
    let offset = dataOffsets.get(found.name);
    if (offset === undefined) {
      const local = readAt(fd, path, found.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) corrupt(path, `a damaged local header for "${found.name}"`);
      offset = found.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      dataOffsets.set(found.name, offset);
    }
    return offset;
  }

  return {
    path,
    entries,
    read(name) {
      const found = entry(name);
      return withFile((fd) => {
        const raw = readAt(fd, path, dataOffset(fd, found), found.compressedSize);
        if (found.method === 0) return raw;
        if (found.method === 8) return inflateRawSync(raw);
        return corrupt(path, `entry "${name}" uses unsupported compression method ${found.method}`);
      });
    },
    readRange(name, offset, length) {
      const found = entry(name);
      if (found.method !== 0) {
        const whole = this.read(name);
        if (offset + length > whole.length) corrupt(path, `entry "${name}" is shorter than its tensors need`);
        return whole.subarray(offset, offset + length);
      }
      if (offset + length > found.size)
        corrupt(path, `entry "${name}" holds ${found.size} bytes but a tensor needs bytes up to ${offset + length}`);
      return withFile((fd) => readAt(fd, path, dataOffset(fd, found) + offset, length));
    },
  };
}
