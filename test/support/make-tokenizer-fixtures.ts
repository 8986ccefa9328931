// Writes test/fixtures/tokenizers/*: tiny tokenizer.json files configured exactly as the real models' are (Llama-3,
// Llama-2, Mistral, Gemma, Qwen2, BERT uncased/cased, RoBERTa), with their tokenizer_config.json and
// special_tokens_map.json, trained here on a small built-in corpus. Run: npx tsx test/support/make-tokenizer-fixtures.ts
// The decoder-family tokenizers keep every id below 320, the vocab_size of the tiny decoder test models.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Hf from 'tokenizers';

const hf = createRequire(import.meta.url)('tokenizers') as typeof Hf;
const fixturesDir = new URL('../fixtures/tokenizers/', import.meta.url).pathname;

/** Training text: English prose with contractions, numbers, punctuation, code, accents, CJK and emoji. */
const corpus = `The quick brown fox jumps over the lazy dog. The dog didn't care; it was asleep.
I'm sure you'll see that they've gone, and we'd rather stay. It's the end of the story, isn't it?
She said: "Hello there, how are you today?" He answered, "I am fine, thank you!"
There are 12 apples, 345 pears and 6789 oranges in the 2024 report, about 3.14 per person.
In the morning the children walked to the school near the river, and in the evening they went home.
Hello world! Hello again, world. The world is large and the people in it are kind.
def tokenize(text):
    return [word for word in text.split() if word]
for i in range(10): print(i, i * i)
Visit https://example.com/index.html?query=test for more information about the tokenizer.
Café, naïve, résumé and façade are French words; Straße and Übermäßig are German ones.
The weather is nice, the sun is shining and the birds are singing in the trees.
We tested the model on the data and the results were better than the baseline, which was good news.
Tokenizers split text into tokens: words, subwords, characters or bytes, depending on the model.
Learning to read is one of the most important things that children do at school.
东京是日本的首都，北京是中国的首都。 日本語のテキストです。 한국어 텍스트입니다.
Emoji such as 😀, 👍 and 🎉 appear in messages, and so do hashtags like #tokenization.
The the the and and and of of of to to to in in in is is is that that that it it it.
Running, jumped, happily, unbelievable, tokenization, preprocessing, international.
`;

const specialDefaults = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
const added = (id: number, content: string, extra: Record<string, unknown> = {}) => ({
  id,
  content,
  ...specialDefaults,
  ...extra,
});
const addedTokenObject = (content: string) => ({
  content,
  lstrip: false,
  normalized: false,
  rstrip: false,
  single_word: false,
});
/** transformers writes this int literal for "no limit"; JSON.stringify would write 1e+30. */
const modelMaxLength = '__MODEL_MAX_LENGTH__';

