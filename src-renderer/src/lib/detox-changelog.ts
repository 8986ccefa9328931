// The change log of a detox review, as JSON and CSV: one entry per edit with the original, the model's rewrite,
// the final text, the decision, every scored word, the settings that produced it and the models' fingerprints; with
// a toxicity gate, the gate's settings, classifier and counts, the document's score, each entry's toxicity
// before/after (with every label's), every refused rewrite with its reason and every sentence left clean; who
// reviewed, when each decision was made, and the sha256 of the document read and of the document saved.

import type {
  DetoxGateAttempt,
  DetoxGateCounts,
  DetoxGateSettings,
  DetoxSettings,
} from '../../../src-main/shared/index.ts';
import { documentToxicity, gateCounts, keptLabelScores } from './detox-gate-view.ts';
import {
  decisionLabel,
  edits,
  finalText,
  reviewedDocument,
  type DetoxReview,
  type ReviewSentence,
} from './detox-review.ts';

export interface ChangeLogEntry {
  /** 1-based position among the document's distinct sentences. */
  sentence: number;
  /** Where the sentence stands in the source, UTF-16 offsets [start, end) of each occurrence. */
  occurrences: { start: number; end: number }[];
  original: string;
  rewrite: string;
  final: string;
  decision: 'accepted' | 'rejected' | 'edited' | 'pending';
  /** When the decision was made (ISO 8601) and by whom (the reviewer name in Settings then; '' when none was set);
   * null while pending, and for decisions made before the app recorded them. */
  decidedAt: string | null;
  decidedBy: string | null;
  /** Offsets within the sentence. */
  scores: { word: string; start: number; end: number; divergence: number; score: number; masked: boolean }[];
  settings: DetoxSettings;
  /** The gate classifier's toxicity of the original and of the rewrite; null when the run had no gate. */
  toxicity: {
    label: string;
    before: number;
    after: number | null;
    /** Every label's probability before and after, when the record has them. */
    labelsBefore?: Record<string, number>;
    labelsAfter?: Record<string, number>;
  } | null;
}

/** A sentence the toxicity gate kept as it was because every candidate rewrite was refused. */
export interface RefusedEntry {
  sentence: number;
  occurrences: { start: number; end: number }[];
  original: string;
  label: string;
  before: number;
  reason: string;
  attempts: DetoxGateAttempt[];
}

/** A sentence the toxicity gate scored at or below its threshold and left as it was. */
export interface CleanEntry {
  sentence: number;
  occurrences: { start: number; end: number }[];
  original: string;
  label: string;
  before: number;
  reason: string;
}

/** The gate a review's run used: its settings, classifier fingerprint, decisions and the document's score. */
export interface GateRecord extends DetoxGateSettings {
  /** sha256 of the classifier's weights; null when the run did not finish. */
  sha256: string | null;
  label: string | null;
  /** Distinct sentences by outcome. */
  counts: DetoxGateCounts;
  /** Mean toxicity of the document's sentences (every occurrence) before, with every rewrite, and as reviewed. */
  document: { before: number; after: number; reviewed: number | null } | null;
}

/** Who wrote the change log and when, and fingerprints of the document read and the document saved. */
export interface ChangeLogProvenance {
  /** The reviewer name in Settings; null when none is set. */
  reviewer: string | null;
  /** When the change log was written (ISO 8601). */
  writtenAt: string;
  /** sha256 of the input's UTF-8 bytes: the opened file byte for byte (its BOM and line endings kept), or the
   * pasted text. */
  input: { sha256: string; bytes: number };
  /** sha256 of what Save document writes now (the reviewed document's UTF-8 bytes). */
  output: { sha256: string; bytes: number };
}

