// Hostile and broken checkpoint files: each is refused with WEIGHTS_INVALID and a message that says what is wrong,
// and nothing in a hostile pickle is ever executed.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpickle } from '../../../src-main/core/weights/restricted-unpickler.ts';
import { encodeSafetensors, openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { loadStateDictFile } from '../../../src-main/core/weights/state-dict.ts';
import { evilCheckpoint, gpt2FixtureDir } from '../../support/gpt2-fixtures.ts';
import { raisedBy as failure } from '../../support/app-error.ts';

const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-hostile-'));

function safetensorsWithHeader(header: unknown, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(folder, `crafted-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(path, Buffer.concat([length, json, Buffer.alloc(dataBytes)]));
  return path;
}

describe('restricted unpickler', () => {
  it('refuses a torch.save file whose pickle would call os.system, and runs nothing', () => {
    rmSync('/tmp/toxscope-pwned', { force: true });
    const error = failure(() => loadStateDictFile(evilCheckpoint));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/"posix\.system"[\s\S]*Nothing in the file was executed/);
    expect(existsSync('/tmp/toxscope-pwned')).toBe(false);
  });

  it('refuses builtins.eval named by a protocol-2 GLOBAL before any REDUCE', () => {
    // \x80\x02 c builtins\neval\n X "1+1" \x85 R .
    const pickle = Buffer.concat([
      Buffer.from('\x80\x02cbuiltins\neval\n', 'latin1'),
      Buffer.from([0x58, 3, 0, 0, 0]),
      Buffer.from('1+1'),
      Buffer.from([0x85, 0x52, 0x2e]),
    ]);
    expect(failure(() => unpickle(pickle, 'crafted.pkl')).message).toMatch(/"builtins\.eval"/);
  });

  it('reads the dpo.pt training checkpoint ({"state": ...}) with its tensors', () => {
    const stateDict = loadStateDictFile(join(gpt2FixtureDir, 'dpo.pt'));
    expect(stateDict.format).toBe('pytorch');
    expect(stateDict.tensors.get('transformer.wte.weight')?.shape).toEqual([50257, 8]);
    expect(stateDict.tensors.has('step_idx')).toBe(false);
  });

  it('refuses a truncated .bin with a message about the file', () => {
    const bytes = readFileSync(join(gpt2FixtureDir, 'bin', 'pytorch_model.bin'));
    const truncated = join(folder, 'truncated.bin');
    writeFileSync(truncated, bytes.subarray(0, bytes.length / 2));
    const error = failure(() => loadStateDictFile(truncated));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/truncated\.bin/);
  });
});

describe('safetensors validation', () => {
  it('round-trips tensors written by our writer', () => {
    const path = join(folder, 'roundtrip.safetensors');
    writeFileSync(
      path,
      encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }], { note: 'x' }),
    );
    const file = openSafetensors(path);
    expect(Array.from(file.readFloat32('a'))).toEqual([1, 2, 3, 4]);
    expect(file.metadata).toEqual({ note: 'x' });
  });

  it('refuses a header that lies about a tensor size', () => {
    const path = safetensorsWithHeader({ w: { dtype: 'F32', shape: [4, 4], data_offsets: [0, 32] } }, 32);
    expect(failure(() => openSafetensors(path)).message).toMatch(
      /"w" of shape \[4, 4\] F32 needs 64 bytes but its header gives 32/,
    );
  });

  it('refuses tensors that reach past the end of the file (truncated)', () => {
    const path = safetensorsWithHeader({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    expect(failure(() => openSafetensors(path)).message).toMatch(/truncated/);
  });

  it('refuses overlapping tensors', () => {
    const path = safetensorsWithHeader(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      12,
    );
    expect(failure(() => openSafetensors(path)).message).toMatch(/"a" and "b" overlap/);
  });

  it('refuses an unknown dtype and a header length beyond the file', () => {
    expect(
      failure(() => openSafetensors(safetensorsWithHeader({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, 1)))
        .message,
    ).toMatch(/unsupported dtype "Q4"/);
    const path = join(folder, 'short.safetensors');
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(1000n);
    writeFileSync(path, bytes);
    expect(failure(() => openSafetensors(path)).message).toMatch(/header claims 1000 bytes/);
  });

  it('reads F16 and BF16 as float32', () => {
    const path = join(folder, 'halves.safetensors');
    const header = Buffer.from(
      JSON.stringify({
        h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
      }),
    );
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    const data = Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x40, 0xc0]); // F16 1, -2; BF16 1, -3
    writeFileSync(path, Buffer.concat([length, header, data]));
    const file = openSafetensors(path);
    expect(Array.from(file.readFloat32('h'))).toEqual([1, -2]);
    expect(Array.from(file.readFloat32('b'))).toEqual([1, -3]);
  });
});
