// Hard strings for tokenizer tests: hand-picked cases (unicode, emoji, CJK, combining marks, whitespace runs, digits,
// contractions, very long words, special-token strings inside text) plus seeded random mixes of the same pieces.

const handPicked = [
  '',
  ' ',
  '  ',
  '\n',
  '\t',
  'Hello world',
  ' Hello  world   ',
  'Hello',
  ' Hello',
  'hello HELLO HeLLo',
  "I'm sure you'll see they've gone, it's 'quoted' and he'd",
  "DON'T SHOUT, I'M HERE",
  "it's IT'S It'S",
  'naïve café résumé Ünïcödé',
  'e\u0301 vs é, A\u030a vs Å, n\u0303 vs ñ', // decomposed vs composed (NFC matters)
  'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo',
  '北京欢迎你 日本語のテキスト 한국어 텍스트',
  '東京是日本的首都，北京是中国的首都。',
  'emoji 😀👍🏽👨‍👩‍👧‍👦 🇺🇸 done',
  '😀😀😀😀😀😀',
  '1234567890 3.14159 1,000,000 ٣٤٥ ½ ²³ Ⅻ',
  '2024 12345 999 1000 00007',
  'tabs\tand\nnewlines\r\n\n\nand   runs of    spaces',
  '   leading and trailing   \n',
  '\n\n\n\n',
  '\t\t  \t',
  'line one\nline two\r\nline three\rline four',
  'Supercalifragilisticexpialidocious'.repeat(8),
  'a'.repeat(300),
  'ab'.repeat(150) + ' ' + 'xyz'.repeat(60),
  'https://example.com/path?q=a&b=c#frag @handle #hashtag',
  'a\u00a0b\u2003c\u200bd\u2028e', // no-break, em space, zero-width space, line separator
  '<html><body class="x">&amp;</body></html>',
  'f(x) = x^2 + 2x + 1; // comment',
  'def tokenize(text):\n    return [w for w in text.split()]\n',
  '!!!???...,,,;;;:::',
  'Ǆǅǆ ΣΑΣ ßẞ İı ﬁ ﬀ',
  'Straße ÜBERMÄSSIG Ωmega',
  '\u0000\u0001\u001f control \u007f',
  '\ufeffbyte order mark',
  '▁ looks like a SentencePiece space',
  'Ġ looks like a byte-level space',
  '##not a continuation',
  '[CLS] [SEP] [MASK] [PAD] [UNK]',
  '<s> </s> <unk> <pad> <mask> <bos> <eos>',
  '<|endoftext|> <|begin_of_text|> <|end_of_text|> <|eot_id|> <|im_start|> <|im_end|>',
  'a<s>b</s>c',
  'x <mask> y<mask>z <mask>',
  '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
  '[INST] Tell me a joke [/INST]',
  '<start_of_turn>user\nhi<end_of_turn>',
  '<s',
  's>',
  '<<s>>',
];

/** The pieces random strings are made of: every character class the pre-tokenizers and normalizers care about. */
const alphabet = [
  "'s",
  "'t",
  "'re",
  "'LL",
  ' ',
  '  ',
  '\n',
  '\r\n',
  '\t',
  'a',
  'Z',
  'é',
  'e\u0301',
  'ß',
  'İ',
  '中',
  '日本',
  '한',
  '😀',
  '👍🏽',
  '\u200d',
  '7',
  '42',
  '2024',
  '٣',
  '½',
  '.',
  ',',
  '!',
  '-',
  "'",
  '"',
  '…',
  'word',
  ' Word',
  '  x',
  'the',
  ' the',
  'Hello',
  'ing',
  '##',
  '▁',
  '\u00a0',
];

/** Seeded generator of strings mixing `alphabet` and the given special-token strings. */
function generatedStrings(count: number, specials: readonly string[], seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = [...alphabet, ...specials];
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(next() * 24);
    return Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  });
}

/** Hand-picked cases and `count` seeded mixes that include `specials` (a tokenizer's own special tokens). */
export function hardStrings(specials: readonly string[] = [], count = 300, seed = 12345): string[] {
  return [...handPicked, ...generatedStrings(count, specials, seed)];
}
