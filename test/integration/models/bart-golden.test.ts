// Golden parity with the independent PyTorch BART (test/reference/bart_reference.py): a tiny checkpoint saved by
// torch.save with the real key names, its byte-level BART tokenizer, and encoder/decoder hooks and logits to 1e-4.

import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BartSession } from '../../../src-main/core/models/bart/bart-session.ts';
import { bartHookNames } from '../../../src-main/core/models/bart/graph.ts';
import { loadBartModel, type LoadedBartModel } from '../../../src-main/core/models/load-model.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const fixture = fileURLToPath(new URL('../../fixtures/bart-tiny/', import.meta.url));
const golden = openSafetensors(fileURLToPath(new URL('../../golden/bart-tiny.safetensors', import.meta.url)));
const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
let model: LoadedBartModel;

beforeAll(() => {
  useTemporaryDataDir();
  const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-bart-golden-'));
  cpSync(fixture, folder, { recursive: true });
  model = loadBartModel(folder);
  expect(golden.metadata.format_version).toBe('1');
});

describe('BART golden parity with PyTorch', () => {
  it('tokenizes as <s> … </s> with the byte vocabulary', async () => {
    expect(await model.tokenizer.tokenizer.encode('Hey you!')).toEqual(
      Array.from(golden.readInt64('row0.input_ids'), Number),
    );
    expect(await model.tokenizer.tokenizer.encode('ok')).toEqual(
      Array.from(golden.readInt64('row1.input_ids'), Number),
    );
  });

  it('matches the encoder, every MLP hook and the teacher-forced logits to 1e-4 (pytorch_model.bin, tied weights)', async () => {
    const hooks = bartHookNames(model.config);
    const session = await BartSession.open(model, {
      decoder: {
        hooks: hooks.filter((name) => name.startsWith('decoder.')),
        hookPositions: 'all',
        logits: 'all',
        kvCache: false,
      },
      encoderHooks: hooks.filter((name) => name.startsWith('encoder.')),
      device: cpu,
      batch: 1,
      length: 16,
    });
    const problems: string[] = [];
    for (const row of [0, 1]) {
      const ids = Array.from(golden.readInt64(`row${row}.input_ids`), Number);
      const encoded = await session.encode([ids]);
      const shifted = [model.config.decoderStartTokenId, ...ids.slice(0, -1)];
      const outputs = await session.decode(encoded, BigInt64Array.from(shifted, BigInt), shifted.length, 0);
      const all = { ...encoded.outputs, ...outputs };
      for (const name of ['encoder_hidden', ...hooks, 'logits']) {
        const problem = describeMismatch(
          `row ${row} ${name}`,
          all[name]!.data as Float32Array,
          golden.readFloat32(`row${row}.${name}`),
          1e-4,
        );
        if (problem) problems.push(problem);
      }
    }
    await session.release();
    expect(problems).toEqual([]);
  });
});
