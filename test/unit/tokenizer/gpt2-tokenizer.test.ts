// GPT-2 tokenization against an independent implementation (js-tiktoken's r50k_base, GPT-2's encoding) on hundreds
// of hard strings, through both Hugging Face file layouts.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src-main/core/tokenizer/load-tokenizer.ts';
import { writeGpt2TokenizerJsonFolder, writeGpt2VocabMergesFolder } from '../../support/gpt2-tokenizer-files.ts';

const reference = getEncoding('r50k_base');
const fromVocabMerges = loadTokenizer(writeGpt2VocabMergesFolder(), 'gpt2').tokenizer;
const fromTokenizerJson = loadTokenizer(writeGpt2TokenizerJsonFolder(), 'gpt2').tokenizer;

const handPicked = [
  '',
  ' ',
  'Hello world',
  ' Hello  world   ',
  "I'm sure you'll see they've gone, it's 'quoted' and he'd",
  "DON'T SHOUT, I'M HERE",
  'naïve café résumé Ünïcödé',
  '北京欢迎你 日本語のテキスト 한국어 텍스트',
  'emoji 😀👍🏽👨‍👩‍👧‍👦 🇺🇸 done',
  '1234567890 3.14159 1,000,000 ٣٤٥ ½',
  'tabs\tand\nnewlines\r\n\n\nand   runs of    spaces',
  '   leading and trailing   \n',
  'Supercalifragilisticexpialidocious'.repeat(8),
  'https://example.com/path?q=a&b=c#frag @handle #hashtag',
  'a\u00a0b\u2003c\u200bd', // no-break, em space, zero-width space
  '<html><body class="x">&amp;</body></html>',
  'f(x) = x^2 + 2x + 1; // comment',
  '!!!???...,,,;;;:::',
  'Ǆǅǆ ΣΑΣ ßẞ İı',
  '\u0000\u0001\u001f control',
];

/** Seeded generator of strings mixing every character class the pre-tokeniser cares about. */
function generatedStrings(count: number): string[] {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = [
    "'s",
    "'t",
    "'re",
    ' ',
    '  ',
    '\n',
    '\t',
    'a',
    'Z',
    'é',
    'ß',
    '中',
    '😀',
    '7',
    '٣',
    '.',
    ',',
    '!',
    '-',
    "'",
    'word',
    ' Word',
    '  x',
    '12',
    '…',
    '\u200d',
    '🏽',
  ];
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(next() * 24);
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  });
}

const cases = [...handPicked, ...generatedStrings(400)];

describe('GPT-2 tokenizer', () => {
  it(`matches r50k_base on ${cases.length} hard strings (vocab.json + merges.txt)`, async () => {
    const encoded = await fromVocabMerges.encodeBatch(cases);
    const mismatches = cases.filter(
      (text, index) => JSON.stringify(encoded[index]) !== JSON.stringify(reference.encode(text)),
    );
    expect(mismatches.slice(0, 5).map((text) => JSON.stringify(text))).toEqual([]);
  });

  it('gives the same ids from tokenizer.json', async () => {
    for (const text of cases) expect(await fromTokenizerJson.encode(text)).toEqual(await fromVocabMerges.encode(text));
  });

  it('decodes every encoding back to its text', async () => {
    for (const text of cases) expect(await fromVocabMerges.decode(await fromVocabMerges.encode(text))).toBe(text);
  });

  it('adds no special tokens for GPT-2 and knows its vocabulary size', async () => {
    expect(await fromVocabMerges.encode('Hello')).toEqual([15496]);
    expect(fromVocabMerges.vocabSize).toBe(50257);
  });

  it('splits out <|endoftext|> as one special token', async () => {
    expect(await fromTokenizerJson.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
    expect(await fromVocabMerges.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
    expect(await fromTokenizerJson.decode([64, 50256, 65], { skipSpecialTokens: true })).toBe('ab');
  });

  it('spells tokens as the vocabulary does', async () => {
    expect(fromVocabMerges.tokens(await fromVocabMerges.encode(' Hello world'))).toEqual(['ĠHello', 'Ġworld']);
  });

  it('reads a folder once while its files stay the same, and again when one changes', () => {
    const folder = writeGpt2VocabMergesFolder();
    const first = loadTokenizer(folder, 'gpt2');
    expect(loadTokenizer(folder, 'gpt2')).toBe(first);
    writeFileSync(join(folder, 'special_tokens_map.json'), JSON.stringify({ bos_token: '<|endoftext|>' }));
    expect(loadTokenizer(folder, 'gpt2')).not.toBe(first);
  });
});
