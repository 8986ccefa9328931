// Every tokenizer style ToxScope supports (test/fixtures/tokenizers, written by test/support/make-tokenizer-fixtures.ts)
// through ToxScope's Tokenizer against Hugging Face tokenizers' raw API on hundreds of hard strings: ids with and
// without special tokens, decoding, round trips, the BOS/EOS that transformers' tokenizer(text) adds, special ids.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import type * as Hf from 'tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src-main/core/tokenizer/load-tokenizer.ts';
import type { SpecialTokenIds, Tokenizer } from '../../../src-main/core/tokenizer/tokenizer.ts';
import { hardStrings } from '../../support/hard-strings.ts';

const hf = createRequire(import.meta.url)('tokenizers') as typeof Hf;
const fixtureDir = (name: string) => new URL(`../../fixtures/tokenizers/${name}/`, import.meta.url).pathname;

interface Style {
  name: string;
  /** config.json's model_type of such a model. */
  modelType: string;
  /** What transformers' tokenizer(text) puts around the text. */
  bos: string | null;
  eos: string | null;
  specialIds: SpecialTokenIds;
  /** The decoder families must fit the tiny decoder models (vocab_size 320). */
  maxVocab: number;
  /** decode(encode(text), skip special tokens) for a text without this tokenizer's special tokens; null: lossy. */
  roundTrip: ((text: string) => string) | null;
}

const same = (text: string) => text;
/** SentencePiece styles: a literal ▁ in the text comes back as a space. */
const spaced = (text: string) => text.replaceAll('▁', ' ');
const styles: Style[] = [
  {
    name: 'llama3',
    modelType: 'llama',
    bos: '<|begin_of_text|>',
    eos: null,
    specialIds: { bos: 310, eos: 311, pad: null, unk: null, mask: null },
    maxVocab: 320,
    roundTrip: same,
  },
  {
    name: 'llama2',
    modelType: 'llama',
    bos: '<s>',
    eos: null,
    specialIds: { bos: 1, eos: 2, pad: null, unk: 0, mask: null },
    maxVocab: 320,
    roundTrip: spaced, // the ▁ prepended to the text is stripped again by the decoder
  },
  {
    name: 'mistral',
    modelType: 'mistral',
    bos: '<s>',
    eos: null,
    specialIds: { bos: 1, eos: 2, pad: null, unk: 0, mask: null },
    maxVocab: 320,
    // Metaspace prepends ▁ only when the text does not start with a space; the decoder strips one leading space.
    roundTrip: (text) => (spaced(text).startsWith(' ') ? spaced(text).slice(1) : spaced(text)),
  },
  {
    name: 'gemma',
    modelType: 'gemma',
    bos: '<bos>',
    eos: null,
    specialIds: { bos: 2, eos: 1, pad: 0, unk: 3, mask: 4 },
    maxVocab: 320,
    roundTrip: spaced,
  },
  {
    name: 'qwen2',
    modelType: 'qwen2',
    bos: null,
    eos: null,
    specialIds: { bos: null, eos: 317, pad: 317, unk: null, mask: null },
    maxVocab: 320,
    roundTrip: (text) => text.normalize('NFC'),
  },
  {
    name: 'bert-uncased',
    modelType: 'bert',
    bos: '[CLS]',
    eos: '[SEP]',
    specialIds: { bos: null, eos: null, pad: 0, unk: 3, mask: 6 },
    maxVocab: Infinity,
    roundTrip: null,
  },
  {
    name: 'bert-cased',
    modelType: 'bert',
    bos: '[CLS]',
    eos: '[SEP]',
    specialIds: { bos: null, eos: null, pad: 0, unk: 3, mask: 6 },
    maxVocab: Infinity,
    roundTrip: null,
  },
  {
    name: 'roberta',
    modelType: 'roberta',
    bos: '<s>',
    eos: '</s>',
    specialIds: { bos: 0, eos: 2, pad: 1, unk: 3, mask: 400 },
    maxVocab: Infinity,
    roundTrip: same,
  },
];

