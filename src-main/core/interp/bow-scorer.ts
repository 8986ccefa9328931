// The demo's independent toxicity scorer: a bag-of-words logistic regression trained on the toxicity labels by
// scripts/demo/train_demo.py (resources/demo/bow-scorer.json). It judges continuations and rewrites without using the
// probe or the models under study.

import { readFileSync } from 'node:fs';
import { raise } from '../../shared/index.ts';

export interface BowScorer {
  /** Probability that the text is toxic. */
  score(text: string): number;
}

export function loadBowScorer(path: string): BowScorer {
  let json: { words?: unknown; weights?: unknown; bias?: unknown };
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as typeof json;
  } catch (error) {
    return raise(
      'INPUT_INVALID',
      `Cannot read the scorer ${path}: ${(error as Error).message}.`,
      'Rebuild the demo models with `npm run demo:train`.',
    );
  }
  const words = json.words as string[];
  const weights = json.weights as number[];
  const bias = json.bias as number;
  const index = new Map(words.map((word, position) => [word, position]));
  return {
    score(text) {
      let total = 0;
      const counts = new Map<number, number>();
      for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) {
        const position = index.get(word);
        if (position === undefined) continue;
        counts.set(position, (counts.get(position) ?? 0) + 1);
        total++;
      }
      const norm = Math.sqrt(Math.max(1, total));
      let logit = bias;
      for (const [position, count] of counts) logit += (weights[position]! * count) / norm;
      return 1 / (1 + Math.exp(-logit));
    },
  };
}
