// The tiny Llama, Mistral, Qwen2 and Gemma-2 checkpoints written by test/reference/decoder_reference.py, assembled
// into temporary model folders with their family's tiny tokenizer (every id below the models' 320), and their goldens.

import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, type SafetensorsFile } from '../../src-main/core/weights/safetensors.ts';

export const decoderVariants = ['llama3', 'llama2', 'llama-linear', 'mistral', 'qwen2', 'gemma2'] as const;
export type DecoderVariant = (typeof decoderVariants)[number];

export const decoderFixtureDir = fileURLToPath(new URL('../fixtures/decoders/', import.meta.url));

/** Each variant's tokenizer: the tiny one configured as its family's real tokenizer (test/fixtures/tokenizers/). */
const familyTokenizers: Record<DecoderVariant, string> = {
  llama3: 'llama3',
  'llama-linear': 'llama3',
  llama2: 'llama2',
  mistral: 'mistral',
  qwen2: 'qwen2',
  gemma2: 'gemma',
};

const tokenizerFixtureDir = fileURLToPath(new URL('../fixtures/tokenizers/', import.meta.url));

/** A model folder: the variant's config and weight files (shards and index included) plus its family's tokenizer. */
export function tinyDecoderFolder(variant: DecoderVariant): string {
  const folder = mkdtempSync(join(os.tmpdir(), `toxscope-${variant}-`));
  for (const file of readdirSync(join(decoderFixtureDir, variant)))
    if (file !== 'dpo.pt') copyFileSync(join(decoderFixtureDir, variant, file), join(folder, file));
  copyTokenizer(familyTokenizers[variant], folder);
  return folder;
}

/** Copies one of the tiny family tokenizers (test/fixtures/tokenizers/NAME, every id below 320) into a folder. */
export function copyTokenizer(name: string, folder: string): void {
  const tokenizer = join(tokenizerFixtureDir, name);
  for (const file of readdirSync(tokenizer)) copyFileSync(join(tokenizer, file), join(folder, file));
}

export function decoderGolden(name: DecoderVariant | 'llama3-dpo'): SafetensorsFile {
  const golden = openSafetensors(fileURLToPath(new URL(`../golden/decoder-${name}.safetensors`, import.meta.url)));
  if (golden.metadata.format_version !== '1')
    throw new Error(`golden format ${golden.metadata.format_version}; regenerate with: ${golden.metadata.regenerate}`);
  return golden;
}
