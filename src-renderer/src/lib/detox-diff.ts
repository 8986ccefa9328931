// Word-level diff of a sentence and its rewrite, for the inline redline: unchanged runs and changes (removed and
// added text together), each change with its span in the original so the UI can show those words' scores.

import type { DetoxWord } from '../../../src-main/shared/index.ts';

export type DiffPart =
  | { kind: 'same'; text: string }
  /** removed: original text at [start, end) of the sentence (may be empty); added: the rewrite's text (may be empty). */
  | { kind: 'change'; removed: string; added: string; start: number; end: number };

/** Words, runs of whitespace, and single other characters (punctuation), each a token. */
const tokenPattern = /\s+|[\p{L}\p{N}\p{M}_'’-]+|[^\s\p{L}\p{N}\p{M}_'’-]/gu;

function tokenize(text: string): string[] {
  return text.match(tokenPattern) ?? [];
}

/** Longest common subsequence table over tokens, filled from the end: lcs[i][j] for a[i..], b[j..]. */
function lcsTable(a: string[], b: string[]): Uint32Array[] {
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
  return table;
}

/** Beyond this many token pairs the diff shows the whole sentence as one change (sentences are short). */
const maxCells = 4_000_000;

export function diffWords(original: string, rewrite: string): DiffPart[] {
  if (original === rewrite) return original ? [{ kind: 'same', text: original }] : [];
  const a = tokenize(original);
  const b = tokenize(rewrite);
  if ((a.length + 1) * (b.length + 1) > maxCells)
    return [{ kind: 'change', removed: original, added: rewrite, start: 0, end: original.length }];
  const table = lcsTable(a, b);
  const parts: DiffPart[] = [];
  let offset = 0;
  const pushSame = (text: string) => {
    const last = parts.at(-1);
    if (last?.kind === 'same') last.text += text;
    else parts.push({ kind: 'same', text });
    offset += text.length;
  };
  const pushChange = (removed: string, added: string) => {
    const last = parts.at(-1);
    if (last?.kind === 'change') {
      last.removed += removed;
      last.added += added;
      last.end += removed.length;
    } else parts.push({ kind: 'change', removed, added, start: offset, end: offset + removed.length });
    offset += removed.length;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      pushSame(a[i]!);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || table[i]![j + 1]! >= table[i + 1]![j]!)) pushChange('', b[j++]!);
    else pushChange(a[i++]!, '');
  }
  return mergeAcrossSpaces(parts);
}

/** "a X b Y c" with only whitespace kept between two changes reads better as one change. */
function mergeAcrossSpaces(parts: DiffPart[]): DiffPart[] {
  const merged: DiffPart[] = [];
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index]!;
    const previous = merged.at(-1);
    const next = parts[index + 1];
    if (part.kind === 'same' && /^\s+$/.test(part.text) && previous?.kind === 'change' && next?.kind === 'change') {
      previous.removed += part.text + next.removed;
      previous.added += part.text + next.added;
      previous.end = next.end;
      index++;
    } else merged.push(part.kind === 'change' ? { ...part } : { ...part });
  }
  return merged;
}

/** The scored words of the original that a change removes or replaces (for a pure insertion: its neighbours). */
export function wordsOfChange(words: DetoxWord[], change: { start: number; end: number }): DetoxWord[] {
  const scored = words.filter((word) => word.score !== null);
  if (change.end > change.start) return scored.filter((word) => word.start < change.end && word.end > change.start);
  return scored.filter((word) => word.end === change.start || word.start === change.end);
}