/** The first few mismatches, printable, for a failure message. */
function firstMismatches<T>(texts: string[], ours: T[], theirs: T[]): string[] {
  return texts
    .map((text, index) => ({ text, ours: ours[index], theirs: theirs[index] }))
    .filter((row) => JSON.stringify(row.ours) !== JSON.stringify(row.theirs))
    .slice(0, 5)
    .map(
      (row) => `${JSON.stringify(row.text)}: ours ${JSON.stringify(row.ours)}, library ${JSON.stringify(row.theirs)}`,
    );
}

describe.each(styles)('$name tokenizer', (style) => {
  const folder = fixtureDir(style.name);
  const { tokenizer } = loadTokenizer(folder, style.modelType);
  const raw = hf.Tokenizer.fromFile(join(folder, 'tokenizer.json'));
  const ownSpecials = Object.keys(raw.getVocab(true)).filter((token) => /^[<[].+[>\]]$/.test(token));
  const texts = hardStrings(ownSpecials, 300, style.name.length * 7919);
  const rawIds = (addSpecialTokens: boolean) =>
    Promise.all(texts.map(async (text) => (await raw.encode(text, null, { addSpecialTokens })).getIds()));

  it(`gives the library's ids for ${texts.length} hard strings, with and without special tokens`, async () => {
    for (const addSpecialTokens of [true, false]) {
      const ours = await tokenizer.encodeBatch(texts, { addSpecialTokens });
      expect(firstMismatches(texts, ours, await rawIds(addSpecialTokens))).toEqual([]);
    }
  });

  it('gives the same ids one text at a time as in a batch', async () => {
    const sample = texts.slice(0, 60);
    const batch = await tokenizer.encodeBatch(sample);
    expect(firstMismatches(sample, await Promise.all(sample.map((text) => tokenizer.encode(text))), batch)).toEqual([]);
  });

  it('decodes as the library does, keeping or skipping special tokens', async () => {
    const ids = await rawIds(true);
    for (const skipSpecialTokens of [false, true]) {
      const ours = await tokenizer.decodeBatch(ids, { skipSpecialTokens });
      const theirs = await Promise.all(ids.map((row) => raw.decode(row, skipSpecialTokens)));
      expect(firstMismatches(texts, ours, theirs)).toEqual([]);
      expect(await tokenizer.decode(ids[5]!, { skipSpecialTokens })).toBe(theirs[5]);
    }
  });

  it('spells each token as the library does', async () => {
    const ids = await tokenizer.encodeBatch(texts);
    const ours = ids.map((row) => tokenizer.tokens(row));
    const theirs = ids.map((row) => row.map((id) => raw.idToToken(id)));
    expect(firstMismatches(texts, ours, theirs)).toEqual([]);
    expect(tokenizer.tokenText(tokenizer.vocabSize)).toBe('');
  });

  if (style.roundTrip) {
    const roundTrip = style.roundTrip;
    it('decodes every encoding back to its text', async () => {
      const plain = hardStrings([], 300, style.name.length).filter(
        (text) => !ownSpecials.some((token) => text.includes(token)),
      );
      expect(plain.length).toBeGreaterThan(300);
      const decoded = await tokenizer.decodeBatch(await tokenizer.encodeBatch(plain), { skipSpecialTokens: true });
      expect(firstMismatches(plain, decoded, plain.map(roundTrip))).toEqual([]);
    });
  }

  it(`wraps a text as transformers' tokenizer(text) does: ${style.bos ?? 'no BOS'} … ${style.eos ?? 'no EOS'}`, async () => {
    const plain = await tokenizer.encode('Hello world', { addSpecialTokens: false });
    const wrapped = await tokenizer.encode('Hello world');
    const bos = style.bos === null ? [] : [tokenizer.tokenToId(style.bos)!];
    const eos = style.eos === null ? [] : [tokenizer.tokenToId(style.eos)!];
    expect(plain.length).toBeGreaterThan(0);
    expect(wrapped).toEqual([...bos, ...plain, ...eos]);
    expect(await tokenizer.encode('', { addSpecialTokens: false })).toEqual([]);
    expect(await tokenizer.encode('')).toEqual([...bos, ...eos]);
  });

  it('names its special tokens as the config does', () => {
    expect(tokenizer.specialIds).toEqual(style.specialIds);
  });

  it(`keeps every id below its vocabulary size${style.maxVocab < Infinity ? ` (at most ${style.maxVocab})` : ''}`, async () => {
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(style.maxVocab);
    expect(tokenizer.vocabSize).toBe(raw.getVocabSize(true));
    const largest = Math.max(...(await tokenizer.encodeBatch(texts)).flat());
    expect(largest).toBeLessThan(tokenizer.vocabSize);
  });
});

