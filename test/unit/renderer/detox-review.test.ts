// The detox review model: sentences from frames, decisions, hand edits, re-runs, undo/redo, the reviewed document
// (untouched bytes kept), the change log in JSON and CSV, the word diff, and the file rules of the editor.

import { describe, expect, it } from 'vitest';
import { presets, type DetoxFrame, type DetoxFrameSegment, type DetoxWord } from '../../../src-main/shared/index.ts';
import { changeLog, changeLogCsv, changeLogJson, csvCell } from '../../../src-renderer/src/lib/detox-changelog.ts';
import { diffWords, wordsOfChange } from '../../../src-renderer/src/lib/detox-diff.ts';
import {
  changeLogFileName,
  decodeDocument,
  lineEndings,
  reviewedFileName,
} from '../../../src-renderer/src/lib/detox-files.ts';
import {
  addFrame,
  applyRerun,
  combineRerun,
  countDecisions,
  decide,
  documentParts,
  editByHand,
  isDetoxReview,
  redo,
  restoreReview,
  reviewedDocument,
  scoreLevel,
  startReview,
  undo,
  undoLimit,
  type DetoxReview,
} from '../../../src-renderer/src/lib/detox-review.ts';

/** Who wrote a change log and when, and the documents' fingerprints, as the page passes them (computed in
 * detox-review-navigation.test.ts). */
const provenance = {
  reviewer: 'R. Viewer',
  writtenAt: '2026-12-06T08:00:00.000Z',
  input: { sha256: '1'.repeat(64), bytes: 10 },
  output: { sha256: '2'.repeat(64), bytes: 10 },
};

const source = '# Title\r\n\r\nYou are an idiot.  Have a nice day.\r\n- You are an idiot.\r\nShut up, moron!';
const fingerprints = { base: 'a'.repeat(64), expert: 'b'.repeat(64), antiExpert: 'c'.repeat(64) };

