// Splits a document into the sentences MaRCo rewrites, as offsets into the original text, so that everything
// between them (whitespace, line breaks, paragraph gaps, Markdown markers, code blocks) is kept byte for byte.

export interface Segment {
  /** [start, end) in the document, UTF-16 code units. */
  start: number;
  end: number;
  text: string;
}

/** Whether a sentence is short enough for the model (e.g. its token count); longer ones are split. */
export type Fits = (text: string) => boolean;

export const fitsCharacters =
  (limit: number): Fits =>
  (text) =>
    text.length <= limit;

/** Markdown line prefixes that are structure, not prose: headings, list items, quotes. */
const markdownMarker = /^[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d+[.)][ \t]+|>[ \t]?)+/;
/** A sentence ends after . ! ? … (and closing quotes or brackets) when whitespace or the line's end follows. */
const sentenceEnd = /[.!?…]+["'”’)\]]*(?=\s|$)/g;

/**
 * A sentence that does not fit is split at the last comma, semicolon or colon of its longest fitting prefix,
 * else at that prefix's last space — never cut, never dropped.
 */
function splitLong(segment: Segment, fits: Fits): Segment[] {
  if (fits(segment.text)) return [segment];
  let low = 1;
  let high = segment.text.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(segment.text.slice(0, middle))) low = middle;
    else high = middle - 1;
  }
  const [head, tail] = cutSegment(segment, low);
  return [head, ...splitLong(tail, fits)];
}

/** splitLong with an async test (a tokenizer's token count). */
async function splitLongAsync(segment: Segment, fits: (text: string) => Promise<boolean>): Promise<Segment[]> {
  if (await fits(segment.text)) return [segment];
  let low = 1;
  let high = segment.text.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (await fits(segment.text.slice(0, middle))) low = middle;
    else high = middle - 1;
  }
  const [head, tail] = cutSegment(segment, low);
  return [head, ...(await splitLongAsync(tail, fits))];
}

/** Cuts a segment whose longest fitting prefix has `low` characters: head (trimmed) and the rest. */
function cutSegment(segment: Segment, low: number): [Segment, Segment] {
  const window = segment.text.slice(0, low);
  let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': ')) + 1;
  if (cut <= 0) cut = window.lastIndexOf(' ');
  if (cut <= 0) cut = low; // one enormous word: split it where it must be
  const head = segment.text.slice(0, cut).trimEnd();
  const tailStart = segment.text.length - segment.text.slice(cut).trimStart().length;
  const tail = { start: segment.start + tailStart, end: segment.end, text: segment.text.slice(tailStart) };
  return [{ start: segment.start, end: segment.start + head.length, text: head }, tail];
}

function splitLine(line: string, offset: number, fits: Fits): Segment[] {
  const segments: Segment[] = [];
  let cursor = 0;
  const push = (end: number) => {
    const raw = line.slice(cursor, end);
    const start = offset + cursor + (raw.length - raw.trimStart().length);
    const text = raw.trim();
    if (text) segments.push(...splitLong({ start, end: start + text.length, text }, fits));
    cursor = end;
  };
  for (const match of line.matchAll(sentenceEnd)) push(match.index + match[0].length);
  push(line.length);
  return segments;
}

/** Sentences of a document (plain text or Markdown); fenced code blocks and Markdown markers are left out. */
export function splitSegments(document: string, fits: Fits = fitsCharacters(400)): Segment[] {
  const segments: Segment[] = [];
  let inFence = false;
  let offset = 0;
  for (const line of document.split(/(?<=\n)/)) {
    const content = line.replace(/\r?\n$/, '');
    if (/^[ \t]*(```|~~~)/.test(content)) inFence = !inFence;
    else if (!inFence) {
      const marker = markdownMarker.exec(content)?.[0].length ?? 0;
      segments.push(...splitLine(content.slice(marker), offset + marker, fits));
    }
    offset += line.length;
  }
  return segments;
}

/** Whether each of several texts is short enough, in one call (one tokenizer batch for a whole document). */
export type FitsAll = (texts: string[]) => Promise<boolean[]>;

/**
 * splitSegments with an async test: the document's distinct sentences are measured a thousand per call, and only the
 * ones that do not fit are cut (each candidate cut measured on its own). Gives what splitSegments gives with the same
 * test; a 5 MB document of repeated sentences costs a few calls, not one per sentence nor one huge batch.
 */
export async function splitSegmentsToFit(document: string, fitsAll: FitsAll): Promise<Segment[]> {
  const sentences = splitSegments(document, () => true);
  const distinct = [...new Set(sentences.map((sentence) => sentence.text))];
  const fitting = new Map<string, boolean>();
  for (let start = 0; start < distinct.length; start += 1000) {
    const texts = distinct.slice(start, start + 1000);
    (await fitsAll(texts)).forEach((fits, index) => fitting.set(texts[index]!, fits));
  }
  const fits = async (text: string) => (await fitsAll([text]))[0]!;
  const segments: Segment[] = [];
  for (const sentence of sentences)
    segments.push(...(fitting.get(sentence.text) ? [sentence] : await splitLongAsync(sentence, fits)));
  return segments;
}

/** The document with some segments replaced; every other character is the original's. */
export function replaceSegments(document: string, replacements: { segment: Segment; text: string }[]): string {
  let out = '';
  let cursor = 0;
  for (const { segment, text } of [...replacements].sort((a, b) => a.segment.start - b.segment.start)) {
    out += document.slice(cursor, segment.start) + text;
    cursor = segment.end;
  }
  return out + document.slice(cursor);
}
