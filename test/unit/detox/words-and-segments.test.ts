// The word segmenter on hard cases (NLTK casual_tokenize's behaviour) with offsets, masked-string construction, the
// masker's decoder groups, and document segmentation that leaves every other byte alone.

import { describe, expect, it } from 'vitest';
import { decoderGroups, maskWords } from '../../../src-main/core/detox/masker.ts';
import {
  fitsCharacters,
  replaceSegments,
  splitSegments,
  splitSegmentsToFit,
} from '../../../src-main/core/detox/segments.ts';
import { isPunctuationOnly, segmentWords } from '../../../src-main/core/detox/words.ts';
import { seededRandom } from '../../support/random.ts';

const words = (text: string) => segmentWords(text).map((word) => word.text);

describe('word segmenter', () => {
  it.each([
    [
      "I'm surprised you got it done, seeing as you're all girls!",
      ["I'm", 'surprised', 'you', 'got', 'it', 'done', ',', 'seeing', 'as', "you're", 'all', 'girls', '!'],
    ],
    [
      'This is a cooool #dummysmiley: :-) :-P <3 and some arrows < > -> <--',
      [
        'This',
        'is',
        'a',
        'cooool',
        '#dummysmiley',
        ':',
        ':-)',
        ':-P',
        '<3',
        'and',
        'some',
        'arrows',
        '<',
        '>',
        '->',
        '<--',
      ],
    ],
    [
      'RT @facugambande: Ya por arrancar a grabar !!! #TirenTirenTiren vamoo !!',
      [
        'RT',
        '@facugambande',
        ':',
        'Ya',
        'por',
        'arrancar',
        'a',
        'grabar',
        '!',
        '!',
        '!',
        '#TirenTirenTiren',
        'vamoo',
        '!',
        '!',
      ],
    ],
    [
      'http://t.co/7r8d5bVKyA http://t.co/hZpwZe1uKt Ничто так не сближает',
      ['http://t.co/7r8d5bVKyA', 'http://t.co/hZpwZe1uKt', 'Ничто', 'так', 'не', 'сближает'],
    ],
    [
      'a well-known, self-made man... really?!',
      ['a', 'well-known', ',', 'self-made', 'man', '...', 'really', '?', '!'],
    ],
    ['call 555-123-4567 or mail a.b@ex.com', ['call', '555-123-4567', 'or', 'mail', 'a.b@ex.com']],
    ['3.14 and 1,000 and -2/3', ['3.14', 'and', '1,000', 'and', '-2/3']],
    ['Naps 😴😴 👨‍👩‍👧 👍🏽 done', ['Naps', '😴', '😴', '👨‍👩‍👧', '👍🏽', 'done']],
    ['“Curly” quotes — and …', ['“', 'Curly', '”', 'quotes', '—', 'and', '…']],
  ])('splits %j like casual_tokenize', (text, expected) => {
    expect(words(text)).toEqual(expected);
  });

  it('gives offsets into the original text, through HTML entities and shortened runs', () => {
    const text = 'Tom &amp; Jerry!!!!! ok';
    const segmented = segmentWords(text);
    expect(segmented.map((word) => word.text)).toEqual(['Tom', '&', 'Jerry', '!', '!', '!', 'ok']);
    expect(text.slice(segmented[1]!.start, segmented[1]!.end)).toBe('&amp;');
    expect(text.slice(segmented[6]!.start, segmented[6]!.end)).toBe('ok');
    for (const word of segmentWords("you're a well-known 😴 idiot"))
      expect("you're a well-known 😴 idiot".slice(word.start, word.end)).toBe(word.text);
  });

  it('treats ASCII punctuation as unmaskable and Unicode punctuation as words', () => {
    expect(isPunctuationOnly('!?')).toBe(true);
    expect(isPunctuationOnly('...')).toBe(true);
    expect(isPunctuationOnly('…')).toBe(false);
    expect(isPunctuationOnly('a')).toBe(false);
  });
});

