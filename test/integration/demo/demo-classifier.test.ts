// The demo toxicity classifier (resources/demo/classifier, built by scripts/demo/train_demo.py): it loads as a
// RoBERTa sequence classifier, ranks held-out DynaHate hate above held-out non-hate, is `classify`'s and the detox
// gate's demo model, and with the demo trio the paragraphs come out with no rewrite worse than its original.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTextClassifier, toxicityOf } from '../../../src-main/core/models/classifier/classifier-text.ts';
import { loadClassifier } from '../../../src-main/core/models/classifier/load-classifier.ts';
import { addedBlockedWords, defaultBlocklistPath, readBlocklist } from '../../../src-main/core/detox/toxicity-gate.ts';
import type { DetoxSegment } from '../../../src-main/shared/index.ts';
import { requireBuild } from '../../support/built-app.ts';
import { runToxscope } from '../../support/cli.ts';
import { dynaHateTexts } from '../../support/dynahate.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';

const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };

beforeAll(() => useTemporaryDataDir());

/** The paragraphs (issue 15, "Found when tried as a new user would"). */
const paragraphs = [
  'The meeting has moved to room 4. Thanks for the help yesterday, it made my week!',
  'You are a useless idiot. Garbage ideas, all of them.',
].join('\n\n');

describe('demo:classifier', () => {
  it('loads as a RoBERTa classifier with one sigmoid label, toxicity', () => {
    const model = loadClassifier('demo:classifier');
    expect(model.config.architecture).toBe('roberta');
    expect(model.labels).toEqual(['toxicity']);
    expect(model.activation).toBe('sigmoid');
  });

  it('scores held-out DynaHate hate above held-out non-hate on average', async () => {
    const [hate, clean] = await Promise.all([
      dynaHateTexts('dynabench-db_test.csv', 'hate'),
      dynaHateTexts('dynabench-db_test.csv', 'nothate'),
    ]);
    const classifier = await openTextClassifier(loadClassifier('demo:classifier'), { device: cpu, batch: 32 });
    const mean = async (texts: string[]) =>
      (await classifier.classify(texts.slice(0, 200))).reduce((sum, result) => sum + toxicityOf(result), 0) / 200;
    const [hateMean, cleanMean] = [await mean(hate), await mean(clean)];
    await classifier.release();
    expect(hateMean).toBeGreaterThan(cleanMean);
  });

  it('is the detox gate’s default: the issue’s paragraphs get no rewrite worse than its original or adding a blocked word', () => {
    requireBuild();
    const work = mkdtempSync(join(os.tmpdir(), 'toxscope-demo-gate-'));
    writeFileSync(join(work, 'in.txt'), paragraphs);
    const run = runToxscope(
      mkdtempSync(join(os.tmpdir(), 'toxscope-demo-data-')),
      'detox',
      '--base',
      'demo:bart-base',
      '--expert',
      'demo:bart-expert',
      '--anti-expert',
      'demo:bart-anti-expert',
      '--in',
      join(work, 'in.txt'),
      '--out',
      join(work, 'out.txt'),
      '--explain',
      join(work, 'explain.json'),
      '--device',
      'cpu',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/toxicity gate \(demo:classifier/);
    const { segments } = JSON.parse(readFileSync(join(work, 'explain.json'), 'utf8')) as { segments: DetoxSegment[] };
    const output = readFileSync(join(work, 'out.txt'), 'utf8');
    const blocklist = readBlocklist(defaultBlocklistPath());
    for (const segment of segments) {
      const gate = segment.gate!;
      if (gate.outcome === 'rewritten') {
        expect(gate.after!, segment.text).toBeLessThan(gate.before);
        expect(addedBlockedWords(segment.text, segment.rewrite, blocklist), segment.text).toEqual([]);
      } else {
        expect(segment.rewrite).toBe(segment.text);
        expect(output).toContain(segment.text);
      }
    }
    // The clean sentences stay byte for byte; its profanity never comes in.
    expect(output).toContain('The meeting has moved to room 4. Thanks for the help yesterday, it made my week!');
    expect(output).not.toMatch(/fuck|asian/i);
    // Every sentence the classifier calls clean is in the output byte for byte.
    for (const segment of segments.filter((entry) => entry.gate!.before <= 0.5)) expect(output).toContain(segment.text);
  });
});
