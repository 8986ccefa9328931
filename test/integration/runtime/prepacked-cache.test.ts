// Saved prepacked weights (prepacked-cache.ts) with the real onnxruntime: the first CPU session of a graph saves the
// copy, the next one opens from it, and both give exactly the numbers of a session that repacks; a copy that cannot
// be loaded is replaced, a half-written one of a dead process removed, one too large for the memory neither written
// nor read, and TOXSCOPE_PREPACKED_CACHE=off turns it off; graphs of an earlier builder removed; the graph cache's
// usage (what the Models page shows) and its clearing.

import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectBatch, collectionGraphOptions, emptySums } from '../../../src-main/core/interp/collect-activations.ts';
import {
  clearGraphCache,
  graphBuilderVersion,
  graphCacheDir,
  graphCacheUsage,
} from '../../../src-main/core/models/graph-cache.ts';
import { loadModel, type LoadedDecoderModel } from '../../../src-main/core/models/load-model.ts';
import type { DecoderGraphOptions } from '../../../src-main/core/models/decoder/graph.ts';
import { openDecoderSession, type OpenedDecoder } from '../../../src-main/core/models/decoder/open-session.ts';
import { onnxruntimeVersion } from '../../../src-main/core/runtime/onnxruntime.ts';
import {
  copyFitsInMemory,
  leavesRoomForCopy,
  prepackedCacheVariable,
  prepackedFolder,
} from '../../../src-main/core/runtime/prepacked-cache.ts';
import { tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };

async function open(model: LoadedDecoderModel, attention?: DecoderGraphOptions['attention']): Promise<OpenedDecoder> {
  const graphOptions = { ...collectionGraphOptions(model.config.nLayers), interventions: false, attention };
  return openDecoderSession(model, graphOptions, { device: cpu, threads: 1, batch: 2, length: 16 });
}

/** Greedy continuations and summed activations of two prompts: every number the compare job keeps. */
async function runOnce(model: LoadedDecoderModel, attention?: DecoderGraphOptions['attention']) {
  const { session, graph } = await open(model, attention);
  try {
    const sums = emptySums(model.config.nLayers, model.config.dMlp);
    const unit = Float64Array.from({ length: model.config.dModel }, (_, index) => Math.cos(index));
    const generated = await collectBatch(session, [[464, 3290, 318], [40]], sums, {
      maxNewTokens: 5,
      padTokenId: 50256,
      unit,
    });
    return { generated, post: Array.from(sums.post), projection: Array.from(sums.outProjection), graph };
  } finally {
    await session.release();
  }
}

/** Each external initializer's data offsets in a saved copy's model.onnx: its original bytes and any repacked ones. */
function externalOffsets(modelFile: string): { name: string; offset: number; prepacked: boolean }[] {
  const graph = onnxProto.onnx.ModelProto.decode(readFileSync(modelFile)).graph!;
  return graph.initializer!.flatMap((tensor) =>
    (tensor.externalData ?? []).flatMap(({ key, value }): { name: string; offset: number; prepacked: boolean }[] => {
      const name = tensor.name!;
      if (key === 'offset') return [{ name, offset: Number(value), prepacked: false }];
      // prepacked_N = "<kernel>+<hash>|<offset>;<length>;<...>"
      if (key!.startsWith('prepacked_'))
        return [{ name, offset: Number(value!.split('|')[1]!.split(';')[0]), prepacked: true }];
      return [];
    }),
  );
}

afterEach(() => {
  delete process.env[prepackedCacheVariable];
});

