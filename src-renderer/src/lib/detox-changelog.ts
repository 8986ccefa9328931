// The change log of a detox review, as JSON and CSV: one entry per edit with the original, the model's rewrite,
// the final text, the decision, every scored word, the settings that produced it and the models' fingerprints; with
// a toxicity gate, each entry's toxicity before/after and every refused rewrite with its reason (original kept).

import type { DetoxGateAttempt, DetoxSettings } from '../../../src-main/shared/index.ts';
import { decisionLabel, edits, finalText, type DetoxReview, type ReviewSentence } from './detox-review.ts';

export interface ChangeLogEntry {
  /** 1-based position among the document's distinct sentences. */
  sentence: number;
  /** Where the sentence stands in the source, UTF-16 offsets [start, end) of each occurrence. */
  occurrences: { start: number; end: number }[];
  original: string;
  rewrite: string;
  final: string;
  decision: 'accepted' | 'rejected' | 'edited' | 'pending';
  /** Offsets within the sentence. */
  scores: { word: string; start: number; end: number; divergence: number; score: number; masked: boolean }[];
  settings: DetoxSettings;
  /** The gate classifier's toxicity of the original and of the rewrite; null when the run had no gate. */
  toxicity: { label: string; before: number; after: number | null } | null;
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

export interface ChangeLog {
  format: 'toxscope-detox-changes';
  version: 1;
  document: { name: string; kind: DetoxReview['source']['kind']; characters: number };
  models: { [role in 'base' | 'expert' | 'antiExpert']: { reference: string; sha256: string | null } };
  settings: DetoxSettings;
  counts: { edits: number; accepted: number; rejected: number; edited: number; pending: number };
  changes: ChangeLogEntry[];
  /** Rewrites the toxicity gate refused (the original is in the document), with the reasons. */
  refused: RefusedEntry[];
}

function entryOf(review: DetoxReview, sentence: ReviewSentence): ChangeLogEntry {
  return {
    sentence: sentence.id + 1,
    occurrences: sentence.occurrences.map((start) => ({ start, end: start + sentence.text.length })),
    original: sentence.text,
    rewrite: sentence.rewrite,
    final: finalText(sentence),
    decision: decisionLabel(sentence),
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
    toxicity: sentence.gate
      ? { label: sentence.gate.label, before: sentence.gate.before, after: sentence.gate.after }
      : null,
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

export function changeLog(review: DetoxReview): ChangeLog {
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
    refused,
  };
}

export function changeLogJson(review: DetoxReview): string {
  return `${JSON.stringify(changeLog(review), null, 2)}\n`;
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
  'settings',
  'base_sha256',
  'expert_sha256',
  'anti_expert_sha256',
] as const;

/** RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. */
export function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const settingsText = (settings: DetoxSettings) =>
  `threshold=${settings.threshold}; alphaBase=${settings.alphaBase}; alphaExpert=${settings.alphaExpert}; alphaAnti=${settings.alphaAnti}; temperature=${settings.temperature}; repetitionPenalty=${settings.repetitionPenalty}; maxLength=${settings.maxLength}; divergence=${settings.divergence}`;

/** One row per edit; offsets are "start-end" of each occurrence, scores "word=score" (3 decimals) of scored words. */
export function changeLogCsv(review: DetoxReview): string {
  const log = changeLog(review);
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
    settingsText(entry.settings),
    log.models.base.sha256 ?? '',
    log.models.expert.sha256 ?? '',
    log.models.antiExpert.sha256 ?? '',
  ]);
  return [changeLogCsvHeader, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
