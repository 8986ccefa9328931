// A long detox review built by the review model's own functions (no model run): N distinct sentences in paragraphs,
// scored words, and a rewrite for all but every 12th sentence. The e2e test stores it as the autosaved review to
// check that thousands of cards stay reviewable from the keyboard.

import { presets, type DetoxFrameSegment, type DetoxWord } from '../../src-main/shared/index.ts';
import { addFrame, setRun, startReview, type DetoxReview } from '../../src-renderer/src/lib/detox-review.ts';

const subjects = ['idiot', 'moron', 'fool', 'clown', 'loser', 'jerk', 'creep', 'slob'];

/** Sentence i as written and as rewritten (equal for every 12th: no edit). */
export function longReviewSentence(index: number): { text: string; rewrite: string } {
  const subject = subjects[index % subjects.length]!;
  const text = `Number ${index + 1} is a stupid ${subject} and should shut up.`;
  if (index % 12 === 11) return { text, rewrite: text };
  return { text, rewrite: `Number ${index + 1} is a kind ${subject} and should speak up.` };
}

/** Words of a sentence, scored as MaRCo scores them: "stupid" and "shut" masked, the rest below τ. */
function words(text: string): DetoxWord[] {
  return [...text.matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)].map((match) => {
    const word = match[0];
    const score = /^\W$/u.test(word) ? null : word === 'stupid' ? 3.1 : word === 'shut' ? 1.6 : 0.4;
    return {
      text: word,
      start: match.index,
      end: match.index + word.length,
      divergence: score === null ? null : score * 0.02,
      score,
      masked: score !== null && score >= presets.magr.threshold,
    };
  });
}

/** A finished review of `count` sentences, ten to a paragraph; every decision pending. */
export function longReview(count: number): DetoxReview {
  const paragraphs: string[] = [];
  for (let first = 0; first < count; first += 10)
    paragraphs.push(
      Array.from({ length: Math.min(10, count - first) }, (_, k) => longReviewSentence(first + k).text).join(' '),
    );
  const text = `${paragraphs.join('\n\n')}\n`;
  let cursor = 0;
  const segments: DetoxFrameSegment[] = Array.from({ length: count }, (_, index) => {
    const sentence = longReviewSentence(index);
    const start = text.indexOf(sentence.text, cursor);
    cursor = start + sentence.text.length;
    const scored = words(sentence.text);
    const masked = scored.reduce((out, word) => (word.masked ? out.replace(word.text, '<mask>') : out), sentence.text);
    return {
      text: sentence.text,
      start: 0,
      end: sentence.text.length,
      words: scored,
      masked,
      rewrite: sentence.rewrite,
      occurrences: [start],
    };
  });
  const review = addFrame(
    startReview({
      source: { name: 'long-report.txt', kind: 'txt', text },
      models: { base: 'demo:bart-base', expert: 'demo:bart-expert', antiExpert: 'demo:bart-anti-expert' },
      preset: 'magr',
      settings: presets.magr,
      startedAt: '2026-12-06T07:00:00.000Z',
    }),
    {
      done: count,
      total: count,
      models: { base: 'a'.repeat(64), expert: 'b'.repeat(64), antiExpert: 'c'.repeat(64) },
      segments,
    },
  );
  return setRun(review, { status: 'done' });
}