describe('tokenizer styles', () => {
  const load = (name: string): Tokenizer => loadTokenizer(fixtureDir(name), name).tokenizer;
  const tokensOf = async (tokenizer: Tokenizer, text: string) =>
    tokenizer.tokens(await tokenizer.encode(text, { addSpecialTokens: false }));
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

  it('Llama-2 falls back to bytes for characters outside its vocabulary', async () => {
    expect(await tokensOf(load('llama2'), '😀')).toEqual(['▁', '<0xF0>', '<0x9F>', '<0x98>', '<0x80>']);
  });

  it('Llama-2 (legacy) prepends ▁ after a special token, Mistral (prepend_scheme first) does not', async () => {
    const afterSpecial = async (name: string) => {
      const tokens = await tokensOf(load(name), 'a<s>b');
      return tokens[tokens.indexOf('<s>') + 1];
    };
    expect(await afterSpecial('llama2')).toBe('▁');
    expect(await afterSpecial('mistral')).toBe('b');
  });

  it('Gemma puts no ▁ before the first word', async () => {
    const llama = await tokensOf(load('llama2'), 'the');
    const gemma = await tokensOf(load('gemma'), 'the');
    expect(llama[0]!.startsWith('▁')).toBe(true);
    expect(gemma[0]!.startsWith('▁')).toBe(false);
  });

  it('Qwen2 composes text with NFC and reads digits one at a time', async () => {
    const qwen = load('qwen2');
    expect(await qwen.encode('cafe\u0301')).toEqual(await qwen.encode('café'));
    expect(await tokensOf(qwen, '2024')).toEqual(['2', '0', '2', '4']);
  });

  it('Llama-3 reads digits in groups of at most three', async () => {
    const llama = load('llama3');
    const pieces = await llama.decodeBatch(
      (await llama.encode('1234567', { addSpecialTokens: false })).map((id) => [id]),
    );
    const ends = pieces.map((_, index) => pieces.slice(0, index + 1).join('').length);
    expect(ends).toContain(3);
    expect(ends).toContain(6);
  });

  it('uncased BERT lowercases and strips accents, cased BERT keeps both', async () => {
    const uncased = load('bert-uncased');
    const cased = load('bert-cased');
    expect(await uncased.encode('HELLO Café')).toEqual(await uncased.encode('hello cafe'));
    expect(await cased.encode('Hello')).not.toEqual(await cased.encode('hello'));
    expect(await uncased.decode(await uncased.encode('Hello World!'), { skipSpecialTokens: true })).toBe(
      'hello world!',
    );
  });

  it("RoBERTa's <mask> absorbs the space before it", async () => {
    const roberta = load('roberta');
    expect(roberta.tokens(await roberta.encode('a <mask>'))).toEqual(['<s>', 'a', '<mask>', '</s>']);
  });

  it('RoBERTa from vocab.json + merges.txt tokenizes and hashes as its tokenizer.json', async () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-roberta-vm-'));
    temporary.push(folder);
    for (const file of ['vocab.json', 'merges.txt']) cpSync(join(fixtureDir('roberta'), file), join(folder, file));
    const fromJson = loadTokenizer(fixtureDir('roberta'), 'roberta');
    const fromVocabMerges = loadTokenizer(folder, 'roberta');
    expect(fromVocabMerges.format).toBe('vocab.json+merges.txt');
    expect(fromVocabMerges.sha256).toBe(fromJson.sha256);
    const texts = hardStrings(['<s>', '</s>', '<mask>', '<pad>', '<unk>'], 200);
    expect(
      firstMismatches(
        texts,
        await fromVocabMerges.tokenizer.encodeBatch(texts),
        await fromJson.tokenizer.encodeBatch(texts),
      ),
    ).toEqual([]);
  });
});