function templateProcessing(bos: [string, number] | null, eos: [string, number] | null, pairBos = true) {
  const piece = (token: string, typeId: number) => ({ SpecialToken: { id: token, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const single = [...(bos ? [piece(bos[0], 0)] : []), sequence('A', 0), ...(eos ? [piece(eos[0], 0)] : [])];
  const pair = [
    ...single,
    ...(bos && pairBos ? [piece(bos[0], 1)] : []),
    sequence('B', 1),
    ...(eos ? [piece(eos[0], 1)] : []),
  ];
  const specialTokens: Record<string, unknown> = {};
  for (const [token, id] of [bos, eos].filter((entry) => entry !== null))
    specialTokens[token] = { id: token, ids: [id], tokens: [token] };
  return { type: 'TemplateProcessing', single, pair, special_tokens: specialTokens };
}

/** GPT-2's bytes_to_unicode, in its order (printable bytes first): the byte-level alphabet as vocabularies list it. */
function byteLevelAlphabet(): string[] {
  const printable: number[] = [];
  for (let code = 0x21; code <= 0x7e; code++) printable.push(code);
  for (let code = 0xa1; code <= 0xac; code++) printable.push(code);
  for (let code = 0xae; code <= 0xff; code++) printable.push(code);
  const table = new Map<number, string>();
  let extra = 0;
  for (let byte = 0; byte < 256; byte++)
    table.set(byte, String.fromCodePoint(printable.includes(byte) ? byte : 256 + extra++));
  return [...printable, ...[...table.keys()].filter((byte) => !printable.includes(byte))].map((byte) =>
    table.get(byte)!,
  );
}

const byteTokens = Array.from({ length: 256 }, (_, byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);

/**
 * Greedy BPE training: repeatedly merges the most frequent adjacent pair (ties: the smaller pair as a string) of
 * mergeable symbols until `budget` new tokens exist. Returns the merges in rank order and the new tokens.
 */
function learnMerges(
  words: string[],
  mergeable: (symbol: string) => boolean,
  budget: number,
): { merges: [string, string][]; tokens: string[] } {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  const entries = [...counts].map(([word, count]) => ({ symbols: Array.from(word), count }));
  const merges: [string, string][] = [];
  const tokens: string[] = [];
  const known = new Set<string>();
  while (tokens.length < budget) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of entries)
      for (let index = 0; index + 1 < symbols.length; index++) {
        const [left, right] = [symbols[index]!, symbols[index + 1]!];
        if (mergeable(left) && mergeable(right)) {
          const key = `${left}\u0000${right}`;
          pairs.set(key, (pairs.get(key) ?? 0) + count);
        }
      }
    const best = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best || best[1] < 2) break;
    const [left, right] = best[0].split('\u0000') as [string, string];
    merges.push([left, right]);
    if (!known.has(left + right)) {
      known.add(left + right);
      tokens.push(left + right);
    }
    for (const entry of entries) {
      const merged: string[] = [];
      for (let index = 0; index < entry.symbols.length; index++) {
        if (entry.symbols[index] === left && entry.symbols[index + 1] === right) {
          merged.push(left + right);
          index++;
        } else merged.push(entry.symbols[index]!);
      }
      entry.symbols = merged;
    }
  }
  return { merges, tokens };
}

/** A throwaway tokenizer with a pipeline's normalizer and pre-tokenizer, to cut the corpus as the model would. */
function pipelineWords(normalizer: unknown, preTokenizer: unknown, split: (piece: string) => string[]): string[] {
  const tokenizer = hf.Tokenizer.fromString(
    JSON.stringify({
      version: '1.0',
      added_tokens: [],
      normalizer,
      pre_tokenizer: preTokenizer,
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
    }),
  );
  const words: string[] = [];
  for (const line of corpus.split('\n').filter(Boolean)) {
    const normalized = tokenizer.getNormalizer()?.normalizeString(line) ?? line;
    const pieces = tokenizer
      .getPreTokenizer()
      ?.preTokenizeString(normalized)
      .map(([piece]) => piece) ?? [normalized];
    for (const piece of pieces) words.push(...split(piece));
  }
  return words;
}

/** SentencePiece pieces: a word is a run of ▁ and the characters up to the next ▁. */
const sentencePieceWords = (piece: string) => piece.match(/▁+[^▁]*|[^▁]+/g) ?? [];

function bpeModel(
  vocab: Record<string, number>,
  merges: [string, string][],
  options: Record<string, unknown>,
  mergesAs: 'strings' | 'pairs',
) {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    ...options,
    vocab,
    merges: mergesAs === 'strings' ? merges.map(([left, right]) => `${left} ${right}`) : merges,
  };
}

/** Byte-level BPE: the 256-symbol alphabet from `firstId`, then merges while ids stay below `limit`. */
function byteLevelVocab(words: string[], firstId: number, limit: number) {
  const alphabet = byteLevelAlphabet();
  const vocab: Record<string, number> = {};
  alphabet.forEach((symbol, index) => (vocab[symbol] = firstId + index));
  const { merges, tokens } = learnMerges(words, () => true, limit - firstId - alphabet.length);
  tokens.forEach((token, index) => (vocab[token] = firstId + alphabet.length + index));
  return { vocab, merges };
}

/**
 * SentencePiece-style BPE with byte fallback, laid out as Llama's and Gemma's: `specials`, the 256 byte tokens,
 * merged pieces by rank, then the single characters (the most frequent ones) up to `limit`.
 */
