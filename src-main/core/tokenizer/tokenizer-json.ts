// The tokenizer.json format (Hugging Face `tokenizers`, serialization 1.0) as ToxScope reads and writes it: a
// vocab.json + merges.txt folder converted as transformers' GPT2Converter / RobertaConverter do, a BERT vocab.txt as
// its BertConverter does, the settings that
// transformers takes from tokenizer_config.json over tokenizer.json (Llama's and Gemma's add_bos_token /
// add_eos_token, BERT's do_lower_case), special-token roles, the vocabulary size and a content hash.

import { createHash } from 'node:crypto';
import { raise } from '../../shared/index.ts';
import type { SpecialTokenIds } from './tokenizer.ts';

/** An entry of tokenizer.json's added_tokens. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** The parts of a tokenizer.json that ToxScope reads; everything else passes through to the library untouched. */
export interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  normalizer?: Record<string, unknown> | null;
  pre_tokenizer?: Record<string, unknown> | null;
  post_processor?: Record<string, unknown> | null;
  decoder?: Record<string, unknown> | null;
  model: {
    type?: string;
    /** BPE, WordPiece, WordLevel: token → id. Unigram: [piece, score] by id. */
    vocab: Record<string, number> | [string, number][];
    /** BPE only: "left right" (before tokenizers 0.20) or [left, right]. */
    merges?: (string | [string, string])[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** tokenizer_config.json over special_tokens_map.json, as transformers merges them. */
export type TokenizerConfig = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks the parts of a parsed tokenizer.json that ToxScope reads itself. */
export function asTokenizerJson(value: unknown, path: string): TokenizerJson {
  const model = isObject(value) ? value.model : undefined;
  const vocab = isObject(model) ? model.vocab : undefined;
  const added = isObject(value) ? (value.added_tokens ?? []) : undefined;
  const addedValid =
    Array.isArray(added) &&
    added.every((token) => isObject(token) && typeof token.id === 'number' && typeof token.content === 'string');
  if (!isObject(vocab) && !Array.isArray(vocab)) {
    raise(
      'MODEL_NOT_FOUND',
      `${path} has no model vocabulary (model.vocab), so it is not a Hugging Face tokenizer.json.`,
      'Restore tokenizer.json from the original model folder.',
    );
  }
  if (!addedValid) {
    raise(
      'MODEL_NOT_FOUND',
      `${path} has an added_tokens list whose entries lack an id or content.`,
      'Restore tokenizer.json from the original model folder.',
    );
  }
  return value as TokenizerJson;
}

/** The id of a token as an added token or a vocabulary entry (added tokens first, as the library looks it up). */
export function tokenIdIn(json: TokenizerJson, token: string): number | undefined {
  const added = json.added_tokens?.find((candidate) => candidate.content === token);
  if (added) return added.id;
  const { vocab } = json.model;
  if (Array.isArray(vocab)) {
    const index = vocab.findIndex(([piece]) => piece === token);
    return index < 0 ? undefined : index;
  }
  return Object.hasOwn(vocab, token) ? vocab[token] : undefined;
}

/**
 * Token → id entries in id order (ties in file order) without sorting 50k entries: a table by id when the ids are
 * dense, as in every real vocabulary. for…in, because Object.entries is several times slower on such an object.
 */
function entriesById(vocab: Record<string, number>): [string, number][] {
  let count = 0;
  let max = -1;
  for (const token in vocab) {
    count++;
    max = Math.max(max, vocab[token]!);
  }
  if (max > 4 * count + 1024) return Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  const byId: string[][] = [];
  for (const token in vocab) (byId[vocab[token]!] ??= []).push(token);
  const entries: [string, number][] = [];
  for (let id = 0; id <= max; id++) for (const token of byId[id] ?? []) entries.push([token, id]);
  return entries;
}

/**
 * What ToxScope records about a tokenizer's contents: the largest id + 1 over the vocabulary and the added tokens, and
 * the sha256 of the vocabulary (id, token; a Unigram piece's score too), the merges and the added tokens, equal for
 * equal tokenizers whichever file layout they came in (vocab.json + merges.txt or tokenizer.json).
 */
export function summarizeTokenizerJson(json: TokenizerJson): { vocabSize: number; sha256: string } {
  const lines: string[] = [];
  const { vocab } = json.model;
  let max: number;
  if (Array.isArray(vocab)) {
    vocab.forEach(([piece, score], id) => lines.push(`${id}\t${piece}\t${score}\n`));
    max = vocab.length - 1;
  } else {
    const entries = entriesById(vocab);
    for (const [token, id] of entries) lines.push(`${id}\t${token}\n`);
    max = entries.at(-1)?.[1] ?? -1;
  }
  for (const merge of json.model.merges ?? [])
    lines.push(Array.isArray(merge) ? `${merge[0]} ${merge[1]}\n` : `${merge}\n`);
  for (const added of [...(json.added_tokens ?? [])].sort((a, b) => a.id - b.id)) {
    lines.push(`+${added.id}\t${added.content}\n`);
    if (added.id > max) max = added.id;
  }
  return { vocabSize: max + 1, sha256: createHash('sha256').update(lines.join('')).digest('hex') };
}

/** The usual spellings of each role, tried in order when the config does not name the token. */
const conventionalNames: Record<keyof SpecialTokenIds, string[]> = {
  bos: ['<s>', '<|endoftext|>', '<|begin_of_text|>', '<bos>'],
  eos: ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>'],
  pad: ['<pad>', '[PAD]'],
  unk: ['<unk>', '<|endoftext|>', '[UNK]'],
  mask: ['<mask>', '[MASK]'],
};

/** A token named in a config: a string, or an AddedToken object `{ content }`; null when named as null. */
function namedToken(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return null;
}

type SpecialTokens = Record<keyof SpecialTokenIds, { token: string; id: number } | null>;

/**
 * Each role's token: the config's `<role>_token` when it has the key (null stays null: Qwen2 has no BOS), else the
 * first conventional spelling the tokenizer has.
 */
function specialTokensOf(lookup: (token: string) => number | undefined, config: TokenizerConfig): SpecialTokens {
  const tokens = {} as SpecialTokens;
  for (const role of Object.keys(conventionalNames) as (keyof SpecialTokenIds)[]) {
    const key = `${role}_token`;
    const candidates = Object.hasOwn(config, key) ? [namedToken(config[key])] : conventionalNames[role];
    tokens[role] = null;
    for (const token of candidates) {
      const id = token === null ? undefined : lookup(token);
      if (token !== null && id !== undefined) {
        tokens[role] = { token, id };
        break;
      }
    }
  }
  return tokens;
}

export function specialIdsOf(lookup: (token: string) => number | undefined, config: TokenizerConfig): SpecialTokenIds {
  const tokens = specialTokensOf(lookup, config);
  return {
    bos: tokens.bos?.id ?? null,
    eos: tokens.eos?.id ?? null,
    pad: tokens.pad?.id ?? null,
    unk: tokens.unk?.id ?? null,
    mask: tokens.mask?.id ?? null,
  };
}

type TemplatePiece =
  { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };

/** A TemplateProcessing post-processor in tokenizer.json's own form: [bos] $A [eos], and [bos] $B [eos] for pairs. */
function templateProcessing(bos: [string, number] | null, eos: [string, number] | null): Record<string, unknown> {
  const sequence = (id: 'A' | 'B', typeId: number): TemplatePiece[] => [
    ...(bos ? [{ SpecialToken: { id: bos[0], type_id: typeId } }] : []),
    { Sequence: { id, type_id: typeId } },
    ...(eos ? [{ SpecialToken: { id: eos[0], type_id: typeId } }] : []),
  ];
  const specialTokens: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  for (const [token, id] of [bos, eos].filter((entry) => entry !== null))
    specialTokens[token] = { id: token, ids: [id], tokens: [token] };
  return {
    type: 'TemplateProcessing',
    single: sequence('A', 0),
    pair: [...sequence('A', 0), ...sequence('B', 1)],
    special_tokens: specialTokens,
  };
}

/** Tokenizer classes whose transformers fast tokenizer rebuilds the post-processor from add_bos/eos_token. */
const bosEosTemplateClasses: Record<string, { bos: string; eos: string }> = {
  LlamaTokenizer: { bos: '<s>', eos: '</s>' },
  LlamaTokenizerFast: { bos: '<s>', eos: '</s>' },
  CodeLlamaTokenizer: { bos: '<s>', eos: '</s>' },
  CodeLlamaTokenizerFast: { bos: '<s>', eos: '</s>' },
  GemmaTokenizer: { bos: '<bos>', eos: '<eos>' },
  GemmaTokenizerFast: { bos: '<bos>', eos: '<eos>' },
};

/**
 * Tokenizer classes whose fast tokenizer resets the BertNormalizer from do_lower_case and friends; '' (no
 * tokenizer_class, as bert-base-uncased ships) lets AutoTokenizer pick by model type, BertTokenizerFast for BERT.
 */
const bertClasses = new Set([
  '',
  'BertTokenizer',
  'BertTokenizerFast',
  'DistilBertTokenizer',
  'DistilBertTokenizerFast',
]);

/**
 * What transformers' fast tokenizer classes change in tokenizer.json at load, from tokenizer_config.json:
 * - LlamaTokenizerFast / GemmaTokenizerFast (Llama-2, Mistral, Gemma; Llama-3 is PreTrainedTokenizerFast and keeps
 *   its file's post-processor) replace the post-processor by `[bos] $A [eos]` from add_bos_token (default true) and
 *   add_eos_token (default false), see their update_post_processor();
 * - BertTokenizerFast resets the BertNormalizer's lowercase / strip_accents / handle_chinese_chars from
 *   do_lower_case (default true), strip_accents (default null) and tokenize_chinese_chars (default true).
 * Returns a copy with those changes, or the same object when none applies.
 */
export function applyTokenizerConfig(json: TokenizerJson, config: TokenizerConfig, path: string): TokenizerJson {
  const tokenizerClass = typeof config.tokenizer_class === 'string' ? config.tokenizer_class : '';
  let result = json;
  const defaults = bosEosTemplateClasses[tokenizerClass];
  if (defaults) {
    const role = (name: 'bos' | 'eos', add: boolean): [string, number] | null => {
      if (!add) return null;
      const key = `${name}_token`;
      const token = Object.hasOwn(config, key) ? namedToken(config[key]) : defaults[name];
      const id = token === null ? undefined : tokenIdIn(json, token);
      if (token === null || id === undefined)
        raise(
          'MODEL_NOT_FOUND',
          `${path}: tokenizer_config.json sets add_${name}_token but the ${name} token ${JSON.stringify(token)} is not in the vocabulary.`,
          `Set ${key} in tokenizer_config.json to a token of tokenizer.json, or add_${name}_token to false.`,
        );
      return [token, id];
    };
    const bos = role('bos', config.add_bos_token !== false && config.add_bos_token !== null);
    const eos = role('eos', config.add_eos_token === true);
    result = { ...result, post_processor: templateProcessing(bos, eos) };
  }
  const normalizer = result.normalizer;
  if (bertClasses.has(tokenizerClass) && normalizer?.type === 'BertNormalizer')
    result = { ...result, normalizer: { ...normalizer, ...bertNormalizerSettings(config) } };
  return result;
}

/** BertTokenizer(Fast)'s normalizer settings from do_lower_case (default true), strip_accents, tokenize_chinese_chars. */
function bertNormalizerSettings(config: TokenizerConfig): Record<string, unknown> {
  return {
    lowercase: typeof config.do_lower_case === 'boolean' ? config.do_lower_case : true,
    strip_accents: typeof config.strip_accents === 'boolean' ? config.strip_accents : null,
    handle_chinese_chars: typeof config.tokenize_chinese_chars === 'boolean' ? config.tokenize_chinese_chars : true,
  };
}

/**
 * The entries of a BERT vocab.txt as BertTokenizer's load_vocab reads them: one token per line, the line's number its
 * id, only the line break removed (a token repeated later takes the later id, as a Python dict does).
 */
export function parseVocabTxt(text: string): Record<string, number> {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const vocab: Record<string, number> = {};
  lines.forEach((token, id) => (vocab[token] = id));
  return vocab;
}

/**
 * tokenizer.json for a vocab.txt folder (BERT WordPiece), as transformers' BertConverter converts BertTokenizer:
 * BertNormalizer from tokenizer_config.json (see bertNormalizerSettings), BertPreTokenizer, WordPiece with "##" and
 * 100 characters per word, `[CLS] $A [SEP]` (pairs: `… $B:1 [SEP]:1`), and the named special tokens as added tokens.
 */
export function vocabTxtToTokenizerJson(
  vocab: Record<string, number>,
  config: TokenizerConfig,
  path: string,
): TokenizerJson {
  const lookup = (token: string) => (Object.hasOwn(vocab, token) ? vocab[token] : undefined);
  const named = (key: string, fallback: string): [string, number] => {
    const token = Object.hasOwn(config, key) ? namedToken(config[key]) : fallback;
    const id = token === null ? undefined : lookup(token);
    if (token === null || id === undefined)
      return raise(
        'MODEL_NOT_FOUND',
        `${path} has no ${JSON.stringify(token ?? fallback)} token (the ${key}), so it cannot be a BERT vocabulary.`,
        `Use the vocab.txt of the model's base checkpoint, or set ${key} in tokenizer_config.json to a token of it.`,
      );
    return [token, id];
  };
  const unk = named('unk_token', '[UNK]');
  const cls = named('cls_token', '[CLS]');
  const sep = named('sep_token', '[SEP]');
  const addedTokens: AddedTokenJson[] = [];
  for (const [key, fallback] of [
    ['unk_token', '[UNK]'],
    ['sep_token', '[SEP]'],
    ['pad_token', '[PAD]'],
    ['cls_token', '[CLS]'],
    ['mask_token', '[MASK]'],
  ] as const) {
    const token = Object.hasOwn(config, key) ? namedToken(config[key]) : fallback;
    const id = token === null ? undefined : lookup(token);
    if (token === null || id === undefined || addedTokens.some((added) => added.id === id)) continue;
    addedTokens.push({
      id,
      content: token,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
  }
  const special = ([token]: [string, number], typeId: number): TemplatePiece => ({
    SpecialToken: { id: token, type_id: typeId },
  });
  const sequence = (id: 'A' | 'B', typeId: number): TemplatePiece => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.sort((a, b) => a.id - b.id),
    normalizer: { type: 'BertNormalizer', clean_text: true, ...bertNormalizerSettings(config) },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), sequence('A', 0), special(sep, 0)],
      pair: [special(cls, 0), sequence('A', 0), special(sep, 0), sequence('B', 1), special(sep, 1)],
      special_tokens: Object.fromEntries(
        [cls, sep].map(([token, id]) => [token, { id: token, ids: [id], tokens: [token] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: unk[0],
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** Model types whose vocab.json + merges.txt convert with RobertaConverter (<s> … </s>, <mask> absorbing a space). */
const robertaStyleModelTypes = new Set(['bart', 'roberta', 'mbart']);

/**
 * tokenizer.json for a vocab.json + merges.txt folder, as transformers converts the slow tokenizer: byte-level BPE
 * (no unk token), ByteLevel pre-tokenizer and decoder, the named special tokens as added tokens, and the
 * post-processor of GPT2Converter (nothing, or BOS with add_bos_token) or RobertaConverter (<s> $A </s>).
 */
export function vocabMergesToTokenizerJson(
  vocab: Record<string, number>,
  merges: string[],
  config: TokenizerConfig,
  modelType: string,
): TokenizerJson {
  const lookup = (token: string) => (Object.hasOwn(vocab, token) ? vocab[token] : undefined);
  const special = specialTokensOf(lookup, config);
  const addedTokens: AddedTokenJson[] = [];
  // The slow tokenizers register their named special tokens as added tokens; RoBERTa's and BART's <mask> absorbs
  // the space on its left.
  for (const [role, named] of Object.entries(special) as [keyof SpecialTokenIds, SpecialTokens['bos']][]) {
    if (named === null || addedTokens.some((added) => added.id === named.id)) continue;
    addedTokens.push({
      id: named.id,
      content: named.token,
      single_word: false,
      lstrip: role === 'mask',
      rstrip: false,
      normalized: role !== 'mask',
      special: true,
    });
  }
  const addPrefixSpace = config.add_prefix_space === true;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true };
  let postProcessor: Record<string, unknown> = {
    type: 'ByteLevel',
    add_prefix_space: true,
    trim_offsets: false,
    use_regex: true,
  };
  if (robertaStyleModelTypes.has(modelType)) {
    const cls = namedToken(config.cls_token) ?? '<s>';
    const sep = namedToken(config.sep_token) ?? '</s>';
    const [clsId, sepId] = [lookup(cls), lookup(sep)];
    if (clsId !== undefined && sepId !== undefined) {
      postProcessor = {
        type: 'RobertaProcessing',
        sep: [sep, sepId],
        cls: [cls, clsId],
        trim_offsets: true,
        add_prefix_space: addPrefixSpace,
      };
    }
  } else if (config.add_bos_token === true && special.bos !== null) {
    postProcessor = templateProcessing([special.bos.token, special.bos.id], null);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
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
      merges,
    },
  };
}
