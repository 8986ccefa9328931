// Loads a model folder's tokenizer through Hugging Face's `tokenizers`: `tokenizer.json` (any model the library
// reads: byte-level BPE, SentencePiece-style BPE with byte fallback, WordPiece, Unigram), or `vocab.json` +
// `merges.txt` or a BERT `vocab.txt` converted to one in memory; special tokens from `tokenizer_config.json` /
// `special_tokens_map.json`.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { raise } from '../../shared/index.ts';
import { parseTokenizerJson, wrapTokenizer, type LibraryTokenizer } from './hf-tokenizer.ts';
import type { Tokenizer } from './tokenizer.ts';
import {
  applyTokenizerConfig,
  asTokenizerJson,
  specialIdsOf,
  summarizeTokenizerJson,
  tokenIdIn,
  parseVocabTxt,
  vocabMergesToTokenizerJson,
  vocabTxtToTokenizerJson,
  type TokenizerConfig,
  type TokenizerJson,
} from './tokenizer-json.ts';

export type TokenizerFormat = 'tokenizer.json' | 'vocab.json+merges.txt' | 'vocab.txt';

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  format: TokenizerFormat;
  files: string[];
  /** sha256 of the vocabulary, merges and added tokens: equal for equal tokenizers in either file format. */
  sha256: string;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return raise(
      'MODEL_NOT_FOUND',
      `${path} cannot be read (${(error as Error).message}).`,
      'Restore the tokenizer files from the original model folder.',
    );
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return raise(
      'MODEL_NOT_FOUND',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'Restore the tokenizer files from the original model folder.',
    );
  }
}

function readJsonObject(path: string): Record<string, unknown> {
  const value = parseJson(readText(path), path);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    raise(
      'MODEL_NOT_FOUND',
      `${path} is not a JSON object.`,
      'Restore the tokenizer files from the original model folder.',
    );
  return value as Record<string, unknown>;
}

/** special_tokens_map.json, then tokenizer_config.json over it (as transformers reads them). */
function readTokenizerConfig(folder: string): TokenizerConfig {
  const configPath = join(folder, 'tokenizer_config.json');
  const mapPath = join(folder, 'special_tokens_map.json');
  return {
    ...(existsSync(mapPath) ? readJsonObject(mapPath) : {}),
    ...(existsSync(configPath) ? readJsonObject(configPath) : {}),
  };
}

/** merges.txt's merges, "left right" as tokenizer.json spells them (the library reads that form fastest). */
function readMerges(path: string): string[] {
  return readText(path)
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'));
}

/**
 * The library reads the JSON first (it checks every part of it), then ToxScope's summary of the contents. `text` is
 * the file's own text when transformers would change nothing in it. `contents` is what the content hash covers.
 */
function build(
  json: TokenizerJson,
  text: string | null,
  contents: TokenizerJson,
  config: TokenizerConfig,
  path: string,
): { tokenizer: Tokenizer; sha256: string } {
  let library: LibraryTokenizer;
  try {
    library = parseTokenizerJson(text ?? JSON.stringify(json));
  } catch (error) {
    return raise(
      'MODEL_NOT_FOUND',
      `${path} could not be loaded by Hugging Face tokenizers: ${(error as Error).message}`,
      'Restore the tokenizer files from the original model folder, or re-save them with a recent transformers.',
    );
  }
  const { vocabSize, sha256 } = summarizeTokenizerJson(contents);
  const specialIds = specialIdsOf((token) => tokenIdIn(json, token), config);
  return { tokenizer: wrapTokenizer(library, vocabSize, specialIds), sha256 };
}

/** The files a folder's tokenizer can come from, read or not. */
const tokenizerFileNames = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
];

/**
 * The last few tokenizers loaded, by folder, model type and the files' sizes and times: a compare of a base folder
 * and its `dpo.pt` (or the same folder twice) reads and parses the tokenizer files once, not per model.
 */
const recentTokenizers = new Map<string, LoadedTokenizer>();

/** `modelType` is config.json's model_type (decides BART's <s> … </s> template for vocab+merges folders). */
export function loadTokenizer(folder: string, modelType: string): LoadedTokenizer {
  const key = JSON.stringify([
    folder,
    modelType,
    tokenizerFileNames.map((name) => {
      const stat = statSync(join(folder, name), { throwIfNoEntry: false });
      return stat ? [stat.size, stat.mtimeMs] : null;
    }),
  ]);
  const cached = recentTokenizers.get(key);
  if (cached) return cached;
  const loaded = readTokenizer(folder, modelType);
  recentTokenizers.set(key, loaded);
  if (recentTokenizers.size > 4) recentTokenizers.delete(recentTokenizers.keys().next().value!);
  return loaded;
}

function readTokenizer(folder: string, modelType: string): LoadedTokenizer {
  const config = readTokenizerConfig(folder);
  const tokenizerJsonPath = join(folder, 'tokenizer.json');
  if (existsSync(tokenizerJsonPath)) {
    const text = readText(tokenizerJsonPath);
    const json = asTokenizerJson(parseJson(text, tokenizerJsonPath), tokenizerJsonPath);
    const configured = applyTokenizerConfig(json, config, tokenizerJsonPath);
    return {
      ...build(configured, configured === json ? text : null, json, config, tokenizerJsonPath),
      format: 'tokenizer.json',
      files: [tokenizerJsonPath],
    };
  }
  const vocabPath = join(folder, 'vocab.json');
  const mergesPath = join(folder, 'merges.txt');
  if (existsSync(vocabPath) && existsSync(mergesPath)) {
    // Ids that are not integers fail in the library, which names the entry.
    const vocab = readJsonObject(vocabPath) as Record<string, number>;
    const json = vocabMergesToTokenizerJson(vocab, readMerges(mergesPath), config, modelType);
    return {
      ...build(json, null, json, config, vocabPath),
      format: 'vocab.json+merges.txt',
      files: [vocabPath, mergesPath],
    };
  }
  const vocabTxtPath = join(folder, 'vocab.txt');
  if (existsSync(vocabTxtPath)) {
    const json = vocabTxtToTokenizerJson(parseVocabTxt(readText(vocabTxtPath)), config, vocabTxtPath);
    return { ...build(json, null, json, config, vocabTxtPath), format: 'vocab.txt', files: [vocabTxtPath] };
  }
  return noTokenizer(folder);
}

function noTokenizer(folder: string): never {
  return raise(
    'MODEL_NOT_FOUND',
    `${folder} has no tokenizer: no tokenizer.json, vocab.json + merges.txt or vocab.txt (BERT).`,
    'Copy the tokenizer files of the base model into the folder (for GPT-2: vocab.json and merges.txt from gpt2 or gpt2-medium).',
  );
}

/** Refuses a folder without the files a tokenizer is read from, before any is read (loadAnyModel reads them later). */
export function assertTokenizerFiles(folder: string): void {
  const has = (name: string) => existsSync(join(folder, name));
  if (!has('tokenizer.json') && !(has('vocab.json') && has('merges.txt')) && !has('vocab.txt')) noTokenizer(folder);
}
