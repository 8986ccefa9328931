// Loads a byte-level BPE tokenizer from a Hugging Face folder: `tokenizer.json`, or `vocab.json` + `merges.txt`
// with special tokens from `tokenizer_config.json` / `special_tokens_map.json`. Bad or missing files get messages.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { raise } from '../../shared/index.ts';
import { ByteLevelBpeTokenizer, type AddedToken, type SpecialTokenIds, type TokenizerSpec } from './byte-level-bpe.ts';

export type TokenizerFormat = 'tokenizer.json' | 'vocab.json+merges.txt';

export interface LoadedTokenizer {
  tokenizer: ByteLevelBpeTokenizer;
  format: TokenizerFormat;
  files: string[];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return raise(
      'MODEL_NOT_FOUND',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'Restore the tokenizer files from the original model folder.',
    );
  }
}

/** Models whose tokenizers wrap every encoding in <s> … </s>. */
const bosEosModelTypes = new Set(['bart', 'roberta', 'mbart']);

/** The common special-token names of GPT-2 and BART tokenizers, by role. */
const specialRoles: Record<keyof SpecialTokenIds, string[]> = {
  bos: ['<s>', '<|endoftext|>'],
  eos: ['</s>', '<|endoftext|>'],
  pad: ['<pad>'],
  unk: ['<unk>', '<|endoftext|>'],
  mask: ['<mask>'],
};

function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** Special ids from tokenizer_config.json's named tokens when present, else the conventional names. */
function specialIds(lookup: (token: string) => number | undefined, config: Record<string, unknown>): SpecialTokenIds {
  const ids = {} as SpecialTokenIds;
  for (const role of Object.keys(specialRoles) as (keyof SpecialTokenIds)[]) {
    const configured = tokenContent(config[`${role}_token`]);
    const candidates = configured ? [configured] : specialRoles[role];
    ids[role] = candidates.map(lookup).find((id) => id !== undefined) ?? null;
  }
  return ids;
}

function fromTokenizerJson(path: string, config: Record<string, unknown>): TokenizerSpec {
  const json = readJson(path) as {
    model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
    added_tokens?: { id: number; content: string; special?: boolean; lstrip?: boolean; rstrip?: boolean }[];
    pre_tokenizer?: { type?: string; add_prefix_space?: boolean } | null;
    post_processor?: { type?: string } | null;
  };
  const model = json.model;
  if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
    raise(
      'MODEL_NOT_FOUND',
      `${path} is not a byte-level BPE tokenizer (model type ${JSON.stringify(model?.type)}).`,
      'ToxScope supports GPT-2 and BART tokenizers (byte-level BPE).',
    );
  }
  if (json.pre_tokenizer?.type !== 'ByteLevel') {
    raise(
      'MODEL_NOT_FOUND',
      `${path} uses the ${JSON.stringify(json.pre_tokenizer?.type)} pre-tokenizer, not ByteLevel.`,
      'ToxScope supports GPT-2 and BART tokenizers (byte-level BPE).',
    );
  }
  if (json.pre_tokenizer.add_prefix_space) {
    raise(
      'MODEL_NOT_FOUND',
      `${path} sets add_prefix_space, which ToxScope does not implement.`,
      'Use the tokenizer files shipped with GPT-2 or BART.',
    );
  }
  const vocab = new Map(Object.entries(model.vocab));
  const merges = model.merges.map((merge): [string, string] => {
    if (Array.isArray(merge)) return merge;
    const space = merge.indexOf(' ');
    return [merge.slice(0, space), merge.slice(space + 1)];
  });
  const addedTokens: AddedToken[] = (json.added_tokens ?? []).map((token) => ({
    id: token.id,
    content: token.content,
    special: token.special ?? false,
    lstrip: token.lstrip ?? false,
    rstrip: token.rstrip ?? false,
  }));
  const lookup = (token: string) => addedTokens.find((added) => added.content === token)?.id ?? vocab.get(token);
  const postProcessor = json.post_processor?.type;
  const template =
    postProcessor === 'RobertaProcessing' ||
    postProcessor === 'BertProcessing' ||
    postProcessor === 'TemplateProcessing'
      ? 'bos-eos'
      : 'none';
  return { vocab, merges, addedTokens, specialIds: specialIds(lookup, config), template };
}

function fromVocabAndMerges(folder: string, config: Record<string, unknown>, modelType: string): TokenizerSpec {
  const vocabJson = readJson(join(folder, 'vocab.json'));
  if (typeof vocabJson !== 'object' || vocabJson === null)
    raise('MODEL_NOT_FOUND', `${join(folder, 'vocab.json')} is not a JSON object.`, 'Restore the tokenizer files.');
  const vocab = new Map(Object.entries(vocabJson as Record<string, number>));
  const merges = readFileSync(join(folder, 'merges.txt'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'))
    .map((line): [string, string] => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)];
    });
  const lookup = (token: string) => vocab.get(token);
  const ids = specialIds(lookup, config);
  // The slow tokenizers treat their named special tokens as added tokens; BART's <mask> absorbs a space on its left.
  const addedTokens: AddedToken[] = [];
  for (const [role, id] of Object.entries(ids) as [keyof SpecialTokenIds, number | null][]) {
    if (id === null || addedTokens.some((added) => added.id === id)) continue;
    const content = [...vocab].find(([, vocabId]) => vocabId === id)![0];
    addedTokens.push({ id, content, special: true, lstrip: role === 'mask', rstrip: false });
  }
  return {
    vocab,
    merges,
    addedTokens,
    specialIds: ids,
    template: bosEosModelTypes.has(modelType) ? 'bos-eos' : 'none',
  };
}

/** `modelType` is config.json's model_type (decides BART's <s> … </s> template for vocab+merges folders). */
/** The files a folder's tokenizer can come from, read or not. */
const tokenizerFileNames = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
];

/**
 * The last few tokenizers loaded, by folder, model type and the files' sizes and times: a compare of a base folder
 * and its `dpo.pt` (or the same folder twice) reads and parses the 1.5 MB of GPT-2 files once, not per model.
 */
const recentTokenizers = new Map<string, LoadedTokenizer>();

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
  const configPath = join(folder, 'tokenizer_config.json');
  const mapPath = join(folder, 'special_tokens_map.json');
  const config = {
    ...(existsSync(mapPath) ? (readJson(mapPath) as Record<string, unknown>) : {}),
    ...(existsSync(configPath) ? (readJson(configPath) as Record<string, unknown>) : {}),
  };
  const tokenizerJson = join(folder, 'tokenizer.json');
  if (existsSync(tokenizerJson)) {
    return {
      tokenizer: new ByteLevelBpeTokenizer(fromTokenizerJson(tokenizerJson, config)),
      format: 'tokenizer.json',
      files: [tokenizerJson],
    };
  }
  if (existsSync(join(folder, 'vocab.json')) && existsSync(join(folder, 'merges.txt'))) {
    return {
      tokenizer: new ByteLevelBpeTokenizer(fromVocabAndMerges(folder, config, modelType)),
      format: 'vocab.json+merges.txt',
      files: [join(folder, 'vocab.json'), join(folder, 'merges.txt')],
    };
  }
  return raise(
    'MODEL_NOT_FOUND',
    `${folder} has no tokenizer: neither tokenizer.json nor vocab.json + merges.txt.`,
    'Copy the tokenizer files of the base model into the folder (for GPT-2: vocab.json and merges.txt from gpt2 or gpt2-medium).',
  );
}
