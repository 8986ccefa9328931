// The detox toxicity gate (issue 15 §4, cli.md "Detox safety"): a classifier decides which sentences MaRCo may touch
// (only those scored above the threshold) and judges every candidate rewrite — one that is not less toxic than its
// original, or that adds a blocklisted word, is refused. A detox must never make a sentence worse.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultToxicityClassifier,
  detoxGateDefaults,
  raise,
  type DetoxGateSettings,
  type DeviceReport,
} from '../../shared/index.ts';
import { demoFolder } from '../models/model-ref.ts';
import { loadToxicityClassifier, openToxicityScorer } from '../models/classifier/toxicity-scorer.ts';
import { segmentWords } from './words.ts';

/** Paper-free defaults: the threshold, and a few re-samples before a rewrite is refused (shared with the app). */
export const gateDefaults = detoxGateDefaults;

/** The blocklist shipped with the app (defined beside the app's other paths, which the serving thread reads). */
export { defaultBlocklistPath } from '../app-paths.ts';

/** The classifier the gate uses when none is named: demo:classifier when it is installed, else none (MaRCo alone). */
export function defaultGateClassifier(): string | null {
  return existsSync(join(demoFolder(), 'classifier', 'config.json')) ? defaultToxicityClassifier : null;
}

/** Lower-cased words, and prefixes from entries ending in `*`. */
export interface Blocklist {
  words: Set<string>;
  prefixes: string[];
}

export const emptyBlocklist: Blocklist = { words: new Set(), prefixes: [] };

/** One entry a line; `#` starts a comment; case is ignored; `word*` blocks every word starting with `word`. */
export function parseBlocklist(text: string): Blocklist {
  const blocklist: Blocklist = { words: new Set(), prefixes: [] };
  for (const raw of text.split('\n')) {
    const entry = raw.replace(/#.*/, '').trim().toLowerCase();
    if (entry === '') continue;
    if (entry.endsWith('*')) blocklist.prefixes.push(entry.slice(0, -1));
    else blocklist.words.add(entry);
  }
  return blocklist;
}

export function readBlocklist(path: string): Blocklist {
  if (!existsSync(path))
    raise(
      'INPUT_INVALID',
      `No blocklist at ${path}.`,
      'Check the path given to --blocklist, or pass --blocklist none.',
    );
  try {
    return parseBlocklist(readFileSync(path, 'utf8'));
  } catch (error) {
    return raise(
      'INPUT_INVALID',
      `${path} cannot be read (${(error as Error).message}).`,
      'Pass a readable UTF-8 text file to --blocklist, or --blocklist none.',
    );
  }
}

function isBlocked(word: string, blocklist: Blocklist): boolean {
  return blocklist.words.has(word) || blocklist.prefixes.some((prefix) => word.startsWith(prefix));
}

/** Blocklisted words the rewrite has more often than the original (so a rewrite may keep, never add, one). */
export function addedBlockedWords(original: string, rewrite: string, blocklist: Blocklist): string[] {
  const counts = (text: string) => {
    const map = new Map<string, number>();
    // A hyphenated word is one word to the segmenter; its parts are checked as well ("idiot-proof").
    for (const word of segmentWords(text)) {
      const whole = word.text.toLowerCase();
      for (const key of new Set([whole, ...whole.split(/[^\p{L}\p{N}']+/u)])) {
        if (key && isBlocked(key, blocklist)) map.set(key, (map.get(key) ?? 0) + 1);
      }
    }
    return map;
  };
  const before = counts(original);
  return [...counts(rewrite)].filter(([word, count]) => count > (before.get(word) ?? 0)).map(([word]) => word);
}

/** Why a candidate rewrite is refused, or null when it may replace the original. */
export function refusalOf(
  original: { text: string; toxicity: number },
  rewrite: { text: string; toxicity: number },
  blocklist: Blocklist,
): string | null {
  const added = addedBlockedWords(original.text, rewrite.text, blocklist);
  if (added.length) return `adds blocklisted word${added.length > 1 ? 's' : ''}: ${added.join(', ')}`;
  if (rewrite.text === original.text) return 'the rewrite is the original';
  if (!(rewrite.toxicity < original.toxicity))
    return `not less toxic (${original.toxicity.toFixed(3)} → ${rewrite.toxicity.toFixed(3)})`;
  return null;
}

/** A text as the gate sees it: the toxicity it compares, and every label's probability (the review's breakdown). */
export interface GateScore {
  toxicity: number;
  labelScores: Record<string, number>;
}

/** An open gate: the classifier, the label it reads, the blocklist and the settings. */
export interface ToxicityGate {
  settings: DetoxGateSettings;
  label: string;
  sha256: string;
  blocklist: Blocklist;
  /** Each text's scores, in order. */
  score(texts: readonly string[]): Promise<GateScore[]>;
  release(): Promise<void>;
}

export async function openToxicityGate(
  settings: DetoxGateSettings,
  options: { device: DeviceReport; threads?: number },
): Promise<ToxicityGate> {
  const blocklist = settings.blocklist === null ? emptyBlocklist : readBlocklist(settings.blocklist);
  // The scorer intervene, compare and eval:marco use too: one label rule, one number per text everywhere.
  const scorer = await openToxicityScorer(loadToxicityClassifier(settings.classifier, settings.tokenizer), options);
  return {
    settings,
    label: scorer.identity.label,
    sha256: scorer.identity.sha256,
    blocklist,
    score: (texts) => scorer.scoreWithLabels(texts),
    release: () => scorer.release(),
  };
}