export interface ChangeLog extends ChangeLogProvenance {
  format: 'toxscope-detox-changes';
  version: 1;
  /** When the detox run was started (ISO 8601); null for reviews saved before it was recorded. */
  startedAt: string | null;
  document: { name: string; kind: DetoxReview['source']['kind']; characters: number };
  models: { [role in 'base' | 'expert' | 'antiExpert']: { reference: string; sha256: string | null } };
  settings: DetoxSettings;
  counts: { edits: number; accepted: number; rejected: number; edited: number; pending: number };
  changes: ChangeLogEntry[];
  /** The toxicity gate; null when the run had none (MaRCo on every sentence). */
  gate: GateRecord | null;
  /** Rewrites the toxicity gate refused (the original is in the document), with the reasons. */
  refused: RefusedEntry[];
  /** Sentences the toxicity gate left as they were (at or below its threshold). */
  clean: CleanEntry[];
}

function entryOf(review: DetoxReview, sentence: ReviewSentence): ChangeLogEntry {
  return {
    sentence: sentence.id + 1,
    occurrences: sentence.occurrences.map((start) => ({ start, end: start + sentence.text.length })),
    original: sentence.text,
    rewrite: sentence.rewrite,
    final: finalText(sentence),
    decision: decisionLabel(sentence),
    decidedAt: sentence.decision === 'pending' ? null : (sentence.decidedAt ?? null),
    decidedBy: sentence.decision === 'pending' ? null : (sentence.decidedBy ?? null),
    scores: sentence.words.flatMap((word) =>
      word.score === null || word.divergence === null
        ? []
        : [
            {
              word: word.text,
              start: word.start,
              end: word.end,
              divergence: word.divergence,
              score: word.score,
              masked: word.masked,
            },
          ],
    ),
    settings: sentence.settings ?? review.settings,
    toxicity: sentence.gate ? toxicityOf(sentence) : null,
  };
}

function toxicityOf(sentence: ReviewSentence): NonNullable<ChangeLogEntry['toxicity']> {
  const gate = sentence.gate!;
  const after = keptLabelScores(gate);
  return {
    label: gate.label,
    before: gate.before,
    after: gate.after,
    ...(gate.labelScores ? { labelsBefore: gate.labelScores } : {}),
    ...(after ? { labelsAfter: after } : {}),
  };
}

function cleanOf(sentence: ReviewSentence): CleanEntry[] {
  const gate = sentence.gate;
  if (!gate || gate.outcome !== 'clean' || sentence.rewrite !== sentence.text) return [];
  return [
    {
      sentence: sentence.id + 1,
      occurrences: sentence.occurrences.map((start) => ({ start, end: start + sentence.text.length })),
      original: sentence.text,
      label: gate.label,
      before: gate.before,
      reason: gate.reason ?? 'clean',
    },
  ];
}

function gateRecordOf(review: DetoxReview): GateRecord | null {
  if (!review.gate) return null;
  const document = documentToxicity(review);
  return {
    ...review.gate,
    sha256: review.classifierSha256 ?? null,
    label: document?.label ?? null,
    counts: gateCounts(review) ?? { rewritten: 0, clean: 0, refused: 0 },
    document: document ? { before: document.before, after: document.after, reviewed: document.reviewed } : null,
  };
}

function refusedOf(sentence: ReviewSentence): RefusedEntry[] {
  const gate = sentence.gate;
  if (!gate || gate.outcome !== 'refused') return [];
  return [
    {
      sentence: sentence.id + 1,
      occurrences: sentence.occurrences.map((start) => ({ start, end: start + sentence.text.length })),
      original: sentence.text,
      label: gate.label,
      before: gate.before,
      reason: gate.reason ?? 'refused',
      attempts: gate.attempts,
    },
  ];
}

