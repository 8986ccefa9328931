// The detox review model (issue 8): the sentences a detox run streamed, the reviewer's decision on each edit, hand
// edits and single-sentence re-runs, undo/redo, and the reviewed document. Pure functions over plain JSON values,
// so the whole review autosaves as one document and survives a restart.

import type {
  DetoxFrame,
  DetoxFrameSegment,
  DetoxGateSettings,
  DetoxModelFingerprints,
  DetoxSegmentGate,
  DetoxSettings,
  DetoxWord,
  PresetName,
} from '../../../src-main/shared/index.ts';

export type Decision = 'pending' | 'accepted' | 'rejected';

/** One distinct sentence of the document as the run left it and as the reviewer decided. */
export interface ReviewSentence {
  /** Position among the document's distinct sentences (run order = order of first occurrence). */
  id: number;
  text: string;
  /** Start offsets of every occurrence in the source (UTF-16); identical sentences share one decision. */
  occurrences: number[];
  /** Offsets within `text`. */
  words: DetoxWord[];
  masked: string;
  /** The model's rewrite; equal to `text` when no word was masked. */
  rewrite: string;
  /** The settings that produced this rewrite when it was re-run alone; null = the run's. */
  settings: DetoxSettings | null;
  decision: Decision;
  /** The reviewer's own wording, used instead of `rewrite` when accepted. */
  edited: string | null;
  /** The toxicity gate's scores and decision for this sentence; absent when the run had no gate. */
  gate?: DetoxSegmentGate;
  /** When and by whom the current decision was made (ISO 8601; the Settings page's reviewer name, '' when unset);
   * absent while pending and in reviews saved before decisions were stamped. */
  decidedAt?: string;
  decidedBy?: string;
}

/** Who decides, and when: stamped on every decision and hand edit for the change log. */
export interface DecisionStamp {
  /** ISO 8601, e.g. new Date().toISOString(). */
  at: string;
  /** The reviewer's name from Settings; '' when none is set. */
  by: string;
}

export type SourceKind = 'pasted' | 'txt' | 'md';

export interface RunState {
  status: 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';
  /** Distinct sentences finished, of total (null before the first frame). */
  done: number;
  total: number | null;
  message: string | null;
}

/** A change undo can revert: the touched sentences before and after. */
export interface ReviewChange {
  label: string;
  before: ReviewSentence[];
  after: ReviewSentence[];
}

export interface DetoxReview {
  format: 'toxscope-detox-review';
  version: 1;
  source: { name: string; kind: SourceKind; text: string };
  models: { base: string; expert: string; antiExpert: string };
  fingerprints: DetoxModelFingerprints | null;
  preset: PresetName | 'custom';
  settings: DetoxSettings;
  /** The toxicity gate the run used; null = off (MaRCo on every sentence); absent in reviews saved before the gate. */
  gate?: DetoxGateSettings | null;
  /** sha256 of the gate classifier's weights, known once a run finished; null without a gate or before. */
  classifierSha256?: string | null;
  /** When the run was started (ISO 8601); absent in reviews saved before it was recorded. */
  startedAt?: string;
  run: RunState;
  sentences: ReviewSentence[];
  undo: ReviewChange[];
  redo: ReviewChange[];
}

/** Undo remembers this many changes (each holds only the sentences it touched). */
export const undoLimit = 200;

export function startReview(options: {
  source: DetoxReview['source'];
  models: DetoxReview['models'];
  preset: DetoxReview['preset'];
  settings: DetoxSettings;
  /** The toxicity gate of the run; omitted = off. */
  gate?: DetoxGateSettings | null;
  /** When the run started (ISO 8601). */
  startedAt: string;
}): DetoxReview {
  return {
    format: 'toxscope-detox-review',
    version: 1,
    ...options,
    gate: options.gate ?? null,
    classifierSha256: null,
    fingerprints: null,
    run: { status: 'running', done: 0, total: null, message: null },
    sentences: [],
    undo: [],
    redo: [],
  };
}

