// The detox change log with the toxicity gate (issue 15 §4): each edit carries the classifier's toxicity before and
// after, and a sentence whose every rewrite was refused is listed with its reason, its original kept in the document.

import { describe, expect, it } from 'vitest';
import { presets, type DetoxFrameSegment, type DetoxSegmentGate } from '../../../src-main/shared/index.ts';
import { changeLog } from '../../../src-renderer/src/lib/detox-changelog.ts';
import { addFrame, reviewedDocument, startReview } from '../../../src-renderer/src/lib/detox-review.ts';

/** Who wrote a change log and when, and the documents' fingerprints, as the page passes them (computed in
 * detox-review-navigation.test.ts). */
const provenance = {
  reviewer: 'R. Viewer',
  writtenAt: '2026-12-06T08:00:00.000Z',
  input: { sha256: '1'.repeat(64), bytes: 10 },
  output: { sha256: '2'.repeat(64), bytes: 10 },
};

const source = 'The meeting has moved to room 4. You are a useless idiot. Garbage ideas.';

function segment(text: string, rewrite: string, gate: DetoxSegmentGate): DetoxFrameSegment {
  return {
    text,
    start: 0,
    end: text.length,
    words: [],
    masked: text,
    rewrite,
    gate,
    occurrences: [source.indexOf(text)],
  };
}

const gate = (outcome: DetoxSegmentGate['outcome'], before: number, after: number | null, reason: string | null) => ({
  outcome,
  label: 'toxicity',
  before,
  after,
  reason,
  attempts:
    outcome === 'refused'
      ? [{ rewrite: 'Garbage asians.', toxicity: 0.9, refused: 'adds blocklisted word: asians' }]
      : [],
});

function review() {
  return addFrame(
    startReview({
      source: { name: 'notes.txt', kind: 'txt', text: source },
      models: { base: 'demo:bart-base', expert: 'demo:bart-expert', antiExpert: 'demo:bart-anti-expert' },
      preset: 'magr',
      settings: presets.magr,
      startedAt: '2026-12-06T07:59:00.000Z',
    }),
    {
      done: 3,
      total: 3,
      models: { base: 'a'.repeat(64), expert: 'b'.repeat(64), antiExpert: 'c'.repeat(64) },
      segments: [
        segment(
          'The meeting has moved to room 4.',
          'The meeting has moved to room 4.',
          gate('clean', 0.02, null, 'clean'),
        ),
        segment('You are a useless idiot.', 'You are not helping.', gate('rewritten', 0.93, 0.12, null)),
        segment('Garbage ideas.', 'Garbage ideas.', gate('refused', 0.61, null, 'every rewrite was refused')),
      ],
    },
  );
}

describe('change log with the toxicity gate', () => {
  it('an edit carries its toxicity before and after', () => {
    const [entry] = changeLog(review(), provenance).changes;
    expect(entry).toMatchObject({
      original: 'You are a useless idiot.',
      toxicity: { label: 'toxicity', before: 0.93, after: 0.12 },
    });
  });

  it('a refused rewrite is listed with its reason and attempts, and the document keeps the original', () => {
    const log = changeLog(review(), provenance);
    expect(log.changes).toHaveLength(1);
    expect(log.refused).toEqual([
      {
        sentence: 3,
        occurrences: [{ start: source.indexOf('Garbage'), end: source.length }],
        original: 'Garbage ideas.',
        label: 'toxicity',
        before: 0.61,
        reason: 'every rewrite was refused',
        attempts: [{ rewrite: 'Garbage asians.', toxicity: 0.9, refused: 'adds blocklisted word: asians' }],
      },
    ]);
    expect(reviewedDocument(review())).toContain('Garbage ideas.');
    expect(reviewedDocument(review())).toContain('The meeting has moved to room 4.');
  });
});