describe('masked strings', () => {
  it('replaces each masked word by <mask>, which absorbs the whitespace before it (§3.5)', () => {
    const text = "I'm surprised you got it done, seeing as you're all girls!";
    const segmented = segmentWords(text);
    expect(maskWords(text, segmented, [11])).toBe("I'm surprised you got it done, seeing as you're all<mask>!");
    expect(maskWords(text, segmented, [10, 11])).toBe("I'm surprised you got it done, seeing as you're<mask><mask>!");
    expect(maskWords('You are a human', segmentWords('You are a human'), [3])).toBe('You are a<mask>');
  });
});

describe("the masker's decoder groups", () => {
  it('take every row once, in groups of at most 16 of ascending <mask> position (a small batch as it is)', () => {
    const random = seededRandom(3);
    const batch = Array.from({ length: 50 }, () => ({ position: Math.floor(random() * 30) }));
    const groups = decoderGroups(batch, 16);
    expect(groups.map((group) => group.length)).toEqual([16, 16, 16, 2]);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(batch.map((_, r) => r));
    const positions = groups.flat().map((r) => batch[r]!.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(decoderGroups([], 16)).toEqual([]);
    expect(decoderGroups([{ position: 5 }, { position: 1 }], 16)).toEqual([[0, 1]]); // one group keeps its order
  });
});

describe('document segments', () => {
  it('finds sentences, skips Markdown markers and code, and keeps offsets exact', () => {
    const document =
      '# Title here\n\nFirst sentence. Second one!\r\n- item one\n```\ncode. stays\n```\n> quoted line.\n';
    const segments = splitSegments(document);
    expect(segments.map((segment) => segment.text)).toEqual([
      'Title here',
      'First sentence.',
      'Second one!',
      'item one',
      'quoted line.',
    ]);
    for (const segment of segments) expect(document.slice(segment.start, segment.end)).toBe(segment.text);
  });

  it('splits a sentence longer than the limit at a comma or space, never cutting text', () => {
    const sentence = Array.from({ length: 60 }, (_, index) => `word${index}${index % 10 === 9 ? ',' : ''}`).join(' ');
    const segments = splitSegments(sentence, fitsCharacters(120));
    expect(segments.length).toBeGreaterThan(1);
    expect(segments.every((segment) => segment.text.length <= 120)).toBe(true);
    expect(segments.map((segment) => segment.text).join(' ')).toBe(sentence);
  });

  it('splits with an async, batched test exactly as with the same test run one text at a time', async () => {
    const long = Array.from({ length: 60 }, (_, index) => `word${index}${index % 10 === 9 ? ',' : ''}`).join(' ');
    const document = `# Title\n\n${long} Short one. ${long}!\n- item\n${long.slice(0, 200)}`;
    const fits = fitsCharacters(120);
    const calls: number[] = [];
    const fitsAll = async (texts: string[]) => {
      calls.push(texts.length);
      return texts.map(fits);
    };
    expect(await splitSegmentsToFit(document, fitsAll)).toEqual(splitSegments(document, fits));
    expect(calls[0]).toBe(5); // the distinct sentences, measured in one call
  });

  it('changes nothing outside the replaced segments, on random documents (property)', () => {
    const random = seededRandom(11);
    const pieces = [
      'Hello there.',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\n\n',
      '# ',
      '- ',
      'You idiot!',
      'Why?',
      '```\n',
      'x = 1.',
      '…',
      '😴',
      '\t',
      'ok',
    ];
    for (let round = 0; round < 200; round++) {
      const document = Array.from(
        { length: Math.floor(random() * 30) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      const segments = splitSegments(document);
      expect(
        replaceSegments(
          document,
          segments.map((segment) => ({ segment, text: segment.text })),
        ),
      ).toBe(document);
      const replaced = replaceSegments(
        document,
        segments.map((segment) => ({ segment, text: '' })),
      );
      let expected = '';
      let cursor = 0;
      for (const segment of segments) {
        expected += document.slice(cursor, segment.start);
        cursor = segment.end;
      }
      expect(replaced).toBe(expected + document.slice(cursor));
    }
  });
});
