// Word segmentation equivalent to NLTK's casual_tokenize (TweetTokenizer: preserve_case, phone numbers on), the
// segmenter MaRCo masks by (spec marco.md §3.2): contractions and hyphenated words stay whole, punctuation splits
// off, URLs, @handles, #hashtags, emails, emoticons and "..." stay whole. Unlike NLTK it also returns each word's
// UTF-16 offsets in the original text (HTML entities and shortened character runs are mapped back).

export interface Word {
  text: string;
  /** [start, end) in the original string, UTF-16 code units. */
  start: number;
  end: number;
}

const emoticons = String.raw`(?:[<>]?[:;=8][\-o*']?[)\](\[dDpP/:}{@|\\]|[)\](\[dDpP/:}{@|\\][\-o*']?[:;=8][<>]?|<\/?3)`;

// John Gruber's URL pattern as NLTK uses it (case-insensitive).
const urls =
  String.raw`(?:https?:(?:\/{1,3}|[a-z0-9%])|[a-z0-9.\-]+[.](?:[a-z]{2,13})\/)` +
  String.raw`(?:[^\s()<>{}\[\]]+|\([^\s()]*?\([^\s()]+\)[^\s()]*?\)|\([^\s]+?\))+` +
  String.raw`(?:\([^\s()]*?\([^\s()]+\)[^\s()]*?\)|\([^\s]+?\)|[^\s\x60!()\[\]{};:'".,<>?«»“”‘’])` +
  String.raw`|(?:(?<!@)[a-z0-9]+(?:[.\-][a-z0-9]+)*[.](?:[a-z]{2,13})\b\/?(?!@))`;

const phone = String.raw`(?:(?:\+?[01][ *\-.\)]*)?(?:[\(]?\d{3}[ *\-.\)]*)?\d{3}[ *\-.\)]*\d{4})`;

/** Python's \w in Unicode mode, as the `regex` module defines it. */
const word = String.raw`[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d]`;
const letter = String.raw`[\p{Alphabetic}\p{M}]`;

const parts = [
  urls,
  phone,
  emoticons,
  String.raw`<[^>\s]+>`, // HTML tags
  String.raw`[\-]+>|<[\-]+`, // ASCII arrows
  String.raw`(?:@[${word.slice(1, -1)}]+)`, // @handles
  String.raw`(?:#+${word}+[${word.slice(1, -1)}'\-]*${word}+)`, // #hashtags
  String.raw`[${word.slice(1, -1)}.+-]+@[${word.slice(1, -1)}-]+\.(?:[${word.slice(1, -1)}-]\.?)+[${word.slice(1, -1)}-]`, // emails
  String.raw`.(?:[\u{1F3FB}-\u{1F3FF}]?(?:\u200d.[\u{1F3FB}-\u{1F3FF}]?)+|[\u{1F3FB}-\u{1F3FF}])`, // ZWJ and skin-tone emoji
  String.raw`(?:${letter}(?:${letter}|['\-_])+${letter})`, // words with apostrophes or dashes
  String.raw`(?:[+\-]?\d+[,/.:-]\d+[+\-]?)`, // numbers, fractions, decimals
  String.raw`(?:${word}+)`, // words without apostrophes or dashes
  String.raw`(?:\.(?:\s*\.){1,})`, // ellipsis dots
  String.raw`(?:\S)`, // everything else that is not whitespace
];

// The classes hold U+200C/U+200D on purpose: they are part of Python's Unicode \w (Join_Control).
// eslint-disable-next-line no-misleading-character-class
const wordPattern = new RegExp(parts.join('|'), 'giu');