function sentencePieceVocab(words: string[], specials: string[], limit: number, characters: number) {
  const vocab: Record<string, number> = {};
  for (const token of [...specials, ...byteTokens]) vocab[token] = Object.keys(vocab).length;
  const frequency = new Map<string, number>();
  for (const word of words) for (const symbol of word) frequency.set(symbol, (frequency.get(symbol) ?? 0) + 1);
  const kept = new Set(
    [...frequency]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, characters)
      .map(([symbol]) => symbol),
  );
  const { merges, tokens } = learnMerges(
    words,
    (symbol) => symbol.length > 1 || kept.has(symbol),
    limit - Object.keys(vocab).length - kept.size,
  );
  for (const token of [...tokens, ...[...kept].sort()]) vocab[token] = Object.keys(vocab).length;
  return { vocab, merges };
}

const llama3Pattern =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const qwen2Pattern =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const split = (pattern: string) => ({
  type: 'Split',
  pattern: { Regex: pattern },
  behavior: 'Isolated',
  invert: false,
});
const sentencePieceDecoder = (strip: boolean) => ({
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
    ...(strip ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
  ],
});

interface Fixture {
  tokenizer: Record<string, unknown>;
  files: Record<string, unknown>;
}

/** Meta-Llama-3-8B: tiktoken-style byte-level BPE (ignore_merges), its split regex, <|begin_of_text|> by template. */
function llama3(): Fixture {
  const preTokenizer = {
    type: 'Sequence',
    pretokenizers: [
      split(llama3Pattern),
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  const specials = [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|reserved_special_token_0|>',
    '<|reserved_special_token_1|>',
    '<|reserved_special_token_2|>',
    '<|reserved_special_token_3|>',
    '<|start_header_id|>',
    '<|end_header_id|>',
    '<|reserved_special_token_4|>',
    '<|eot_id|>',
  ];
  const first = 320 - specials.length;
  const { vocab, merges } = byteLevelVocab(
    pipelineWords(null, preTokenizer, (piece) => [piece]),
    0,
    first,
  );
  const addedTokens = specials.map((token, index) => added(first + index, token));
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: null,
      pre_tokenizer: preTokenizer,
      post_processor: {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          templateProcessing(['<|begin_of_text|>', first], null),
        ],
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(vocab, merges, { ignore_merges: true }, 'strings'),
    },
    files: {
      'tokenizer_config.json': {
        added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
        bos_token: '<|begin_of_text|>',
        clean_up_tokenization_spaces: true,
        eos_token: '<|end_of_text|>',
        model_input_names: ['input_ids', 'attention_mask'],
        model_max_length: modelMaxLength,
        tokenizer_class: 'PreTrainedTokenizerFast',
      },
      'special_tokens_map.json': { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>' },
    },
  };
}

/** Llama-2-7b-hf: legacy SentencePiece BPE with byte fallback (Prepend ▁ + Replace normalizer), <s> by template. */
function llama2(): Fixture {
  const normalizer = {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    ],
  };
  const { vocab, merges } = sentencePieceVocab(
    pipelineWords(normalizer, null, sentencePieceWords),
    ['<unk>', '<s>', '</s>'],
    320,
    28,
  );
  const llamaToken = (content: string) => ({ __type: 'AddedToken', ...addedTokenObject(content) });
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
      normalizer,
      pre_tokenizer: null,
      post_processor: templateProcessing(['<s>', 1], null),
      decoder: sentencePieceDecoder(true),
      model: bpeModel(vocab, merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }, 'strings'),
    },
    files: {
      'tokenizer_config.json': {
        add_bos_token: true,
        add_eos_token: false,
        bos_token: llamaToken('<s>'),
        clean_up_tokenization_spaces: false,
        eos_token: llamaToken('</s>'),
        legacy: false,
        model_max_length: modelMaxLength,
        pad_token: null,
        padding_side: 'right',
        sp_model_kwargs: {},
        tokenizer_class: 'LlamaTokenizer',
        unk_token: llamaToken('<unk>'),
      },
      'special_tokens_map.json': {
        bos_token: addedTokenObject('<s>'),
        eos_token: addedTokenObject('</s>'),
        unk_token: addedTokenObject('<unk>'),
      },
    },
  };
}

