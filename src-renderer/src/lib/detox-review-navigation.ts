// Moving through a detox review's edits as a word processor moves through tracked changes: the edits shown (all, or
// only those not yet decided) a page at a time, the next and previous one from the current, where accept-and-next
// goes, the keyboard shortcuts that do it, and the document cut in lines with its changes marked up.

import { diffWords, type DiffPart } from './detox-diff.ts';
import {
  documentParts,
  edits,
  finalText,
  isEdit,
  type DetoxReview,
  type DocumentPart,
  type ReviewSentence,
} from './detox-review.ts';

export type EditFilter = 'all' | 'pending';

/** The edit cards shown, in document order (ids ascend: sentences are numbered by first occurrence). */
export function shownEdits(review: DetoxReview, filter: EditFilter): ReviewSentence[] {
  const all = edits(review);
  return filter === 'pending' ? all.filter((sentence) => sentence.decision === 'pending') : all;
}

/**
 * The shown edit one step before or after the current one; the current one may be hidden (decided under the
 * pending-only filter), then its place in document order counts. With no current edit, forward is the first and back
 * the last. Null at either end: moving stops there, as Word's "next change" does at the end of the document.
 */
export function neighbourEdit(shownIds: readonly number[], current: number | null, step: 1 | -1): number | null {
  if (shownIds.length === 0) return null;
  if (current === null) return (step === 1 ? shownIds[0] : shownIds.at(-1)) ?? null;
  if (step === 1) return shownIds.find((id) => id > current) ?? null;
  return shownIds.findLast((id) => id < current) ?? null;
}

/**
 * Where accept-and-next and reject-and-next go after deciding `decided`: the next edit still pending after it, else
 * the first pending one before it (the reviewer skipped it), else null (every edit is decided). Takes the review as
 * it is after the decision.
 */
export function nextPendingEdit(review: DetoxReview, decided: number): number | null {
  const pending = edits(review)
    .filter((sentence) => sentence.decision === 'pending' && sentence.id !== decided)
    .map((sentence) => sentence.id);
  return pending.find((id) => id > decided) ?? pending[0] ?? null;
}

/** A keyboard action of the review, from a key pressed outside text fields with no modifier but Shift. */
export type ReviewKeyAction = 'next' | 'previous' | 'accept-next' | 'reject-next';

/** The review's one-key shortcuts, as the legend lists them and aria-keyshortcuts announces them. */
export const reviewShortcuts: readonly { action: ReviewKeyAction; keys: readonly string[]; label: string }[] = [
  { action: 'next', keys: ['J', 'N'], label: 'next edit' },
  { action: 'previous', keys: ['K', 'P'], label: 'previous edit' },
  { action: 'accept-next', keys: ['A'], label: 'accept, then the next pending edit' },
  { action: 'reject-next', keys: ['R'], label: 'reject, then the next pending edit' },
];

/** aria-keyshortcuts for an action ("J N": either key). */
export function ariaShortcut(action: ReviewKeyAction): string {
  return reviewShortcuts.find((shortcut) => shortcut.action === action)?.keys.join(' ') ?? '';
}

/** The action of a key, or null; modified keys (Ctrl, Alt, Meta) belong to the browser and the app. */
export function reviewKeyAction(event: {
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}): ReviewKeyAction | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  const key = event.key.toUpperCase();
  return reviewShortcuts.find((shortcut) => shortcut.keys.includes(key))?.action ?? null;
}

/**
 * How a finished sentence stands in the reviewed document, for the markup view: 'changed' (accepted or hand-edited:
 * a word diff of the original against the final text), 'pending' (an edit not yet decided: the original, which the
 * document keeps until it is accepted), or 'kept' (no edit, or rejected).
 */
export type SentenceMarkup = { state: 'changed'; diff: DiffPart[] } | { state: 'pending' | 'kept'; text: string };

export function sentenceMarkup(sentence: ReviewSentence): SentenceMarkup {
  if (!isEdit(sentence) || sentence.decision === 'rejected') return { state: 'kept', text: sentence.text };
  if (sentence.decision === 'pending') return { state: 'pending', text: sentence.text };
  return { state: 'changed', diff: diffWords(sentence.text, finalText(sentence)) };
}

/**
 * The reviewed document cut for the markup view: plain runs of the source and each finished sentence's markup, in
 * order. Joining the runs, the diff's unchanged and added text and the other sentences gives the reviewed document.
 */
export type MarkupPart = { kind: 'text'; text: string } | ({ kind: 'sentence'; id: number } & SentenceMarkup);

export function markupParts(review: DetoxReview): MarkupPart[] {
  return documentParts(review).map((part): MarkupPart => {
    if (part.kind === 'text') return part;
    return { kind: 'sentence', id: part.id, ...sentenceMarkup(review.sentences[part.id]!) };
  });
}

/**
 * The document's parts grouped in lines, each ending after a line break of the source (the break stays in the line,
 * so the lines' text joined is the source). The panes render a line as a block the browser can skip while it is off
 * screen and lay out alone when one of its sentences changes. A sentence that spans a break stays in one line.
 */
export function documentLines(parts: readonly DocumentPart[]): DocumentPart[][] {
  const lines: DocumentPart[][] = [];
  let line: DocumentPart[] = [];
  for (const part of parts) {
    if (part.kind === 'sentence') {
      line.push(part);
      continue;
    }
    for (const piece of part.text.split(/(?<=\n)/)) {
      line.push({ kind: 'text', text: piece });
      if (piece.endsWith('\n')) {
        lines.push(line);
        line = [];
      }
    }
  }
  if (line.length) lines.push(line);
  return lines;
}

/** Edit cards are shown this many at a time: thousands of cards would take seconds to render, and each decision
 * would re-render them all. */
export const editsPerPage = 100;

/** The page (0-based) that holds the shown edit at this index. */
export const pageOfIndex = (index: number): number => Math.floor(Math.max(0, index) / editsPerPage);

/** How many pages the shown edits fill (at least one, so an empty list still has a page to stand on). */
export const pageCount = (shown: number): number => Math.max(1, Math.ceil(shown / editsPerPage));
