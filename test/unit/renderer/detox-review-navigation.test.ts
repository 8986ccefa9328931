// Track changes over a detox review: which edits are shown, next/previous and accept-and-next, the one-key shortcuts,
// the reviewed document's markup, decision stamps, and the change log's sha256 of the document read and saved.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { presets, type DetoxFrameSegment } from '../../../src-main/shared/index.ts';
import { changeLog, changeLogProvenance } from '../../../src-renderer/src/lib/detox-changelog.ts';
import {
  documentLines,
  editsPerPage,
  markupParts,
  neighbourEdit,
  pageCount,
  pageOfIndex,
  nextPendingEdit,
  reviewKeyAction,
  shownEdits,
} from '../../../src-renderer/src/lib/detox-review-navigation.ts';
import {
  addFrame,
  decide,
  documentParts,
  editByHand,
  redo,
  reviewedDocument,
  startReview,
  undo,
  type DetoxReview,
} from '../../../src-renderer/src/lib/detox-review.ts';

/** Five distinct sentences (the third twice); the second and the fifth are left as they were by the model. */
const sentences: [string, string][] = [
  ['You are an idiot.', 'You are a friend.'],
  ['The room is booked.', 'The room is booked.'],
  ['Shut up, moron!', 'Calm down, friend!'],
  ['That is dumb.', 'That is odd.'],
  ['See you at noon.', 'See you at noon.'],
];
const source =
  '\ufeff# Notes\r\n\r\nYou are an idiot. The room is booked.\r\nShut up, moron! That is dumb.\r\n' +
  '- Shut up, moron!\r\nSee you at noon.\r\n';

function review(): DetoxReview {
  const segments: DetoxFrameSegment[] = sentences.map(([text, rewrite]) => {
    const occurrences: number[] = [];
    for (let at = source.indexOf(text); at >= 0; at = source.indexOf(text, at + 1)) occurrences.push(at);
    return { text, start: 0, end: text.length, words: [], masked: text, rewrite, occurrences };
  });
  return addFrame(
    startReview({
      source: { name: 'notes.md', kind: 'md', text: source },
      models: { base: 'demo:bart-base', expert: 'demo:bart-expert', antiExpert: 'demo:bart-anti-expert' },
      preset: 'magr',
      settings: presets.magr,
      startedAt: '2026-12-06T07:00:00.000Z',
    }),
    { done: 5, total: 5, models: { base: 'a', expert: 'b', antiExpert: 'c' }, segments },
  );
}

const stamp = { at: '2026-12-06T07:30:00.000Z', by: 'Ada' };

describe('moving through the edits', () => {
  it('shows every edit, or only the pending ones, in document order', () => {
    const value = decide(review(), [2], 'rejected', stamp);
    expect(shownEdits(value, 'all').map((sentence) => sentence.id)).toEqual([0, 2, 3]);
    expect(shownEdits(value, 'pending').map((sentence) => sentence.id)).toEqual([0, 3]);
  });

  it('goes to the next and previous shown edit and stops at either end', () => {
    const shown = [0, 2, 3];
    expect(neighbourEdit(shown, null, 1)).toBe(0);
    expect(neighbourEdit(shown, null, -1)).toBe(3);
    expect(neighbourEdit(shown, 0, 1)).toBe(2);
    expect(neighbourEdit(shown, 2, -1)).toBe(0);
    expect(neighbourEdit(shown, 3, 1)).toBeNull();
    expect(neighbourEdit(shown, 0, -1)).toBeNull();
    expect(neighbourEdit([], null, 1)).toBeNull();
  });

  it('moves on from an edit the pending-only filter now hides, by its place in the document', () => {
    expect(neighbourEdit([0, 3], 2, 1)).toBe(3);
    expect(neighbourEdit([0, 3], 2, -1)).toBe(0);
  });

  it('goes from a decided edit to the next pending one, back to a skipped one, and nowhere once all are decided', () => {
    let value = decide(review(), [2], 'accepted', stamp);
    expect(nextPendingEdit(value, 2)).toBe(3);
    value = decide(value, [3], 'rejected', stamp);
    expect(nextPendingEdit(value, 3)).toBe(0); // sentence 1 was skipped
    value = decide(value, [0], 'accepted', stamp);
    expect(nextPendingEdit(value, 0)).toBeNull();
  });

  it('reads J/N and K/P as next and previous, A and R as decide-and-next, and leaves modified keys alone', () => {
    const key = (k: string, modifiers: Partial<Record<'ctrlKey' | 'altKey' | 'metaKey', boolean>> = {}) =>
      reviewKeyAction({ key: k, ctrlKey: false, altKey: false, metaKey: false, ...modifiers });
    expect([key('j'), key('N'), key('k'), key('p'), key('a'), key('R')]).toEqual([
      'next',
      'next',
      'previous',
      'previous',
      'accept-next',
      'reject-next',
    ]);
    expect(key('a', { ctrlKey: true })).toBeNull();
    expect(key('j', { altKey: true })).toBeNull();
    expect(key('x')).toBeNull();
    expect(key('Enter')).toBeNull();
  });
});

