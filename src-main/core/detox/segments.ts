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
  const window = segment.text.slice(0, low);
  let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': ')) + 1;
  if (cut <= 0) cut = window.lastIndexOf(' ');
  if (cut <= 0) cut = low; // one enormous word: split it where it must be
  const head = segment.text.slice(0, cut).trimEnd();
  const tailStart = segment.text.length - segment.text.slice(cut).trimStart().length;
  const tail = { start: segment.start + tailStart, end: segment.end, text: segment.text.slice(tailStart) };
  return [{ start: segment.start, end: segment.start + head.length, text: head }, ...splitLong(tail, fits)];
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