function sentenceFrom(segment: DetoxFrameSegment, id: number): ReviewSentence {
  return {
    id,
    text: segment.text,
    occurrences: segment.occurrences,
    words: segment.words,
    masked: segment.masked,
    rewrite: segment.rewrite,
    settings: null,
    decision: 'pending',
    edited: null,
    ...(segment.gate ? { gate: segment.gate } : {}),
  };
}

/** Adds the sentences of a streamed frame (a frame seen twice adds nothing). */
export function addFrame(review: DetoxReview, frame: DetoxFrame): DetoxReview {
  const known = new Set(review.sentences.map((sentence) => sentence.text));
  const added = frame.segments
    .filter((segment) => !known.has(segment.text))
    .map((segment, index) => sentenceFrom(segment, review.sentences.length + index));
  return {
    ...review,
    fingerprints: frame.models,
    sentences: [...review.sentences, ...added],
    run: { ...review.run, done: frame.done, total: frame.total },
  };
}

export function setRun(review: DetoxReview, run: Partial<RunState>): DetoxReview {
  return { ...review, run: { ...review.run, ...run } };
}

/** A sentence is an edit when the model changed it or the reviewer wrote their own wording. */
export function isEdit(sentence: ReviewSentence): boolean {
  return sentence.rewrite !== sentence.text || sentence.edited !== null;
}

export function edits(review: DetoxReview): ReviewSentence[] {
  return review.sentences.filter(isEdit);
}

/** What the reviewed document says for this sentence. */
export function finalText(sentence: ReviewSentence): string {
  if (sentence.decision !== 'accepted') return sentence.text;
  return sentence.edited ?? sentence.rewrite;
}

/** How the change log names a decision: a hand edit that was accepted is 'edited'. */
export function decisionLabel(sentence: ReviewSentence): 'accepted' | 'rejected' | 'edited' | 'pending' {
  return sentence.decision === 'accepted' && sentence.edited !== null ? 'edited' : sentence.decision;
}

function change(review: DetoxReview, label: string, after: ReviewSentence[]): DetoxReview {
  const changed = after.filter((sentence) => {
    const before = review.sentences[sentence.id];
    return JSON.stringify(before) !== JSON.stringify(sentence);
  });
  if (changed.length === 0) return review;
  const before = changed.map((sentence) => review.sentences[sentence.id]!);
  const sentences = [...review.sentences];
  for (const sentence of changed) sentences[sentence.id] = sentence;
  return {
    ...review,
    sentences,
    undo: [...review.undo, { label, before, after: changed }].slice(-undoLimit),
    redo: [],
  };
}

function sentenceById(review: DetoxReview, id: number): ReviewSentence {
  const sentence = review.sentences[id];
  if (!sentence) throw new Error(`No sentence ${id} in this review.`);
  return sentence;
}

/** A sentence with a new decision: stamped when decided, unstamped when set back to pending. */
function withDecision(sentence: ReviewSentence, decision: Decision, stamp: DecisionStamp | null): ReviewSentence {
  const { decidedAt: _at, decidedBy: _by, ...rest } = sentence;
  if (decision === 'pending' || !stamp) return { ...rest, decision };
  return { ...rest, decision, decidedAt: stamp.at, decidedBy: stamp.by };
}

/**
 * Sets the decision on these sentences. A sentence that already has this decision keeps its stamp (deciding it
 * again changes nothing, so undo records nothing).
 */
export function decide(
  review: DetoxReview,
  ids: number[],
  decision: Decision,
  stamp: DecisionStamp | null = null,
): DetoxReview {
  const label = `${decision === 'accepted' ? 'Accept' : decision === 'rejected' ? 'Reject' : 'Reset'} ${
    ids.length === 1 ? `sentence ${ids[0]! + 1}` : `${ids.length} edits`
  }`;
  return change(
    review,
    label,
    ids.map((id) => {
      const sentence = sentenceById(review, id);
      return sentence.decision === decision ? sentence : withDecision(sentence, decision, stamp);
    }),
  );
}

