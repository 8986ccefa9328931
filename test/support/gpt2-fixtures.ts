// The tiny GPT-2 checkpoints written by test/reference/gpt2_reference.py, assembled into temporary model folders
// with GPT-2's real tokenizer files, and their golden outputs.

import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, type SafetensorsFile } from '../../src-main/core/weights/safetensors.ts';
import { writeGpt2VocabMergesFolder } from './gpt2-tokenizer-files.ts';

export const gpt2FixtureDir = fileURLToPath(new URL('../fixtures/gpt2-tiny/', import.meta.url));
export const dpoCheckpoint = join(gpt2FixtureDir, 'dpo.pt');
export const evilCheckpoint = join(gpt2FixtureDir, 'evil.pt');

/** A model folder (config, weights, vocab.json + merges.txt) for the 'hub' (safetensors) or 'bin' layout. */
export function tinyGpt2Folder(layout: 'hub' | 'bin'): string {
  const folder = writeGpt2VocabMergesFolder(mkdtempSync(join(os.tmpdir(), `toxscope-gpt2-${layout}-`)));
  const weights = layout === 'hub' ? 'model.safetensors' : 'pytorch_model.bin';
  copyFileSync(join(gpt2FixtureDir, layout, 'config.json'), join(folder, 'config.json'));
  copyFileSync(join(gpt2FixtureDir, layout, weights), join(folder, weights));
  return folder;
}

export function gpt2Golden(label: 'base' | 'dpo'): SafetensorsFile {
  const golden = openSafetensors(fileURLToPath(new URL(`../golden/gpt2-tiny-${label}.safetensors`, import.meta.url)));
  if (golden.metadata.format_version !== '1')
    throw new Error(`golden format ${golden.metadata.format_version}; regenerate with: ${golden.metadata.regenerate}`);
  return golden;
}

/** A fresh user data folder so graph caches and fingerprints never leak between tests. */
export function useTemporaryDataDir(): string {
  const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-data-'));
  process.env.TOXSCOPE_DATA_DIR = folder;
  return folder;
}