/** Lowercase hex sha256 of bytes, by Web Crypto (the renderer's, and Node's global `crypto` in tests). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The reviewer, the time, and the sha256 of the review's input and of its reviewed document as saved now. */
export async function changeLogProvenance(
  review: DetoxReview,
  reviewer: string,
  writtenAt: Date,
): Promise<ChangeLogProvenance> {
  const encoder = new TextEncoder();
  const input = encoder.encode(review.source.text);
  const output = encoder.encode(reviewedDocument(review));
  return {
    reviewer: reviewer.trim() === '' ? null : reviewer.trim(),
    writtenAt: writtenAt.toISOString(),
    input: { sha256: await sha256Hex(input), bytes: input.length },
    output: { sha256: await sha256Hex(output), bytes: output.length },
  };
}

export function changeLog(review: DetoxReview, provenance: ChangeLogProvenance): ChangeLog {
  const changes = edits(review).map((sentence) => entryOf(review, sentence));
  const refused = review.sentences.flatMap(refusedOf);
  const count = (decision: ChangeLogEntry['decision']) => changes.filter((entry) => entry.decision === decision).length;
  const model = (role: 'base' | 'expert' | 'antiExpert') => ({
    reference: review.models[role],
    sha256: review.fingerprints?.[role] ?? null,
  });
  return {
    format: 'toxscope-detox-changes',
    version: 1,
    ...provenance,
    startedAt: review.startedAt ?? null,
    document: { name: review.source.name, kind: review.source.kind, characters: review.source.text.length },
    models: { base: model('base'), expert: model('expert'), antiExpert: model('antiExpert') },
    settings: review.settings,
    counts: {
      edits: changes.length,
      accepted: count('accepted'),
      rejected: count('rejected'),
      edited: count('edited'),
      pending: count('pending'),
    },
    changes,
    gate: gateRecordOf(review),
    refused,
    clean: review.sentences.flatMap(cleanOf),
  };
}

export function changeLogJson(review: DetoxReview, provenance: ChangeLogProvenance): string {
  return `${JSON.stringify(changeLog(review, provenance), null, 2)}\n`;
}

export const changeLogCsvHeader = [
  'sentence',
  'offsets',
  'original',
  'rewrite',
  'final',
  'decision',
  'masked_words',
  'scores',
  'toxicity_before',
  'toxicity_after',
  'settings',
  'base_sha256',
  'expert_sha256',
  'anti_expert_sha256',
  'decided_at',
  'decided_by',
  'input_sha256',
  'output_sha256',
] as const;

/** RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. */
export function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const settingsText = (settings: DetoxSettings) =>
  `threshold=${settings.threshold}; alphaBase=${settings.alphaBase}; alphaExpert=${settings.alphaExpert}; alphaAnti=${settings.alphaAnti}; temperature=${settings.temperature}; repetitionPenalty=${settings.repetitionPenalty}; maxLength=${settings.maxLength}; divergence=${settings.divergence}`;

/**
 * One row per edit; offsets are "start-end" of each occurrence, scores "word=score" (3 decimals) of scored words,
 * toxicity the gate classifier's (empty without a gate, or after when the original was kept), decided_at/_by empty
 * while pending; the document's input and output sha256 on every row, as the models' are.
 */
export function changeLogCsv(review: DetoxReview, provenance: ChangeLogProvenance): string {
  const log = changeLog(review, provenance);
  const rows = log.changes.map((entry) => [
    entry.sentence,
    entry.occurrences.map(({ start, end }) => `${start}-${end}`).join(' '),
    entry.original,
    entry.rewrite,
    entry.final,
    entry.decision,
    entry.scores
      .filter((score) => score.masked)
      .map((score) => score.word)
      .join(' | '),
    entry.scores.map((score) => `${score.word}=${score.score.toFixed(3)}`).join('; '),
    entry.toxicity ? entry.toxicity.before : '',
    entry.toxicity?.after ?? '',
    settingsText(entry.settings),
    log.models.base.sha256 ?? '',
    log.models.expert.sha256 ?? '',
    log.models.antiExpert.sha256 ?? '',
    entry.decidedAt ?? '',
    entry.decidedBy ?? '',
    log.input.sha256,
    log.output.sha256,
  ]);
  return [changeLogCsvHeader, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