/** The HTML entities people actually type; NLTK knows all of HTML 4 (others are left as written here). */
const namedEntities: Record<string, number> = {
  amp: 38,
  lt: 60,
  gt: 62,
  quot: 34,
  apos: 39,
  nbsp: 160,
  copy: 169,
  reg: 174,
  trade: 8482,
  hellip: 8230,
  mdash: 8212,
  ndash: 8211,
  lsquo: 8216,
  rsquo: 8217,
  ldquo: 8220,
  rdquo: 8221,
  laquo: 171,
  raquo: 187,
  euro: 8364,
  pound: 163,
  yen: 165,
  cent: 162,
  sect: 167,
  deg: 176,
  plusmn: 177,
  times: 215,
  divide: 247,
  middot: 183,
  bull: 8226,
  eacute: 233,
  egrave: 232,
  agrave: 224,
  aacute: 225,
  ouml: 246,
  uuml: 252,
  auml: 228,
  szlig: 223,
  ntilde: 241,
  ccedil: 231,
  hearts: 9829,
  larr: 8592,
  rarr: 8594,
  uarr: 8593,
  darr: 8595,
  frac12: 189,
  frac14: 188,
  frac34: 190,
  iexcl: 161,
  iquest: 191,
  shy: 173,
  macr: 175,
  acute: 180,
  micro: 181,
  para: 182,
  cedil: 184,
  ordf: 170,
  ordm: 186,
  sup1: 185,
  sup2: 178,
  sup3: 179,
  not: 172,
  curren: 164,
  brvbar: 166,
  uml: 168,
};

/**
 * Text transformed as NLTK does before matching (HTML entities decoded, runs of 4+ identical non-alphanumeric
 * characters shortened to 3), with the span [originStart[i], originEnd[i]) of the original behind each UTF-16 unit.
 */
function normalise(text: string): { text: string; originStart: number[]; originEnd: number[] } {
  let out = '';
  const originStart: number[] = [];
  const originEnd: number[] = [];
  const entity = /&(#?)(x?)([^&;\s]+);/y;
  // Numeric references 0x80–0x9F mean Windows-1252 characters, as browsers (and NLTK) read them.
  const cp1252 = [
    8364, 129, 8218, 402, 8222, 8230, 8224, 8225, 710, 8240, 352, 8249, 338, 141, 381, 143, 144, 8216, 8217, 8220, 8221,
    8226, 8211, 8212, 732, 8482, 353, 8250, 339, 157, 382, 376,
  ];
  let index = 0;
  while (index < text.length) {
    if (text[index] === '&') {
      entity.lastIndex = index;
      const match = entity.exec(text);
      const code = match
        ? match[1]
          ? Number.parseInt(match[3]!, match[2] ? 16 : 10)
          : namedEntities[match[3]!]
        : undefined;
      if (match && code !== undefined && Number.isFinite(code) && code <= 0x10ffff) {
        const character = String.fromCodePoint(match[1] && code >= 0x80 && code <= 0x9f ? cp1252[code - 0x80]! : code);
        for (let unit = 0; unit < character.length; unit++) {
          originStart.push(index);
          originEnd.push(index + match[0].length);
        }
        out += character;
        index += match[0].length;
        continue;
      }
    }
    out += text[index];
    originStart.push(index);
    originEnd.push(index + 1);
    index++;
  }
  let shortened = '';
  const shortenedStart: number[] = [];
  const shortenedEnd: number[] = [];
  for (let k = 0; k < out.length; k++) {
    const character = out[k]!;
    if (
      !/[a-zA-Z0-9]/.test(character) &&
      k >= 3 &&
      out[k - 1] === character &&
      out[k - 2] === character &&
      out[k - 3] === character
    )
      continue;
    shortened += character;
    shortenedStart.push(originStart[k]!);
    shortenedEnd.push(originEnd[k]!);
  }
  return { text: shortened, originStart: shortenedStart, originEnd: shortenedEnd };
}

/** Splits text into words with offsets into the original string. */
export function segmentWords(text: string): Word[] {
  const { text: normalised, originStart, originEnd } = normalise(text);
  const words: Word[] = [];
  for (const match of normalised.matchAll(wordPattern)) {
    const last = match.index + match[0].length - 1;
    words.push({ text: match[0], start: originStart[match.index]!, end: originEnd[last]! });
  }
  return words;
}

/** string.punctuation: a word made only of these is never masked (Unicode punctuation can be). */
const asciiPunctuation = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

export function isPunctuationOnly(wordText: string): boolean {
  return [...wordText].every((character) => asciiPunctuation.has(character));
}
