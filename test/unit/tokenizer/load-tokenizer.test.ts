// The tokenizer loader: the settings transformers takes from tokenizer_config.json over tokenizer.json (Llama's and
// Gemma's add_bos_token / add_eos_token, BERT's do_lower_case), a BERT vocab.txt converted as BertConverter does, and
// AppErrors that name the file for bad files.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppErrorException } from '../../../src-main/shared/index.ts';
import { loadTokenizer } from '../../../src-main/core/tokenizer/load-tokenizer.ts';
import { hardStrings } from '../../support/hard-strings.ts';

const temporary: string[] = [];
afterAll(() => temporary.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

/** A copy of a fixture folder with tokenizer_config.json (and tokenizer.json) edited. */
function editedFixture(
  name: string,
  config: (config: Record<string, unknown>) => Record<string, unknown>,
  tokenizer: (json: Record<string, unknown>) => unknown = (json) => json,
): string {
  const folder = mkdtempSync(join(os.tmpdir(), `toxscope-tok-${name}-`));
  temporary.push(folder);
  cpSync(new URL(`../../fixtures/tokenizers/${name}/`, import.meta.url).pathname, folder, { recursive: true });
  const edit = (file: string, change: (value: Record<string, unknown>) => unknown) => {
    const value = JSON.parse(readFileSync(join(folder, file), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder, file), JSON.stringify(change(value)));
  };
  edit('tokenizer_config.json', config);
  edit('tokenizer.json', tokenizer);
  return folder;
}

function thrown(action: () => unknown): AppErrorException {
  try {
    action();
  } catch (error) {
    if (error instanceof AppErrorException) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('tokenizer_config.json over tokenizer.json', () => {
  it('adds </s> when a Llama tokenizer_config sets add_eos_token, as LlamaTokenizerFast does', async () => {
    const { tokenizer } = loadTokenizer(
      editedFixture('llama2', (config) => ({ ...config, add_eos_token: true })),
      'llama',
    );
    const ids = await tokenizer.encode('the end');
    expect(ids[0]).toBe(1);
    expect(ids.at(-1)).toBe(2);
  });

  it('leaves out <bos> when a Gemma tokenizer_config sets add_bos_token to false', async () => {
    const { tokenizer } = loadTokenizer(
      editedFixture('gemma', (config) => ({ ...config, add_bos_token: false })),
      'gemma',
    );
    expect(await tokenizer.encode('the end')).toEqual(await tokenizer.encode('the end', { addSpecialTokens: false }));
  });

  it('lowercases with a BertNormalizer only as do_lower_case says, as BertTokenizerFast does', async () => {
    const cased = loadTokenizer(
      editedFixture('bert-uncased', (config) => ({ ...config, do_lower_case: false })),
      'bert',
    ).tokenizer;
    expect(await cased.encode('Hello')).not.toEqual(await cased.encode('hello'));
  });

  it('refuses add_bos_token when the BOS token is not in the vocabulary', () => {
    const folder = editedFixture('llama2', (config) => ({ ...config, bos_token: '<not-a-token>' }));
    const error = thrown(() => loadTokenizer(folder, 'llama'));
    expect(error.appError.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toMatch(/add_bos_token.*"<not-a-token>" is not in the vocabulary/);
  });
});

/**
 * A folder with only a vocab.txt (ids in line order) and the fixture's tokenizer_config.json, as bert-base-uncased and
 * unitary/toxic-bert ship without a tokenizer.json; `drop` leaves tokens out of the vocabulary.
 */
function vocabTxtFolder(name: string, drop: string[] = []): string {
  const fixture = new URL(`../../fixtures/tokenizers/${name}/`, import.meta.url).pathname;
  const json = JSON.parse(readFileSync(join(fixture, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  const folder = mkdtempSync(join(os.tmpdir(), `toxscope-tok-vocabtxt-${name}-`));
  temporary.push(folder);
  const tokens = Object.entries(json.model.vocab)
    .sort((a, b) => a[1] - b[1])
    .map(([token]) => (drop.includes(token) ? '[dropped]' : token));
  writeFileSync(join(folder, 'vocab.txt'), `${tokens.join('\n')}\n`);
  cpSync(join(fixture, 'tokenizer_config.json'), join(folder, 'tokenizer_config.json'));
  return folder;
}

describe('BERT vocab.txt folders', () => {
  for (const name of ['bert-uncased', 'bert-cased']) {
    it(`${name}: vocab.txt tokenizes as the tokenizer.json of the same vocabulary, on hundreds of hard strings`, async () => {
      const fromJson = loadTokenizer(new URL(`../../fixtures/tokenizers/${name}/`, import.meta.url).pathname, 'bert');
      const fromVocab = loadTokenizer(vocabTxtFolder(name), 'bert');
      expect(fromVocab.format).toBe('vocab.txt');
      expect(fromVocab.sha256).toBe(fromJson.sha256);
      expect(fromVocab.tokenizer.specialIds).toEqual(fromJson.tokenizer.specialIds);
      for (const text of hardStrings(['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]'])) {
        const ids = await fromVocab.tokenizer.encode(text);
        expect(ids, text).toEqual(await fromJson.tokenizer.encode(text));
        expect(await fromVocab.tokenizer.encode(text, { addSpecialTokens: false }), text).toEqual(
          await fromJson.tokenizer.encode(text, { addSpecialTokens: false }),
        );
        expect(await fromVocab.tokenizer.decode(ids), text).toBe(await fromJson.tokenizer.decode(ids));
      }
    });
  }

  it('refuses a vocab.txt without [CLS], naming the file', () => {
    const folder = vocabTxtFolder('bert-uncased', ['[CLS]']);
    const error = thrown(() => loadTokenizer(folder, 'bert'));
    expect(error.message).toContain(join(folder, 'vocab.txt'));
    expect(error.message).toMatch(/no "\[CLS\]" token/);
  });
});

describe('bad tokenizer files', () => {
  it('names a tokenizer.json that is not JSON', () => {
    const folder = editedFixture('qwen2', (config) => config);
    writeFileSync(join(folder, 'tokenizer.json'), '{"model": ');
    const error = thrown(() => loadTokenizer(folder, 'qwen2'));
    expect(error.appError.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(join(folder, 'tokenizer.json'));
    expect(error.message).toMatch(/not valid JSON/);
  });

  it('refuses a tokenizer.json without a model vocabulary', () => {
    const folder = editedFixture(
      'qwen2',
      (config) => config,
      (json) => ({ ...json, model: { type: 'BPE' } }),
    );
    expect(thrown(() => loadTokenizer(folder, 'qwen2')).message).toMatch(/has no model vocabulary/);
  });

  it("passes on the library's reason for a component it does not know", () => {
    const folder = editedFixture(
      'qwen2',
      (config) => config,
      (json) => ({ ...json, normalizer: { type: 'Bogus' } }),
    );
    const error = thrown(() => loadTokenizer(folder, 'qwen2'));
    expect(error.message).toMatch(/could not be loaded by Hugging Face tokenizers/);
    expect(error.appError.hint).toMatch(/Restore the tokenizer files/);
  });

  it('refuses a vocab.json whose values are not ids', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-tok-badvocab-'));
    temporary.push(folder);
    writeFileSync(join(folder, 'vocab.json'), JSON.stringify({ a: 0, b: 'one' }));
    writeFileSync(join(folder, 'merges.txt'), '#version: 0.2\n');
    const message = thrown(() => loadTokenizer(folder, 'gpt2')).message;
    expect(message).toContain(join(folder, 'vocab.json'));
    expect(message).toMatch(/could not be loaded by Hugging Face tokenizers/);
  });
});