/** Words of a sentence with the given scores (null for punctuation), masked when the score is ≥ 1.2. */
function scored(text: string, scores: (number | null)[]): DetoxWord[] {
  const words: DetoxWord[] = [];
  for (const match of text.matchAll(/[\w']+|[^\s\w]/g)) {
    const score = scores[words.length] ?? null;
    words.push({
      text: match[0],
      start: match.index,
      end: match.index + match[0].length,
      divergence: score === null ? null : score * 0.5,
      score,
      masked: score !== null && score >= 1.2,
    });
  }
  return words;
}

function segment(text: string, rewrite: string, scores: (number | null)[]): DetoxFrameSegment {
  const occurrences: number[] = [];
  for (let at = source.indexOf(text); at >= 0; at = source.indexOf(text, at + 1)) occurrences.push(at);
  return { text, start: 0, end: text.length, words: scored(text, scores), masked: text, rewrite, occurrences };
}

const frames: DetoxFrame[] = [
  {
    done: 2,
    total: 4,
    models: fingerprints,
    segments: [
      segment('Title', 'Title', [0.5]),
      segment('You are an idiot.', 'You are a friend.', [0.6, 0.7, 0.8, 2.9, null]),
    ],
  },
  {
    done: 4,
    total: 4,
    models: fingerprints,
    segments: [
      segment('Have a nice day.', 'Have a nice day.', [0.9, 1.0, 1.1, 1.0, null]),
      segment('Shut up, moron!', 'Calm down, friend!', [1.5, 0.9, null, 3.1, null]),
    ],
  },
];

function review(): DetoxReview {
  let value = startReview({
    source: { name: 'notes.md', kind: 'md', text: source },
    models: { base: 'demo:bart-base', expert: 'demo:bart-expert', antiExpert: 'demo:bart-anti-expert' },
    preset: 'magr',
    settings: presets.magr,
    startedAt: '2026-12-06T07:59:00.000Z',
  });
  for (const frame of frames) value = addFrame(value, frame);
  return value;
}

describe('detox review', () => {
  it('collects the distinct sentences of the frames, with every occurrence, once each', () => {
    const value = addFrame(review(), frames[1]!);
    expect(value.sentences.map((sentence) => [sentence.id, sentence.text, sentence.occurrences.length])).toEqual([
      [0, 'Title', 1],
      [1, 'You are an idiot.', 2],
      [2, 'Have a nice day.', 1],
      [3, 'Shut up, moron!', 1],
    ]);
    expect(value.fingerprints).toEqual(fingerprints);
    expect(countDecisions(value)).toEqual({ sentences: 4, edits: 2, accepted: 0, rejected: 0, pending: 2 });
  });

  it('keeps the source byte for byte until an edit is accepted', () => {
    expect(reviewedDocument(review())).toBe(source);
    expect(reviewedDocument(decide(review(), [3], 'rejected'))).toBe(source);
  });

  it('applies an accepted edit to every occurrence and keeps CRLF and Markdown markers around it', () => {
    const accepted = decide(decide(review(), [1], 'accepted'), [3], 'rejected');
    expect(reviewedDocument(accepted)).toBe(
      '# Title\r\n\r\nYou are a friend.  Have a nice day.\r\n- You are a friend.\r\nShut up, moron!',
    );
  });

  it('uses a hand edit instead of the rewrite, and calls it edited', () => {
    const edited = editByHand(review(), 3, 'Please stop.');
    expect(edited.sentences[3]!.decision).toBe('accepted');
    expect(reviewedDocument(edited).endsWith('\r\nPlease stop.')).toBe(true);
    expect(changeLog(edited, provenance).changes.find((entry) => entry.sentence === 4)?.decision).toBe('edited');
    expect(editByHand(edited, 3, 'Calm down, friend!').sentences[3]!.edited).toBeNull();
  });

  it('undoes and redoes decisions, edits and re-runs in order, and a new change clears redo', () => {
    let value = decide(review(), [1], 'accepted');
    value = editByHand(value, 3, 'Stop.');
    value = applyRerun(value, 3, {
      words: scored('Shut up, moron!', [2, 0.1, null, 2, null]),
      masked: '<mask> up,<mask>!',
      rewrite: 'Hush, friend!',
      settings: presets.sbf,
    });
    expect(value.sentences[3]).toMatchObject({ rewrite: 'Hush, friend!', decision: 'pending', edited: null });
    value = undo(value);
    expect(value.sentences[3]).toMatchObject({ rewrite: 'Calm down, friend!', edited: 'Stop.' });
    value = undo(undo(value));
    expect(reviewedDocument(value)).toBe(source);
    expect(undo(value)).toBe(value); // nothing left to undo
    value = redo(value);
    expect(value.sentences[1]!.decision).toBe('accepted');
    value = decide(value, [3], 'rejected');
    expect(value.redo).toEqual([]);
    expect(redo(value)).toBe(value);
  });

  it('records nothing for a decision that changes nothing, and remembers at most the undo limit', () => {
    const value = decide(review(), [1], 'pending');
    expect(value.undo).toEqual([]);
    let busy = review();
    for (let index = 0; index < undoLimit + 5; index++) busy = decide(busy, [1], index % 2 ? 'accepted' : 'rejected');
    expect(busy.undo.length).toBe(undoLimit);
  });

  it('puts a re-run back together when the splitter cut the sentence in parts', () => {
    const text = 'You idiot, go away. Now.';
    const part = (partText: string, at: number, rewrite: string): DetoxFrameSegment => ({
      text: partText,
      start: 0,
      end: partText.length,
      words: [{ text: partText.split(' ')[0]!, start: 0, end: 3, divergence: 1, score: 1.5, masked: true }],
      masked: `<mask>${partText.slice(3)}`,
      rewrite,
      occurrences: [at],
    });
    const combined = combineRerun(text, [
      {
        done: 2,
        total: 2,
        models: fingerprints,
        segments: [part('You idiot,', 0, 'You,'), part('go away. Now.', 11, 'go.')],
      },
    ]);
    expect(combined.rewrite).toBe('You, go.');
    expect(combined.masked).toBe('<mask> idiot, <mask>away. Now.');
    expect(combined.words.map((word) => word.start)).toEqual([0, 11]);
  });

  it('restores a saved review, marking a run that was going as interrupted, and refuses damaged ones', () => {
    const saved = JSON.parse(JSON.stringify(decide(review(), [1], 'accepted'))) as unknown;
    const restored = restoreReview(saved);
    expect(restored?.run.status).toBe('interrupted');
    expect(restored?.sentences[1]!.decision).toBe('accepted');
    expect(restoreReview(null)).toBeNull();
    expect(restoreReview({ ...(saved as object), version: 2 })).toBeNull();
    const moved = JSON.parse(JSON.stringify(review())) as DetoxReview;
    moved.sentences[1]!.occurrences = [3]; // does not point at the sentence in the source
    expect(isDetoxReview(moved)).toBe(false);
  });

  it('cuts the source into plain runs and sentence places that put it back together', () => {
    const value = review();
    const parts = documentParts(value);
    const rebuilt = parts.map((part) => (part.kind === 'text' ? part.text : value.sentences[part.id]!.text)).join('');
    expect(rebuilt).toBe(source);
    expect(parts.filter((part) => part.kind === 'sentence').map((part) => part.id)).toEqual([0, 1, 2, 1, 3]);
  });

  it('grades words by score against the threshold', () => {
    const [idiot] = scored('idiot', [2.9]);
    const [nice] = scored('nice', [1.1]);
    const [day] = scored('day', [0.4]);
    const [strong] = scored('moron', [3.1]);
    expect([scoreLevel(idiot!, 1.2), scoreLevel(nice!, 1.2), scoreLevel(day!, 1.2), scoreLevel(strong!, 1.2)]).toEqual([
      'strong',
      'raised',
      'none',
      'strong',
    ]);
    expect(scoreLevel({ ...idiot!, score: 1.3 }, 1.2)).toBe('masked');
  });
});

describe('change log', () => {
  const decided = () =>
    decide(decide(review(), [1], 'accepted', { at: '2026-12-06T08:01:00.000Z', by: 'R. Viewer' }), [3], 'rejected', {
      at: '2026-12-06T08:02:00.000Z',
      by: '',
    });

  it('lists every edit with its decision, scores, settings and the models with their fingerprints', () => {
    const log = JSON.parse(changeLogJson(decided(), provenance)) as ReturnType<typeof changeLog>;
    expect(log.format).toBe('toxscope-detox-changes');
    expect(log.models.base).toEqual({ reference: 'demo:bart-base', sha256: 'a'.repeat(64) });
    expect(log.counts).toEqual({ edits: 2, accepted: 1, rejected: 1, edited: 0, pending: 0 });
    expect(log.changes[0]).toMatchObject({
      sentence: 2,
      occurrences: [
        { start: 11, end: 28 },
        { start: 50, end: 67 },
      ],
      original: 'You are an idiot.',
      rewrite: 'You are a friend.',
      final: 'You are a friend.',
      decision: 'accepted',
      settings: presets.magr,
      decidedAt: '2026-12-06T08:01:00.000Z',
      decidedBy: 'R. Viewer',
    });
    expect(log.changes[0]!.scores.find((score) => score.word === 'idiot')).toEqual({
      word: 'idiot',
      start: 11,
      end: 16,
      divergence: 1.45,
      score: 2.9,
      masked: true,
    });
    expect(log.changes[1]).toMatchObject({
      final: 'Shut up, moron!',
      decision: 'rejected',
      decidedAt: '2026-12-06T08:02:00.000Z',
      decidedBy: '',
    });
  });

  it('names the reviewer, when the run started and the log was written, and the documents’ sha256', () => {
    const log = changeLog(decided(), provenance);
    expect(log).toMatchObject({ ...provenance, startedAt: '2026-12-06T07:59:00.000Z' });
    expect(changeLog(decide(decided(), [1], 'pending'), provenance).changes[0]).toMatchObject({
      decision: 'pending',
      decidedAt: null,
      decidedBy: null,
    });
  });

  it('writes CSV rows with quoted cells and the same facts', () => {
    const lines = changeLogCsv(decided(), provenance).split('\r\n');
    expect(lines[0]).toBe(
      'sentence,offsets,original,rewrite,final,decision,masked_words,scores,toxicity_before,toxicity_after,settings,base_sha256,expert_sha256,anti_expert_sha256,decided_at,decided_by,input_sha256,output_sha256',
    );
    // Without a gate the toxicity cells are empty.
    expect(lines[2]).toBe(
      `4,69-84,"Shut up, moron!","Calm down, friend!","Shut up, moron!",rejected,Shut | moron,Shut=1.500; up=0.900; moron=3.100,,,threshold=1.2; alphaBase=1; alphaExpert=4.25; alphaAnti=1.5; temperature=2.5; repetitionPenalty=1; maxLength=128; divergence=symmetric-kl,${'a'.repeat(64)},${'b'.repeat(64)},${'c'.repeat(64)},2026-12-06T08:02:00.000Z,,${'1'.repeat(64)},${'2'.repeat(64)}`,
    );
    expect(lines.at(-1)).toBe('');
    expect(csvCell('say "hi"\nnow')).toBe('"say ""hi""\nnow"');
  });
});

describe('word diff', () => {
  it('marks the changed words, keeping the unchanged text and the change offsets in the original', () => {
    const parts = diffWords('Shut up, you moron!', 'Please, you friend!');
    expect(parts).toEqual([
      { kind: 'change', removed: 'Shut up', added: 'Please', start: 0, end: 7 },
      { kind: 'same', text: ', you ' },
      { kind: 'change', removed: 'moron', added: 'friend', start: 13, end: 18 },
      { kind: 'same', text: '!' },
    ]);
    const original = parts.map((part) => (part.kind === 'same' ? part.text : part.removed)).join('');
    const rewrite = parts.map((part) => (part.kind === 'same' ? part.text : part.added)).join('');
    expect([original, rewrite]).toEqual(['Shut up, you moron!', 'Please, you friend!']);
  });

  it('finds the scored words under a change, or beside a pure insertion', () => {
    const words = scored('Shut up, you moron!', [1.5, 0.9, null, 0.5, 3.1, null]);
    expect(wordsOfChange(words, { start: 13, end: 18 }).map((word) => word.text)).toEqual(['moron']);
    expect(wordsOfChange(words, { start: 7, end: 7 }).map((word) => word.text)).toEqual(['up']);
  });

  it('shows an unchanged sentence as one unchanged part', () => {
    expect(diffWords('Fine.', 'Fine.')).toEqual([{ kind: 'same', text: 'Fine.' }]);
  });
});

describe('documents in and out', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('opens .txt and .md files exactly as stored, byte-order mark and CRLF included', () => {
    const decoded = decodeDocument('Notes.MD', Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes('a\r\nb')]));
    expect(decoded).toEqual({ ok: true, value: { kind: 'md', text: '\ufeffa\r\nb' } });
    expect(lineEndings('a\r\nb')).toBe('CRLF');
    expect(lineEndings('a\nb\r\n')).toBe('mixed');
  });

  it('refuses other formats and invalid UTF-8 with what to do instead', () => {
    const docx = decodeDocument('report.docx', bytes('PK'));
    expect(docx.ok).toBe(false);
    if (!docx.ok) expect(docx.error.hint).toMatch(/plain text or Markdown/);
    const latin1 = decodeDocument('old.txt', Uint8Array.from([0x48, 0xe9]));
    expect(latin1.ok ? null : latin1.error.message).toBe('old.txt is not valid UTF-8 text.');
  });

  it('names the saved document and the change logs after the input', () => {
    expect(reviewedFileName({ name: 'notes.md', kind: 'md' })).toBe('notes.detoxed.md');
    expect(reviewedFileName({ name: 'pasted', kind: 'pasted' })).toBe('pasted-text.detoxed.txt');
    expect(changeLogFileName({ name: 'a.b.txt', kind: 'txt' }, 'csv')).toBe('a.b.changes.csv');
  });
});
