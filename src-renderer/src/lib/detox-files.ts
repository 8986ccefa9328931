// Documents in and out of the detox editor: which files open (.txt, .md), decoding them so every byte comes back
// on save (UTF-8, a byte-order mark and CRLF kept), and the names of the saved document and change logs.

import { appError, fail, ok, type Result } from '../../../src-main/shared/index.ts';
import type { SourceKind } from './detox-review.ts';
import { download } from './download.ts';

/** The largest document the editor opens; bigger ones belong in a batch. */
export const maxDocumentBytes = 5 * 1024 * 1024;

export function documentKind(fileName: string): 'txt' | 'md' | null {
  const extension = /\.([^./\\]+)$/.exec(fileName)?.[1]?.toLowerCase();
  if (extension === 'txt' || extension === 'text') return 'txt';
  if (extension === 'md' || extension === 'markdown') return 'md';
  return null;
}

/** A file's text exactly as stored, or why it cannot be opened and what to do instead. */
export function decodeDocument(fileName: string, bytes: Uint8Array): Result<{ kind: 'txt' | 'md'; text: string }> {
  const kind = documentKind(fileName);
  if (!kind)
    return fail(
      appError(
        'INPUT_INVALID',
        `${fileName} is not a plain-text (.txt) or Markdown (.md) file.`,
        'Save it as plain text or Markdown first (e.g. "Save as… Plain text" in your editor), or paste its text.',
      ),
    );
  if (bytes.length > maxDocumentBytes)
    return fail(
      appError(
        'INPUT_INVALID',
        `${fileName} is ${(bytes.length / 2 ** 20).toFixed(1)} MB; the editor opens documents up to 5 MB.`,
        'Use Batch detox for large files: it writes the detoxed copy and its explanation without a review.',
      ),
    );
  try {
    // ignoreBOM keeps a byte-order mark as a character, so it is saved back unchanged.
    return ok({ kind, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) });
  } catch {
    return fail(
      appError(
        'INPUT_INVALID',
        `${fileName} is not valid UTF-8 text.`,
        'Save it as UTF-8 (most editors offer it under "Save as…"), then open it again.',
      ),
    );
  }
}

/** "notes.md" → "notes.detoxed.md"; pasted text → "pasted-text.detoxed.txt". */
export function reviewedFileName(source: { name: string; kind: SourceKind }): string {
  if (source.kind === 'pasted') return 'pasted-text.detoxed.txt';
  const dot = source.name.lastIndexOf('.');
  return dot > 0 ? `${source.name.slice(0, dot)}.detoxed${source.name.slice(dot)}` : `${source.name}.detoxed`;
}

/** "notes.md" → "notes.changes.json" (or .csv). */
export function changeLogFileName(source: { name: string; kind: SourceKind }, extension: 'json' | 'csv'): string {
  const stem = source.kind === 'pasted' ? 'pasted-text' : source.name.replace(/\.[^.]*$/, '') || source.name;
  return `${stem}.changes.${extension}`;
}

/** Line endings of a text, for the editor to say what it will keep. */
export function lineEndings(text: string): 'CRLF' | 'LF' | 'mixed' | 'none' {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  if (crlf === 0 && lf === 0) return 'none';
  if (crlf > 0 && lf > 0) return 'mixed';
  return crlf > 0 ? 'CRLF' : 'LF';
}

/** Saves text as a UTF-8 file through the browser's or window's download (every character as it is). */
export function saveText(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  download(url, fileName);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