/** The reviewer's own wording for a sentence; it is accepted. The original wording (or the rewrite) clears it. */
export function editByHand(
  review: DetoxReview,
  id: number,
  text: string,
  stamp: DecisionStamp | null = null,
): DetoxReview {
  const sentence = sentenceById(review, id);
  const edited = text === sentence.rewrite ? null : text;
  if (edited === sentence.edited && sentence.decision === 'accepted') return review;
  return change(review, `Edit sentence ${id + 1}`, [{ ...withDecision(sentence, 'accepted', stamp), edited }]);
}

/**
 * A sentence's new rewrite from a run of that sentence alone with other settings; the decision starts over. The
 * gate's record is the re-run's (the old scores belong to the old rewrite), or none when the re-run had no gate.
 */
export function applyRerun(
  review: DetoxReview,
  id: number,
  rerun: { words: DetoxWord[]; masked: string; rewrite: string; settings: DetoxSettings; gate?: DetoxSegmentGate },
): DetoxReview {
  const { gate: _replaced, ...sentence } = sentenceById(review, id);
  return change(review, `Re-run sentence ${id + 1}`, [
    { ...withDecision(sentence, 'pending', null), ...rerun, edited: null },
  ]);
}

function replaceSentences(review: DetoxReview, sentences: ReviewSentence[]): ReviewSentence[] {
  const next = [...review.sentences];
  for (const sentence of sentences) next[sentence.id] = sentence;
  return next;
}

export function undo(review: DetoxReview): DetoxReview {
  const last = review.undo.at(-1);
  if (!last) return review;
  return {
    ...review,
    sentences: replaceSentences(review, last.before),
    undo: review.undo.slice(0, -1),
    redo: [...review.redo, last],
  };
}

export function redo(review: DetoxReview): DetoxReview {
  const next = review.redo.at(-1);
  if (!next) return review;
  return {
    ...review,
    sentences: replaceSentences(review, next.after),
    undo: [...review.undo, next],
    redo: review.redo.slice(0, -1),
  };
}

/**
 * The reviewed document: every occurrence of an accepted sentence replaced by its final text; every other character
 * (rejected and pending edits, sentences not run, whitespace, line endings, Markdown) is the source's.
 */
export function reviewedDocument(review: DetoxReview): string {
  const replacements = review.sentences
    .filter((sentence) => sentence.decision === 'accepted' && isEdit(sentence))
    .flatMap((sentence) =>
      sentence.occurrences.map((start) => ({ start, end: start + sentence.text.length, text: finalText(sentence) })),
    )
    .sort((a, b) => a.start - b.start);
  const source = review.source.text;
  let out = '';
  let cursor = 0;
  for (const { start, end, text } of replacements) {
    out += source.slice(cursor, start) + text;
    cursor = end;
  }
  return out + source.slice(cursor);
}

export interface ReviewCounts {
  sentences: number;
  edits: number;
  accepted: number;
  rejected: number;
  pending: number;
}

export function countDecisions(review: DetoxReview): ReviewCounts {
  const all = edits(review);
  const count = (decision: Decision) => all.filter((sentence) => sentence.decision === decision).length;
  return {
    sentences: review.sentences.length,
    edits: all.length,
    accepted: count('accepted'),
    rejected: count('rejected'),
    pending: count('pending'),
  };
}

/**
 * A sentence re-run alone comes back as the frames of that run; a sentence the splitter cuts again (another
 * max-length) comes back in parts: words, masked text and rewrite are put together at the parts' offsets. The gate's
 * record is kept when the sentence came back whole (parts' scores are not the sentence's score).
 */