/** Mistral-7B-v0.3: non-legacy SentencePiece BPE (Metaspace, prepend_scheme "first"), [INST] control tokens. */
function mistral(): Fixture {
  const preTokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
  const specials = ['<unk>', '<s>', '</s>', '[INST]', '[/INST]'];
  const { vocab, merges } = sentencePieceVocab(
    pipelineWords(null, preTokenizer, sentencePieceWords),
    specials,
    320,
    28,
  );
  const addedTokens = specials.map((token, id) => added(id, token));
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: null,
      pre_tokenizer: preTokenizer,
      post_processor: templateProcessing(['<s>', 1], null),
      decoder: sentencePieceDecoder(true),
      model: bpeModel(vocab, merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }, 'pairs'),
    },
    files: {
      'tokenizer_config.json': {
        add_bos_token: true,
        add_eos_token: false,
        added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
        additional_special_tokens: [],
        bos_token: '<s>',
        clean_up_tokenization_spaces: false,
        eos_token: '</s>',
        legacy: false,
        model_max_length: modelMaxLength,
        pad_token: null,
        sp_model_kwargs: {},
        spaces_between_special_tokens: false,
        tokenizer_class: 'LlamaTokenizer',
        unk_token: '<unk>',
        use_default_system_prompt: false,
      },
      'special_tokens_map.json': {
        bos_token: addedTokenObject('<s>'),
        eos_token: addedTokenObject('</s>'),
        unk_token: addedTokenObject('<unk>'),
      },
    },
  };
}

/** gemma-2b: SentencePiece BPE with byte fallback, spaces replaced by ▁ (no prefix), <bos> by template. */
function gemma(): Fixture {
  const normalizer = { type: 'Replace', pattern: { String: ' ' }, content: '▁' };
  const specials = ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>', '[multimodal]', '<start_of_turn>', '<end_of_turn>'];
  const { vocab, merges } = sentencePieceVocab(pipelineWords(normalizer, null, sentencePieceWords), specials, 320, 28);
  const addedTokens = specials.map((token, id) => added(id, token));
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer,
      pre_tokenizer: null,
      post_processor: templateProcessing(['<bos>', 2], null),
      decoder: sentencePieceDecoder(false),
      model: bpeModel(vocab, merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }, 'strings'),
    },
    files: {
      'tokenizer_config.json': {
        add_bos_token: true,
        add_eos_token: false,
        added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
        additional_special_tokens: ['<start_of_turn>', '<end_of_turn>'],
        bos_token: '<bos>',
        clean_up_tokenization_spaces: false,
        eos_token: '<eos>',
        legacy: null,
        model_max_length: modelMaxLength,
        pad_token: '<pad>',
        sp_model_kwargs: {},
        spaces_between_special_tokens: false,
        tokenizer_class: 'GemmaTokenizer',
        unk_token: '<unk>',
        use_default_system_prompt: false,
      },
      'special_tokens_map.json': {
        additional_special_tokens: ['<start_of_turn>', '<end_of_turn>'],
        bos_token: addedTokenObject('<bos>'),
        eos_token: addedTokenObject('<eos>'),
        pad_token: addedTokenObject('<pad>'),
        unk_token: addedTokenObject('<unk>'),
      },
    },
  };
}

/** Qwen2-0.5B: NFC, byte-level BPE with single-digit numbers, no BOS (the post-processor is ByteLevel). */
function qwen2(): Fixture {
  const normalizer = { type: 'NFC' };
  const preTokenizer = {
    type: 'Sequence',
    pretokenizers: [
      split(qwen2Pattern),
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const first = 320 - specials.length;
  const { vocab, merges } = byteLevelVocab(
    pipelineWords(normalizer, preTokenizer, (piece) => [piece]),
    0,
    first,
  );
  const addedTokens = specials.map((token, index) => added(first + index, token));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer,
      pre_tokenizer: preTokenizer,
      post_processor: byteLevel,
      decoder: byteLevel,
      model: bpeModel(vocab, merges, { continuing_subword_prefix: '', end_of_word_suffix: '' }, 'strings'),
    },
    files: {
      'tokenizer_config.json': {
        add_prefix_space: false,
        added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
        additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
        bos_token: null,
        chat_template:
          "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
        clean_up_tokenization_spaces: false,
        eos_token: '<|endoftext|>',
        errors: 'replace',
        model_max_length: 32768,
        pad_token: '<|endoftext|>',
        split_special_tokens: false,
        tokenizer_class: 'Qwen2Tokenizer',
        unk_token: null,
      },
      'special_tokens_map.json': {
        additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
        eos_token: addedTokenObject('<|endoftext|>'),
        pad_token: addedTokenObject('<|endoftext|>'),
      },
    },
  };
}

