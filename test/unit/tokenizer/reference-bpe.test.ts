// The library-backed tokenizer against ToxScope's previous hand-written byte-level BPE (test/support's reference) on
// the real GPT-2 files and on BART folders, hundreds of hard strings and every masked variant the detox masker
// builds: the move onto Hugging Face tokenizers changes no GPT-2 or BART token.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskWords } from '../../../src-main/core/detox/masker.ts';
import { isPunctuationOnly, segmentWords } from '../../../src-main/core/detox/words.ts';
import { loadTokenizer } from '../../../src-main/core/tokenizer/load-tokenizer.ts';
import {
  gpt2MergesText,
  gpt2Vocab,
  writeGpt2TokenizerJsonFolder,
  writeGpt2VocabMergesFolder,
} from '../../support/gpt2-tokenizer-files.ts';
import { hardStrings } from '../../support/hard-strings.ts';
import { referenceByteLevelTokenizer, type ByteLevelBpeTokenizer } from '../../support/reference-byte-level-bpe.ts';
import type { Tokenizer } from '../../../src-main/core/tokenizer/tokenizer.ts';

const repo = new URL('../../../', import.meta.url).pathname;

/** Sentences of the demo files, and each one with every word masked in turn (what the masker encodes). */
function detoxTexts(): string[] {
  const sentences = [
    ...readFileSync(join(repo, 'resources/demo/detox-examples.txt'), 'utf8').split('\n'),
    ...readFileSync(join(repo, 'resources/demo/prompts.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { prompt?: string; text?: string }).prompt ?? ''),
  ].filter(Boolean);
  return sentences.flatMap((sentence) => {
    const words = segmentWords(sentence);
    return [
      sentence,
      ...words.flatMap((word, index) => (isPunctuationOnly(word.text) ? [] : [maskWords(sentence, words, [index])])),
    ];
  });
}

async function expectSameTokenization(ours: Tokenizer, reference: ByteLevelBpeTokenizer, texts: string[]) {
  for (const addSpecialTokens of [true, false]) {
    const encoded = await ours.encodeBatch(texts, { addSpecialTokens });
    const mismatches = texts.filter(
      (text, index) => JSON.stringify(encoded[index]) !== JSON.stringify(reference.encode(text, { addSpecialTokens })),
    );
    expect(mismatches.slice(0, 5).map((text) => JSON.stringify(text))).toEqual([]);
    for (const skipSpecialTokens of [false, true]) {
      const decoded = await ours.decodeBatch(encoded, { skipSpecialTokens });
      const differing = encoded.filter((ids, index) => decoded[index] !== reference.decode(ids, { skipSpecialTokens }));
      expect(differing.slice(0, 5)).toEqual([]);
    }
    const spelled = encoded.filter((ids) => JSON.stringify(ours.tokens(ids)) !== JSON.stringify(reference.tokens(ids)));
    expect(spelled.slice(0, 5)).toEqual([]);
  }
}

describe('GPT-2 through Hugging Face tokenizers', () => {
  const reference = referenceByteLevelTokenizer(gpt2Vocab(), gpt2MergesText(), 'gpt2');
  const texts = [...hardStrings(['<|endoftext|>'], 400), ...detoxTexts()];

  it(`matches the hand-written BPE on ${texts.length} strings (vocab.json + merges.txt)`, async () => {
    await expectSameTokenization(loadTokenizer(writeGpt2VocabMergesFolder(), 'gpt2').tokenizer, reference, texts);
  });

  it('matches the hand-written BPE from tokenizer.json', async () => {
    await expectSameTokenization(loadTokenizer(writeGpt2TokenizerJsonFolder(), 'gpt2').tokenizer, reference, texts);
  });
});

describe('BART through Hugging Face tokenizers', () => {
  const specials = ['<s>', '</s>', '<pad>', '<unk>', '<mask>'];
  const texts = [...hardStrings(specials, 300), ...detoxTexts()];
  const folders = {
    'the tiny test model (vocab.json + merges.txt)': join(repo, 'test/fixtures/bart-tiny'),
    'the demo model (tokenizer.json)': join(repo, 'resources/demo/bart-base'),
  };

  it.each(Object.entries(folders))(
    'matches the hand-written BPE with <s> … </s> and <mask> for %s',
    async (_, folder) => {
      const vocab = JSON.parse(readFileSync(join(folder, 'vocab.json'), 'utf8')) as Record<string, number>;
      const reference = referenceByteLevelTokenizer(vocab, readFileSync(join(folder, 'merges.txt'), 'utf8'), 'bart');
      const ours = loadTokenizer(folder, 'bart').tokenizer;
      expect(ours.specialIds).toEqual(reference.spec.specialIds);
      expect(ours.vocabSize).toBe(reference.vocabSize);
      await expectSameTokenization(ours, reference, texts);
    },
  );
});