describe('saved prepacked weights', () => {
  it('are written by the first session, used by the next, and change no number', async () => {
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    process.env[prepackedCacheVariable] = 'off';
    const plain = await runOnce(model);
    const copy = prepackedFolder(plain.graph.modelPath, onnxruntimeVersion());
    expect(existsSync(copy)).toBe(false);

    delete process.env[prepackedCacheVariable];
    const saving = await runOnce(model);
    expect(readdirSync(copy).sort()).toEqual(['model.onnx', 'weights.bin']);
    const fromCopy = await runOnce(model);
    for (const run of [saving, fromCopy]) {
      expect(run.generated).toEqual(plain.generated);
      expect(run.post).toEqual(plain.post);
      expect(run.projection).toEqual(plain.projection);
    }
    // Nothing half-written is left beside the graph.
    expect(readdirSync(dirname(plain.graph.modelPath)).filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('replaces a copy onnxruntime cannot load, and removes one a dead process of this host left half-written', async () => {
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    const first = await runOnce(model);
    const copy = prepackedFolder(first.graph.modelPath, onnxruntimeVersion());
    writeFileSync(join(copy, 'model.onnx'), 'not a model');
    const abandoned = `${copy}.tmp-${os.hostname()}-999999999-0123abcd`; // no such process on this host
    const otherHost = `${copy}.tmp-another-node-${process.pid}-0123abcd`; // a live save elsewhere on a shared disk
    mkdirSync(abandoned);
    mkdirSync(otherHost);

    const second = await runOnce(model);
    expect(second.generated).toEqual(first.generated);
    expect(second.post).toEqual(first.post);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(otherHost)).toBe(true);
    // The unloadable copy was deleted and saved again by the same session.
    const third = await runOnce(model);
    expect(third.post).toEqual(first.post);
    expect(readdirSync(copy).sort()).toEqual(['model.onnx', 'weights.bin']);
  });

  it('keep every saved matrix 64-byte aligned, so a graph whose embedding only feeds its lookup runs from them', async () => {
    // With onnxruntime's default threshold, small tensors were written unaligned; the tiny embedding's odd length
    // (50257 × 8 floats) then shifted every later repacked matrix off alignment and the run from the copy crashed.
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    const hooksOnly = { hooks: ['blocks.1.mlp.hook_post'], hookPositions: 'last' as const, logits: 'none' as const };
    const lastActivations = async () => {
      const { session, graph } = await openDecoderSession(
        model,
        { ...hooksOnly, kvCache: false, interventions: false, attention: 'standard' },
        { device: cpu, threads: 1, batch: 1, length: 8 },
      );
      try {
        const ids = BigInt64Array.from([464n, 3290n, 318n]);
        const { outputs } = await session.step({
          batch: 1,
          pos: 3,
          inputIds: ids,
          attentionMask: BigInt64Array.from([1n, 1n, 1n]),
          positionIds: BigInt64Array.from([0n, 1n, 2n]),
          cache: null,
        });
        return { post: Array.from(outputs['blocks.1.mlp.hook_post']!.data as Float32Array), graph };
      } finally {
        await session.release();
      }
    };
    const saving = await lastActivations();
    const fromCopy = await lastActivations();
    expect(fromCopy.post).toEqual(saving.post);

    const saved = join(prepackedFolder(saving.graph.modelPath, onnxruntimeVersion()), 'model.onnx');
    const offsets = externalOffsets(saved);
    expect(offsets.length).toBeGreaterThan(0);
    for (const { name, offset } of offsets)
      expect({ name, misalignedBy: offset % 64 }).toEqual({ name, misalignedBy: 0 });
  });

  it('leave a tied unembedding unrepacked (a generation graph multiplies it from the left), one table for the lookup and the unembedding', async () => {
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    expect(model.config.tiedEmbeddings).toBe(true);
    const { graph } = await runOnce(model);
    const saved = join(prepackedFolder(graph.modelPath, onnxruntimeVersion()), 'model.onnx');
    const offsets = externalOffsets(saved);
    // The copy holds the table's bytes (so this is the file to look in) once, with no repacked blobs of it: the
    // lookup and the unembedding read the same initializer, mapped once.
    expect(offsets.some((entry) => entry.name === 'embed.W_E' && !entry.prepacked)).toBe(true);
    expect(offsets.some((entry) => entry.name === 'unembed.W_U')).toBe(false);
    const repacked = new Set(offsets.filter((entry) => entry.prepacked).map((entry) => entry.name));
    expect(repacked.has('embed.W_E')).toBe(false);
  });

  it("are used for a graph with onnxruntime's contrib ops (GPT-2's fused Attention) and change no number", async () => {
    // This graph crashed onnxruntime when run from its saved copy until the copies stopped writing small tensors
    // unaligned (prepackedExternalMinBytes in onnxruntime.ts); it was excluded from saving until then.
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    process.env[prepackedCacheVariable] = 'off';
    const plain = await runOnce(model, 'fused');
    delete process.env[prepackedCacheVariable];
    const saving = await runOnce(model, 'fused');
    const copy = prepackedFolder(saving.graph.modelPath, onnxruntimeVersion());
    expect(readdirSync(copy).sort()).toEqual(['model.onnx', 'weights.bin']);
    const fromCopy = await runOnce(model, 'fused');
    for (const run of [saving, fromCopy]) {
      expect(run.generated).toEqual(plain.generated);
      expect(run.post).toEqual(plain.post);
      expect(run.projection).toEqual(plain.projection);
    }
  });
});

describe('a copy too large for the memory', () => {
  it('is removed instead of read, and not written again, and the numbers stay those of the copy', async () => {
    useTemporaryDataDir();
    const model = loadModel(tinyGpt2Folder('hub'));
    const saving = await runOnce(model);
    const copy = prepackedFolder(saving.graph.modelPath, onnxruntimeVersion());
    const copyBytes = readdirSync(copy).reduce((total, name) => total + statSync(join(copy, name)).size, 0);
    // A machine with as much memory as the copy.
    const memory = vi.spyOn(os, 'totalmem').mockReturnValue(copyBytes);
    try {
      const repacking = await runOnce(model);
      expect(existsSync(copy)).toBe(false);
      expect(repacking.generated).toEqual(saving.generated);
      expect(repacking.post).toEqual(saving.post);
      await runOnce(model);
      expect(existsSync(copy)).toBe(false);
    } finally {
      memory.mockRestore();
    }
  });

  it('is more than a quarter of the memory', () => {
    const gib = 1024 ** 3;
    expect(copyFitsInMemory(6 * gib, 24 * gib)).toBe(true);
    expect(copyFitsInMemory(6 * gib + 1, 24 * gib)).toBe(false);
    expect(copyFitsInMemory(10.9e9, 24 * gib)).toBe(false); // Llama-3.2-1B's copy on this project's 24 GiB machine
    expect(copyFitsInMemory(2.9e9, 24 * gib)).toBe(true); // gpt2-medium's
  });
});

describe('leavesRoomForCopy', () => {
  const gib = 1024 ** 3;
  it('keeps 2 GiB or a tenth of the disk free after a copy twice the size of the graph', () => {
    expect(leavesRoomForCopy(1 * gib, { freeBytes: 10 * gib, totalBytes: 50 * gib })).toBe(true); // 8 GiB left > 5
    expect(leavesRoomForCopy(3 * gib, { freeBytes: 10 * gib, totalBytes: 50 * gib })).toBe(false); // 4 GiB left < 5
    expect(leavesRoomForCopy(0.5 * gib, { freeBytes: 3 * gib, totalBytes: 10 * gib })).toBe(false); // 2 GiB = the floor
    expect(leavesRoomForCopy(0.4 * gib, { freeBytes: 3 * gib, totalBytes: 10 * gib })).toBe(true);
  });
});

describe('graphs of an earlier graph builder', () => {
  it('are removed when a graph is built, links to checkpoints included, leaving builds in progress and newer ones', async () => {
    useTemporaryDataDir();
    const folder = tinyGpt2Folder('hub');
    const checkpoint = join(folder, 'model.safetensors');
    const graphs = graphCacheDir();
    const fake = (name: string, meta: object | null) => {
      mkdirSync(join(graphs, name), { recursive: true });
      writeFileSync(join(graphs, name, 'model.onnx'), 'stale');
      if (meta) writeFileSync(join(graphs, name, 'meta.json'), JSON.stringify(meta));
    };
    fake('outdated', { graphBuilderVersion: graphBuilderVersion - 1 });
    linkSync(checkpoint, join(graphs, 'outdated', 'weights-0-model.safetensors'));
    fake('in-progress', null);
    fake('newer', { graphBuilderVersion: graphBuilderVersion + 1 });
    expect(statSync(checkpoint).nlink).toBe(2);

    await runOnce(loadModel(folder));
    expect(existsSync(join(graphs, 'outdated'))).toBe(false);
    expect(existsSync(join(graphs, 'in-progress'))).toBe(true);
    expect(existsSync(join(graphs, 'newer'))).toBe(true);
    expect(statSync(checkpoint).nlink).toBe(2); // its link in the new graph; the checkpoint itself untouched
  });
});

describe('the graph cache on the Models page (usage and clearing)', () => {
  it('counts what ToxScope wrote, not the linked checkpoint, and clears it without touching the checkpoint', async () => {
    useTemporaryDataDir();
    const folder = tinyGpt2Folder('hub');
    const checkpoint = join(folder, 'model.safetensors');
    const { graph } = await runOnce(loadModel(folder));
    const graphFolder = dirname(graph.modelPath);
    const copy = prepackedFolder(graph.modelPath, onnxruntimeVersion());
    expect(statSync(checkpoint).nlink).toBe(2); // hard-linked into the graph folder, not copied
    const sizes = (dir: string) =>
      readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isFile() && statSync(join(dir, entry.name)).nlink === 1)
        .reduce((sum, entry) => sum + statSync(join(dir, entry.name)).size, 0);

    const usage = graphCacheUsage();
    expect(usage.graphs).toBe(1);
    expect(usage.prepackedBytes).toBe(sizes(copy));
    // The copy holds the weights again with their repacked blobs (a tiny model's inline, in its model.onnx).
    expect(statSync(join(copy, 'model.onnx')).size).toBeGreaterThan(statSync(graph.modelPath).size);
    expect(usage.bytes).toBe(sizes(graphFolder) + sizes(copy));

    expect(clearGraphCache()).toEqual({ removed: 1, freedBytes: usage.bytes, kept: [] });
    expect(graphCacheUsage()).toMatchObject({ graphs: 0, bytes: 0, prepackedBytes: 0 });
    expect(statSync(checkpoint).nlink).toBe(1);
    expect(readFileSync(checkpoint).length).toBe(statSync(checkpoint).size);
  });
});