/** bert-base-uncased / bert-base-cased: BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP]. */
function bert(lowercase: boolean): Fixture {
  const normalizer = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase,
  };
  const words = pipelineWords(normalizer, { type: 'BertPreTokenizer' }, (piece) => [piece]);
  const vocab: Record<string, number> = {};
  const add = (token: string) => (vocab[token] ??= Object.keys(vocab).length);
  for (const token of ['[PAD]', '[unused0]', '[unused1]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[unused2]']) add(token);
  const characters = [...new Set(words.join(''))].sort();
  for (const character of characters) add(character);
  for (const character of characters) add(`##${character}`);
  const frequency = new Map<string, number>();
  for (const word of words) if (word.length > 1) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  for (const [word] of [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 120)) add(word);
  for (const piece of ['##s', '##ing', '##ed', '##er', '##ly', '##tion', '##ation', '##ize', '##able', '##ness'])
    add(piece);
  for (const stem of ['token', 'run', 'jump', 'happ', 'un', 'believ', 'pre', 'process', 'inter', 'nation']) add(stem);
  const special = (token: string) => added(vocab[token]!, token);
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
      normalizer,
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: templateProcessing(['[CLS]', vocab['[CLS]']!], ['[SEP]', vocab['[SEP]']!], false),
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab,
      },
    },
    files: { 'tokenizer_config.json': { do_lower_case: lowercase, model_max_length: 512 } },
  };
}

/** roberta-base: byte-level BPE in the 2020 file layout (untagged model), <s> $A </s>, <mask> absorbing a space. */
function roberta(): Fixture {
  const preTokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true };
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const { vocab: bytes, merges } = byteLevelVocab(
    pipelineWords(null, preTokenizer, (piece) => [piece]),
    specials.length,
    specials.length + 256 + 140,
  );
  const vocab: Record<string, number> = Object.fromEntries(specials.map((token, id) => [token, id]));
  Object.assign(vocab, bytes);
  const maskId = Object.keys(vocab).length;
  vocab['<mask>'] = maskId;
  const {
    type: _type,
    byte_fallback: _fallback,
    ignore_merges: _ignore,
    ...model
  } = bpeModel(vocab, merges, { continuing_subword_prefix: '', end_of_word_suffix: '' }, 'strings');
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        ...specials.map((token, id) => added(id, token, { normalized: true })),
        added(maskId, '<mask>', { lstrip: true }),
      ],
      normalizer: null,
      pre_tokenizer: preTokenizer,
      post_processor: {
        type: 'RobertaProcessing',
        sep: ['</s>', 2],
        cls: ['<s>', 0],
        trim_offsets: true,
        add_prefix_space: false,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
      model,
    },
    files: {
      'vocab.json': vocab,
      'merges.txt': `#version: 0.2\n${merges.map(([left, right]) => `${left} ${right}`).join('\n')}\n`,
    },
  };
}

const tokenizerFixtures = {
  llama3,
  llama2,
  mistral,
  gemma,
  qwen2,
  'bert-uncased': () => bert(true),
  'bert-cased': () => bert(false),
  roberta,
};

const json = (value: unknown) =>
  JSON.stringify(value, null, 2).replaceAll(`"${modelMaxLength}"`, '1000000000000000019884624838656') + '\n';

for (const [name, make] of Object.entries(tokenizerFixtures)) {
  const { tokenizer, files } = make();
  const folder = join(fixturesDir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'tokenizer.json'), json(tokenizer));
  for (const [file, content] of Object.entries(files))
    writeFileSync(join(folder, file), typeof content === 'string' ? content : json(content));
  // The library must read what was written, and a decoder-family vocabulary must fit the tiny models' 320 rows.
  const loaded = hf.Tokenizer.fromFile(join(folder, 'tokenizer.json'));
  const size = Math.max(...Object.values(loaded.getVocab(true))) + 1;
  process.stdout.write(`${name}: ${size} ids\n`);
  if (!name.startsWith('bert') && name !== 'roberta' && size > 320) throw new Error(`${name} has ${size} ids`);
}