describe('the reviewed document with its changes marked up', () => {
  const join = (value: DetoxReview, side: 'added' | 'removed') =>
    markupParts(value)
      .map((part) => {
        if (part.kind === 'text' || part.state !== 'changed') return part.text;
        return part.diff.map((piece) => (piece.kind === 'same' ? piece.text : piece[side])).join('');
      })
      .join('');

  it('marks accepted and hand-edited sentences as changes, and pending edits as pending, at every occurrence', () => {
    let value = decide(review(), [2], 'accepted', stamp);
    value = editByHand(value, 3, 'That is unusual.', stamp);
    value = decide(value, [0], 'rejected', stamp);
    const sentencesShown = markupParts(value).flatMap((part) =>
      part.kind === 'sentence' ? [[part.id, part.state]] : [],
    );
    expect(sentencesShown).toEqual([
      [0, 'kept'],
      [1, 'kept'],
      [2, 'changed'],
      [3, 'changed'],
      [2, 'changed'],
      [4, 'kept'],
    ]);
    expect(markupParts(review()).filter((part) => part.kind === 'sentence' && part.state === 'pending').length).toBe(
      4, // sentences 1, 3 (twice) and 4
    );
    const changed = markupParts(value).find((part) => part.kind === 'sentence' && part.id === 3);
    expect(changed).toMatchObject({
      state: 'changed',
      diff: [
        { kind: 'same', text: 'That is ' },
        { kind: 'change', removed: 'dumb', added: 'unusual' },
        { kind: 'same', text: '.' },
      ],
    });
  });

  it('reads as the saved document without the removed text, and as the source without the added text', () => {
    const value = editByHand(decide(review(), [0, 2], 'accepted', stamp), 3, 'That is unusual.', stamp);
    expect(join(value, 'added')).toBe(reviewedDocument(value));
    expect(join(value, 'removed')).toBe(source);
    expect(reviewedDocument(value)).not.toBe(source);
  });
});

describe('decision stamps', () => {
  it('stamps a decision with its time and reviewer, keeps the stamp when decided again, and clears it on reset', () => {
    const accepted = decide(review(), [0], 'accepted', stamp);
    expect(accepted.sentences[0]).toMatchObject({ decidedAt: stamp.at, decidedBy: 'Ada' });
    const again = decide(accepted, [0], 'accepted', { at: '2026-12-06T09:00:00.000Z', by: 'Bo' });
    expect(again).toBe(accepted); // nothing changed: no undo step, the first stamp stays
    const reset = decide(accepted, [0], 'pending', stamp);
    expect(reset.sentences[0]!.decidedAt).toBeUndefined();
    expect(reset.sentences[0]!.decidedBy).toBeUndefined();
    expect(undo(reset).sentences[0]).toMatchObject({ decidedAt: stamp.at, decidedBy: 'Ada' });
    expect(redo(undo(reset)).sentences[0]!.decidedAt).toBeUndefined();
  });

  it('stamps a hand edit, and records nothing when the same wording is saved again', () => {
    const edited = editByHand(review(), 3, 'That is unusual.', stamp);
    expect(edited.sentences[3]).toMatchObject({ decision: 'accepted', decidedBy: 'Ada', edited: 'That is unusual.' });
    expect(editByHand(edited, 3, 'That is unusual.', { at: '2026-12-06T09:00:00.000Z', by: 'Bo' })).toBe(edited);
  });
});

describe('the change log’s provenance', () => {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('gives the sha256 and byte count of the document read and of the document saved, and who wrote it when', async () => {
    const value = decide(review(), [0, 2], 'accepted', stamp);
    const provenance = await changeLogProvenance(value, '  Ada   Lovelace ', new Date('2026-12-06T08:00:00Z'));
    expect(provenance).toEqual({
      reviewer: 'Ada   Lovelace',
      writtenAt: '2026-12-06T08:00:00.000Z',
      input: { sha256: sha256(source), bytes: Buffer.byteLength(source, 'utf8') },
      output: { sha256: sha256(reviewedDocument(value)), bytes: Buffer.byteLength(reviewedDocument(value), 'utf8') },
    });
    expect(provenance.output.sha256).not.toBe(provenance.input.sha256);
    expect(changeLog(value, provenance)).toMatchObject({ ...provenance, startedAt: '2026-12-06T07:00:00.000Z' });
  });

  it('writes no reviewer when none is set, and the input’s sha256 as output while nothing is accepted', async () => {
    const provenance = await changeLogProvenance(review(), ' ', new Date('2026-12-06T08:00:00Z'));
    expect(provenance.reviewer).toBeNull();
    expect(provenance.output).toEqual(provenance.input);
    expect(provenance.input.sha256).toBe(sha256(source)); // the byte-order mark and CRLF count as written
  });
});

describe('thousands of sentences', () => {
  it('cuts the document in lines that keep their line breaks and put the source back together', () => {
    const value = review();
    const lines = documentLines(documentParts(value));
    const text = (line: (typeof lines)[number]) =>
      line.map((part) => (part.kind === 'text' ? part.text : value.sentences[part.id]!.text)).join('');
    expect(lines.map(text).join('')).toBe(source);
    expect(lines.map(text)).toEqual([
      '\ufeff# Notes\r\n',
      '\r\n',
      'You are an idiot. The room is booked.\r\n',
      'Shut up, moron! That is dumb.\r\n',
      '- Shut up, moron!\r\n',
      'See you at noon.\r\n',
    ]);
  });

  it('keeps a sentence that spans a line break in one line', () => {
    const lines = documentLines([
      { kind: 'text', text: 'a\n' },
      { kind: 'sentence', id: 0 },
      { kind: 'text', text: ' b\nc' },
    ]);
    expect(lines).toEqual([
      [{ kind: 'text', text: 'a\n' }],
      [
        { kind: 'sentence', id: 0 },
        { kind: 'text', text: ' b\n' },
      ],
      [{ kind: 'text', text: 'c' }],
    ]);
  });

  it('shows the edits a hundred to a page', () => {
    expect(editsPerPage).toBe(100);
    expect([pageOfIndex(0), pageOfIndex(99), pageOfIndex(100), pageOfIndex(3299), pageOfIndex(-1)]).toEqual([
      0, 0, 1, 32, 0,
    ]);
    expect([pageCount(0), pageCount(100), pageCount(101), pageCount(3300)]).toEqual([1, 1, 2, 33]);
  });
});
