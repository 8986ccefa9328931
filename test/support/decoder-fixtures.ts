// The tiny Llama, Mistral, Qwen2 and Gemma-2 checkpoints written by test/reference/decoder_reference.py, assembled
// into temporary model folders with a small byte-level tokenizer (every id below the models' 320), and their goldens.

import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, type SafetensorsFile } from '../../src-main/core/weights/safetensors.ts';

export const decoderVariants = ['llama3', 'llama2', 'llama-linear', 'mistral', 'qwen2', 'gemma2'] as const;
export type DecoderVariant = (typeof decoderVariants)[number];

export const decoderFixtureDir = fileURLToPath(new URL('../fixtures/decoders/', import.meta.url));

/** GPT-2's byte↔character table: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteCharacters(): string[] {
  const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
  let extra = 0;
  return Array.from({ length: 256 }, (_, byte) => String.fromCodePoint(printable(byte) ? byte : 256 + extra++));
}

/** A byte-level BPE tokenizer.json with the 256 byte tokens, a few merges and <s>/</s> at 256/257. */
export function writeByteLevelTokenizer(folder: string): void {
  const characters = byteCharacters();
  const vocab: Record<string, number> = Object.fromEntries(characters.map((character, id) => [character, id]));
  const merges = [
    ['t', 'h'],
    ['th', 'e'],
    ['Ġ', 't'],
    ['i', 'n'],
  ];
  merges.forEach(([left, right], index) => (vocab[left! + right!] = 258 + index));
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(256, '<s>'), special(257, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([left, right]) => `${left} ${right}`),
    },
  };
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>' }));
}

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
  const tokenizer = join(tokenizerFixtureDir, familyTokenizers[variant]);
  for (const file of readdirSync(tokenizer)) copyFileSync(join(tokenizer, file), join(folder, file));
  return folder;
}

export function decoderGolden(name: DecoderVariant | 'llama3-dpo'): SafetensorsFile {
  const golden = openSafetensors(fileURLToPath(new URL(`../golden/decoder-${name}.safetensors`, import.meta.url)));
  if (golden.metadata.format_version !== '1')
    throw new Error(`golden format ${golden.metadata.format_version}; regenerate with: ${golden.metadata.regenerate}`);
  return golden;
}
