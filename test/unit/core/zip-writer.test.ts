// The zip writer: CRC-32 equal to zlib's, and archives that the project's independent zip reader (written for
// PyTorch checkpoints) reads back byte for byte, UTF-8 names and empty files included.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, writeZip } from '../../../src-main/core/files/zip-writer.ts';
import { openZip } from '../../../src-main/core/weights/zip-archive.ts';

describe('zip writer', () => {
  it('computes the CRC-32 zip uses', () => {
    for (const text of ['', 'a', 'The quick brown fox jumps over the lazy dog', 'ünïcødé ✓ 😀'.repeat(50)]) {
      const bytes = Buffer.from(text, 'utf8');
      expect(crc32(bytes), text.slice(0, 20)).toBe(zlibCrc32(bytes));
    }
  });

  it('writes stored entries that read back byte for byte', () => {
    const files = [
      {
        name: 'run/neurons.csv',
        data: Buffer.from('layer,neuron\n0,1\n'),
        modified: new Date(2026, 10, 27, 5, 30, 12),
      },
      { name: 'run/empty.txt', data: Buffer.alloc(0), modified: new Date(1970, 0, 1) },
      { name: 'run/näme ✓.json', data: Buffer.from('{"ok":true}\n'), modified: new Date() },
    ];
    const path = join(mkdtempSync(join(os.tmpdir(), 'toxscope-zip-')), 'out.zip');
    writeFileSync(path, writeZip(files));
    const archive = openZip(path);
    expect([...archive.entries.keys()]).toEqual(files.map((file) => file.name));
    for (const file of files) expect(archive.read(file.name)).toEqual(file.data);
  });
});
