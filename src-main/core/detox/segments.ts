// Splits a document into the sentences MaRCo rewrites, as offsets into the original text, so that everything
// between them (whitespace, line breaks, paragraph gaps, Markdown markers, code blocks) is kept byte for byte.

export interface Segment {
  /** [start, end) in the document, UTF-16 code units. */
  start: number;
  end: number;
  text: string;
}

/** Markdown line prefixes that are structure, not prose: headings, list items, quotes. */
const markdownMarker = /^[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d+[.)][ \t]+|>[ \t]?)+/;
/** A sentence ends after . ! ? … (and closing quotes or brackets) when whitespace or the line's end follows. */
const sentenceEnd = /[.!?…]+["'”’)\]]*(?=\s|$)/g;

function splitLine(line: string, offset: number, maxCharacters: number): Segment[] {
  const segments: Segment[] = [];
  let cursor = 0;
  const push = (end: number) => {
    const raw = line.slice(cursor, end);
    const leading = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text)
      segments.push(
        ...splitLong(
          { start: offset + cursor + leading, end: offset + cursor + leading + text.length, text },
          maxCharacters,
        ),
      );
    cursor = end;
  };
  for (const match of line.matchAll(sentenceEnd)) push(match.index + match[0].length);
  push(line.length);
  return segments;
}

/**
 * A sentence longer than the model can rewrite is split at its last comma, semicolon or colon before the limit,
 * else at the last space — never cut.
 */
function splitLong(segment: Segment, maxCharacters: number): Segment[] {
  if (segment.text.length <= maxCharacters) return [segment];
  const window = segment.text.slice(0, maxCharacters);
  let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': ')) + 1;
  if (cut <= 0) cut = window.lastIndexOf(' ');
  if (cut <= 0) cut = maxCharacters; // one enormous word: split it where it must be
  const head = segment.text.slice(0, cut).trimEnd();
  const tailStart = segment.text.length - segment.text.slice(cut).trimStart().length;
  return [
    { start: segment.start, end: segment.start + head.length, text: head },
    ...splitLong(
      { start: segment.start + tailStart, end: segment.end, text: segment.text.slice(tailStart) },
      maxCharacters,
    ),
  ];
}

/** Sentences of a document (plain text or Markdown); fenced code blocks and Markdown markers are left out. */
export function splitSegments(document: string, maxCharacters = 400): Segment[] {
  const segments: Segment[] = [];
  let inFence = false;
  let offset = 0;
  for (const line of document.split(/(?<=\n)/)) {
    const content = line.replace(/\r?\n$/, '');
    if (/^[ \t]*(```|~~~)/.test(content)) inFence = !inFence;
    else if (!inFence) {
      const marker = markdownMarker.exec(content)?.[0].length ?? 0;
      segments.push(...splitLine(content.slice(marker), offset + marker, maxCharacters));
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
