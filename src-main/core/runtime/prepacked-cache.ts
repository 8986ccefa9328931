// Saved prepacked weights: a CPU session's first creation also writes onnxruntime's optimized graph with every
// weight matrix already in its GEMM kernels' layout, beside the cached graph; later sessions map that file instead of
// repacking (gpt2-medium: 4.9 s → 1.6 s to open, see docs/benchmarks.md). The layout depends on the CPU's
// instruction set and onnxruntime's version, so both key the copy. Only copies small beside the machine's memory are
// kept (copyFitsInMemory).

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { cpuFlags } from './cpu.ts';

/** Bump when what is saved changes (the session options that shape the optimized graph, the file names). */
const prepackedFormatVersion = 3;

/** The file onnxruntime writes the weights into (original and prepacked), next to the optimized model.onnx. */
export const prepackedDataFile = 'weights.bin';

/** Set to `off` to never write or use saved prepacked weights (sessions then repack at every creation). */
export const prepackedCacheVariable = 'TOXSCOPE_PREPACKED_CACHE';

/** Free space a save must leave on the disk, at least: this much, or a tenth of the disk when that is more. */
const reservedBytes = 2 * 1024 ** 3;

function prepackedKey(onnxruntimeVersion: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        prepackedFormatVersion,
        onnxruntimeVersion,
        arch: process.arch,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        flags: cpuFlags(),
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

/** The folder holding a model's prepacked copy for this CPU and onnxruntime (it may not exist). */
export function prepackedFolder(modelPath: string, onnxruntimeVersion: string): string {
  return join(dirname(modelPath), `prepacked-${prepackedKey(onnxruntimeVersion)}`);
}

export function prepackedCacheEnabled(): boolean {
  return process.env[prepackedCacheVariable] !== 'off';
}

/**
 * Whether a saved copy of `copyBytes` is worth keeping on a machine with `totalMemoryBytes`. A copy holds the original
 * weights beside the repacked ones (about twice the model), and onnxruntime reads both from it: the originals at every
 * session creation, the repacked ones at every run. It is faster than repacking only while the page cache keeps it;
 * a job holds two models (compare) and the weights it computes with, so a copy may take a quarter of the memory. The
 * Llama-3.2-1B compare on 24 GiB, whose copies are 10.9 GB each, took 82–91 s reading them back from disk against
 * 67–70 s repacking from the checkpoints (docs/benchmarks.md).
 */
export function copyFitsInMemory(copyBytes: number, totalMemoryBytes = os.totalmem()): boolean {
  return copyBytes <= totalMemoryBytes / 4;
}

/** Bytes of the files in a folder (not below it). */
function folderBytes(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true }))
    if (entry.isFile()) total += statSync(join(folder, entry.name)).size;
  return total;
}

/**
 * The saved optimized model.onnx for this graph, CPU and onnxruntime, or null when there is none yet. A copy too large
 * for this machine's memory (copyFitsInMemory; written on another machine sharing the data folder, or before this
 * rule) is deleted rather than read.
 */
export function savedPrepackedModel(modelPath: string, onnxruntimeVersion: string): string | null {
  const folder = prepackedFolder(modelPath, onnxruntimeVersion);
  const model = join(folder, 'model.onnx');
  if (!existsSync(model)) return null;
  if (copyFitsInMemory(folderBytes(folder))) return model;
  discardPrepacked(modelPath, onnxruntimeVersion);
  return null;
}

/** Whether a copy of `graphBytes` (written as about twice that: the weights and their prepacked layout) leaves the disk enough free space (see reservedBytes). */
export function leavesRoomForCopy(graphBytes: number, disk: { freeBytes: number; totalBytes: number }): boolean {
  return disk.freeBytes - 2 * graphBytes > Math.max(reservedBytes, disk.totalBytes / 10);
}

/**
 * Whether a copy of the graph in `folder` (its files: the graph and its weights, linked or converted) is worth
 * writing: it fits in memory and on the disk.
 */
function worthSaving(folder: string): boolean {
  const graphBytes = folderBytes(folder);
  const disk = statfsSync(folder);
  return (
    copyFitsInMemory(2 * graphBytes) &&
    leavesRoomForCopy(graphBytes, { freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize })
  );
}

/** A save's temporary folder name: unique per host, process and save, so that concurrent saves (sessions of one
 * process, or processes on several nodes sharing the data folder) never write into the same folder. */
function temporaryName(target: string): string {
  return `${target}.tmp-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Removes copies left half-written by a process of this host that died while saving; other hosts' saves stay. */
function removeAbandonedSaves(folder: string): void {
  for (const name of readdirSync(folder)) {
    const match = /^prepacked-[0-9a-f]+\.tmp-(.+)-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (!match || match[1] !== os.hostname() || Number(match[2]) === process.pid) continue;
    try {
      process.kill(Number(match[2]), 0);
    } catch {
      rmSync(join(folder, name), { recursive: true, force: true });
    }
  }
}

export interface PrepackedSave {
  /** Where onnxruntime writes the optimized model; its weights go to `prepackedDataFile` beside it. */
  modelFile: string;
  /** Moves the written copy into place (another process may have won the race: then its copy stays). */
  commit(): void;
  /** Removes a copy that was not written. */
  abandon(): void;
}

/**
 * Where to save the prepacked copy of a graph, or null when a copy would not pay (too large for the memory) or there is
 * not enough free disk for one. The copy is written into a folder of its own and renamed into place, so a crash never
 * leaves a copy that looks complete.
 */
export function planPrepackedSave(modelPath: string, onnxruntimeVersion: string): PrepackedSave | null {
  const graphFolder = dirname(modelPath);
  if (!worthSaving(graphFolder)) return null;
  removeAbandonedSaves(graphFolder);
  const target = prepackedFolder(modelPath, onnxruntimeVersion);
  const temporary = temporaryName(target);
  mkdirSync(temporary);
  return {
    modelFile: join(temporary, 'model.onnx'),
    commit() {
      try {
        renameSync(temporary, target);
      } catch {
        rmSync(temporary, { recursive: true, force: true }); // the target exists: a concurrent run saved it first
      }
    },
    abandon() {
      rmSync(temporary, { recursive: true, force: true });
    },
  };
}

/** Deletes a saved copy that onnxruntime could not load (written by a build that differs in a way the key missed). */
export function discardPrepacked(modelPath: string, onnxruntimeVersion: string): void {
  rmSync(prepackedFolder(modelPath, onnxruntimeVersion), { recursive: true, force: true });
}