export function combineRerun(
  text: string,
  frames: DetoxFrame[],
): { words: DetoxWord[]; masked: string; rewrite: string; gate?: DetoxSegmentGate } {
  const parts = frames
    .flatMap((frame) => frame.segments)
    .flatMap((segment) => segment.occurrences.map((start) => ({ start, segment })))
    .sort((a, b) => a.start - b.start);
  let masked = '';
  let rewrite = '';
  let cursor = 0;
  const words: DetoxWord[] = [];
  for (const { start, segment } of parts) {
    const between = text.slice(cursor, start);
    masked += between + segment.masked;
    rewrite += between + segment.rewrite;
    words.push(...segment.words.map((word) => ({ ...word, start: start + word.start, end: start + word.end })));
    cursor = start + segment.text.length;
  }
  const whole = parts.length === 1 && parts[0]!.segment.text === text ? parts[0]!.segment.gate : undefined;
  return {
    words,
    masked: masked + text.slice(cursor),
    rewrite: rewrite + text.slice(cursor),
    ...(whole ? { gate: whole } : {}),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a stored value is a review this version can open (checked field by field before use). */
export function isDetoxReview(value: unknown): value is DetoxReview {
  if (!isObject(value) || value.format !== 'toxscope-detox-review' || value.version !== 1) return false;
  const { source, models, settings, run, sentences, undo: undoStack, redo: redoStack } = value;
  if (!isObject(source) || typeof source.text !== 'string' || typeof source.name !== 'string') return false;
  const sourceText = source.text;
  /** Every occurrence must point at its sentence in the source, or the saved document would come out wrong. */
  const placed = (text: unknown, occurrences: unknown) =>
    typeof text === 'string' &&
    Array.isArray(occurrences) &&
    occurrences.every(
      (start: unknown) => typeof start === 'number' && sourceText.slice(start, start + text.length) === text,
    );
  return (
    isObject(models) &&
    isObject(settings) &&
    isObject(run) &&
    Array.isArray(sentences) &&
    sentences.every(
      (sentence: unknown, index) =>
        isObject(sentence) &&
        sentence.id === index &&
        placed(sentence.text, sentence.occurrences) &&
        typeof sentence.rewrite === 'string' &&
        (sentence.edited === null || typeof sentence.edited === 'string') &&
        (sentence.decidedAt === undefined || typeof sentence.decidedAt === 'string') &&
        (sentence.decidedBy === undefined || typeof sentence.decidedBy === 'string') &&
        Array.isArray(sentence.words) &&
        ['pending', 'accepted', 'rejected'].includes(sentence.decision as string),
    ) &&
    Array.isArray(undoStack) &&
    Array.isArray(redoStack)
  );
}

/** A review restored after a restart: a run that was still going is marked interrupted (its job is gone). */
export function restoreReview(value: unknown): DetoxReview | null {
  if (!isDetoxReview(value)) return null;
  return value.run.status === 'running'
    ? setRun(value, {
        status: 'interrupted',
        message: 'The app closed during the run; the finished sentences are kept.',
      })
    : value;
}

/** How strongly a word is highlighted: by its score (divergence over the sentence mean) against τ. */
export type ScoreLevel = 'none' | 'raised' | 'masked' | 'strong';

export function scoreLevel(word: DetoxWord, threshold: number): ScoreLevel {
  if (word.masked) return word.score !== null && word.score >= 2 * threshold ? 'strong' : 'masked';
  if (word.score !== null && word.score >= 1) return 'raised';
  return 'none';
}

/** The source cut into plain runs and the places of finished sentences, in order, for the document view. */
export type DocumentPart = { kind: 'text'; text: string } | { kind: 'sentence'; id: number };

export function documentParts(review: DetoxReview): DocumentPart[] {
  const places = review.sentences
    .flatMap((sentence) => sentence.occurrences.map((start) => ({ start, sentence })))
    .sort((a, b) => a.start - b.start);
  const parts: DocumentPart[] = [];
  let cursor = 0;
  for (const { start, sentence } of places) {
    if (start > cursor) parts.push({ kind: 'text', text: review.source.text.slice(cursor, start) });
    parts.push({ kind: 'sentence', id: sentence.id });
    cursor = start + sentence.text.length;
  }
  if (cursor < review.source.text.length) parts.push({ kind: 'text', text: review.source.text.slice(cursor) });
  return parts;
}
