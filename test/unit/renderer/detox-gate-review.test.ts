// The toxicity gate in the app (issue 15 §4–5): the gate fields of the detox forms and the request they make, what
// the review shows of the gate's scores (label breakdown, counts, the document's score), re-runs that carry the
// gate's record, and the change log's gate record with the sentences left clean.

import { describe, expect, it } from 'vitest';
import {
  presets,
  type DetoxFrameSegment,
  type DetoxGateSettings,
  type DetoxSegmentGate,
} from '../../../src-main/shared/index.ts';
import { changeLog, changeLogCsv } from '../../../src-renderer/src/lib/detox-changelog.ts';
import {
  defaultGateInput,
  gateProblem,
  gateRequest,
  gateValid,
} from '../../../src-renderer/src/lib/detox-gate-input.ts';
import {
  documentToxicity,
  gateCounts,
  keptLabelScores,
  keptSentences,
  labelBreakdown,
  sentenceTitle,
} from '../../../src-renderer/src/lib/detox-gate-view.ts';
import {
  addFrame,
  applyRerun,
  combineRerun,
  decide,
  editByHand,
  isDetoxReview,
  startReview,
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

const shipped = '/app/resources/detox/blocklist.txt';

describe('gate fields', () => {
  it('start on, with the given classifier and the CLI defaults (threshold 0.5, 3 re-samples, shipped blocklist)', () => {
    const input = defaultGateInput('demo:classifier');
    expect(gateValid(input)).toBe(true);
    expect(gateRequest(input, shipped)).toEqual({
      classifier: 'demo:classifier',
      toxicityThreshold: 0.5,
      maxResamples: 3,
      blocklist: shipped,
    });
  });

  it('off sends no gate, whatever the other fields hold', () => {
    const off = { ...defaultGateInput(''), enabled: false, toxicityThreshold: 7 };
    expect(gateValid(off)).toBe(true);
    expect(gateRequest(off, shipped)).toBeNull();
  });

  it('send the user’s blocklist file, or none', () => {
    const input = defaultGateInput(' unitary/toxic-bert ');
    expect(gateRequest({ ...input, blocklist: 'none' }, shipped)).toMatchObject({
      classifier: 'unitary/toxic-bert',
      blocklist: null,
    });
    expect(gateRequest({ ...input, blocklist: 'file', blocklistFile: ' /my/list.txt ' }, shipped)?.blocklist).toBe(
      '/my/list.txt',
    );
  });

  it('say what is wrong with a classifier, threshold, re-sample count or blocklist file', () => {
    const input = defaultGateInput('demo:classifier');
    expect(gateProblem({ ...input, classifier: ' ' }, 'classifier')).toMatch(/Name a classifier/);
    expect(gateProblem({ ...input, toxicityThreshold: 1.5 }, 'toxicityThreshold')).toBe('Between 0 and 1.');
    expect(gateProblem({ ...input, toxicityThreshold: Number.NaN }, 'toxicityThreshold')).toBe('Enter a number.');
    expect(gateProblem({ ...input, maxResamples: 2.5 }, 'maxResamples')).toMatch(/whole number/);
    expect(gateProblem({ ...input, maxResamples: 101 }, 'maxResamples')).toMatch(/0 to 100/);
    expect(gateProblem({ ...input, blocklist: 'file' }, 'blocklistFile')).toMatch(/path/);
    expect(gateValid({ ...input, blocklist: 'file' })).toBe(false);
    expect(gateProblem(input, 'toxicityThreshold')).toBeNull();
  });
});

const source = 'The meeting has moved. You are an idiot. Garbage ideas. You are an idiot.';
const gateSettings: DetoxGateSettings = {
  classifier: 'demo:classifier',
  toxicityThreshold: 0.5,
  maxResamples: 3,
  blocklist: shipped,
};

function segment(text: string, rewrite: string, gate: DetoxSegmentGate): DetoxFrameSegment {
  const occurrences: number[] = [];
  for (let at = source.indexOf(text); at >= 0; at = source.indexOf(text, at + 1)) occurrences.push(at);
  return { text, start: 0, end: text.length, words: [], masked: text, rewrite, gate, occurrences };
}

const clean: DetoxSegmentGate = {
  outcome: 'clean',
  label: 'toxicity',
  before: 0.1,
  labelScores: { toxicity: 0.1, insult: 0.05 },
  after: null,
  attempts: [],
  reason: 'toxicity 0.100 is at or below the threshold 0.5',
};
const rewritten: DetoxSegmentGate = {
  outcome: 'rewritten',
  label: 'toxicity',
  before: 0.9,
  labelScores: { toxicity: 0.9, insult: 0.8 },
  after: 0.2,
  attempts: [
    { rewrite: 'You are an idiot, idiot.', toxicity: 0.95, refused: 'not less toxic (0.900 → 0.950)' },
    { rewrite: 'You are a friend.', toxicity: 0.2, labelScores: { toxicity: 0.2, insult: 0.1 }, refused: null },
  ],
  reason: null,
};
const refused: DetoxSegmentGate = {
  outcome: 'refused',
  label: 'toxicity',
  before: 0.7,
  after: null,
  attempts: [{ rewrite: 'Garbage asians.', toxicity: 0.9, refused: 'adds blocklisted word: asians' }],
  reason: 'every rewrite was refused (1 tried; last: adds blocklisted word: asians)',
};

function review(gate: DetoxGateSettings | null = gateSettings): DetoxReview {
  return addFrame(
    startReview({
      source: { name: 'notes.txt', kind: 'txt', text: source },
      models: { base: 'demo:bart-base', expert: 'demo:bart-expert', antiExpert: 'demo:bart-anti-expert' },
      preset: 'magr',
      settings: presets.magr,
      startedAt: '2026-12-06T07:59:00.000Z',
      gate,
    }),
    {
      done: 3,
      total: 3,
      models: { base: 'a'.repeat(64), expert: 'b'.repeat(64), antiExpert: 'c'.repeat(64) },
      segments: [
        segment('The meeting has moved.', 'The meeting has moved.', clean),
        segment('You are an idiot.', 'You are a friend.', rewritten),
        segment('Garbage ideas.', 'Garbage ideas.', refused),
      ],
    },
  );
}

describe('the review’s gate scores', () => {
  it('break a score down by label, before → after the kept rewrite', () => {
    expect(keptLabelScores(rewritten)).toEqual({ toxicity: 0.2, insult: 0.1 });
    expect(labelBreakdown(rewritten)).toEqual(['toxicity 0.90 → 0.20', 'insult 0.80 → 0.10']);
    expect(labelBreakdown(clean)).toEqual(['toxicity 0.10', 'insult 0.05']);
    expect(labelBreakdown(refused)).toEqual([]); // a record without label scores has no breakdown
  });

  it('count the distinct sentences by outcome and list the ones kept as written', () => {
    const value = review();
    expect(gateCounts(value)).toEqual({ rewritten: 1, clean: 1, refused: 1 });
    expect(keptSentences(value, 'clean').map((sentence) => sentence.text)).toEqual(['The meeting has moved.']);
    expect(keptSentences(value, 'refused').map((sentence) => sentence.text)).toEqual(['Garbage ideas.']);
    expect(gateCounts(review(null))).toEqual({ rewritten: 1, clean: 1, refused: 1 }); // records decide, not settings
  });

  it('give the document’s mean toxicity over every occurrence, before, with every rewrite, and as reviewed', () => {
    const value = review();
    // Occurrences: clean ×1 (0.1), idiot ×2 (0.9 → 0.2), refused ×1 (0.7).
    const expected = { label: 'toxicity', sentences: 4, before: (0.1 + 1.8 + 0.7) / 4, after: (0.1 + 0.4 + 0.7) / 4 };
    expect(documentToxicity(value)).toEqual({ ...expected, reviewed: expected.before });
    expect(documentToxicity(decide(value, [1], 'accepted'))?.reviewed).toBeCloseTo(expected.after, 12);
    expect(documentToxicity(editByHand(value, 1, 'You are mistaken.'))?.reviewed).toBeNull();
  });

  it('title each sentence of the document view with its score and outcome', () => {
    expect(sentenceTitle(clean)).toBe('toxicity 0.10: left clean');
    expect(sentenceTitle(rewritten)).toBe('toxicity 0.90 → 0.20');
    expect(sentenceTitle(refused)).toBe('toxicity 0.70: rewrite refused, original kept');
    expect(sentenceTitle(undefined)).toBeUndefined();
  });
});

describe('re-runs under the gate', () => {
  it('a re-run replaces the gate record with its own, or drops it when the re-run had none', () => {
    const value = review();
    const rerun = { words: [], masked: 'You are an idiot.', rewrite: 'You are kind.', settings: presets.sbf };
    const newGate: DetoxSegmentGate = { ...rewritten, after: 0.05, attempts: [] };
    expect(applyRerun(value, 1, { ...rerun, gate: newGate }).sentences[1]!.gate).toEqual(newGate);
    expect(applyRerun(value, 1, rerun).sentences[1]).not.toHaveProperty('gate');
  });

  it('a re-run that came back whole keeps its gate record; one split in parts has no sentence score', () => {
    const text = 'You are an idiot.';
    const whole = combineRerun(text, [
      {
        done: 1,
        total: 1,
        models: { base: '', expert: '', antiExpert: '' },
        segments: [{ ...segment(text, 'You are kind.', rewritten), occurrences: [0] }],
      },
    ]);
    expect(whole.gate).toEqual(rewritten);
    const parts = combineRerun(text, [
      {
        done: 2,
        total: 2,
        models: { base: '', expert: '', antiExpert: '' },
        segments: [
          {
            text: 'You are',
            start: 0,
            end: 7,
            words: [],
            masked: 'You are',
            rewrite: 'We are',
            gate: clean,
            occurrences: [0],
          },
          {
            text: 'an idiot.',
            start: 0,
            end: 9,
            words: [],
            masked: 'an idiot.',
            rewrite: 'a friend.',
            gate: rewritten,
            occurrences: [8],
          },
        ],
      },
    ]);
    expect(parts.rewrite).toBe('We are a friend.');
    expect(parts).not.toHaveProperty('gate');
  });

  it('a review saved before the gate existed still opens, with no gate', () => {
    const value = review() as Partial<DetoxReview>;
    delete value.gate;
    delete value.classifierSha256;
    expect(isDetoxReview(value)).toBe(true);
    expect(changeLog(value as DetoxReview, provenance).gate).toBeNull();
  });
});

describe('the change log’s gate record', () => {
  it('has the gate’s settings, classifier fingerprint, counts and the document’s score', () => {
    const log = changeLog({ ...review(), classifierSha256: 'd'.repeat(64) }, provenance);
    expect(log.gate).toEqual({
      ...gateSettings,
      sha256: 'd'.repeat(64),
      label: 'toxicity',
      counts: { rewritten: 1, clean: 1, refused: 1 },
      document: { before: (0.1 + 1.8 + 0.7) / 4, after: (0.1 + 0.4 + 0.7) / 4, reviewed: (0.1 + 1.8 + 0.7) / 4 },
    });
    expect(changeLog(review(null), provenance).gate).toBeNull();
  });

  it('lists each edit’s label scores before and after, and every sentence left clean with its reason', () => {
    const log = changeLog(review(), provenance);
    expect(log.changes[0]!.toxicity).toEqual({
      label: 'toxicity',
      before: 0.9,
      after: 0.2,
      labelsBefore: { toxicity: 0.9, insult: 0.8 },
      labelsAfter: { toxicity: 0.2, insult: 0.1 },
    });
    expect(log.clean).toEqual([
      {
        sentence: 1,
        occurrences: [{ start: 0, end: 22 }],
        original: 'The meeting has moved.',
        label: 'toxicity',
        before: 0.1,
        reason: 'toxicity 0.100 is at or below the threshold 0.5',
      },
    ]);
    expect(log.refused.map((entry) => entry.original)).toEqual(['Garbage ideas.']);
  });

  it('puts the toxicity before and after in the CSV row of each edit', () => {
    const [header, row] = changeLogCsv(review(), provenance).split('\r\n');
    const columns = header!.split(',');
    const cells = row!.split(',');
    expect(cells[columns.indexOf('toxicity_before')]).toBe('0.9');
    expect(cells[columns.indexOf('toxicity_after')]).toBe('0.2');
  });
});
