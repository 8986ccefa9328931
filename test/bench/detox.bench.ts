// The detox benchmark (issue 5): masking and rewriting 50 real sentences of 15–30 words with bart-base-sized random
// models, ToxScope against MaRCo's algorithm in PyTorch as released (uncached) and cached, same machine, same
// threads, same token ids (ToxScope's masking decisions are handed to the baselines so all do the same work).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { infill } from '../../src-main/core/detox/infiller.ts';
import { maskSentences, maskWords } from '../../src-main/core/detox/masker.ts';
import { presets, type DetoxSettings } from '../../src-main/shared/index.ts';
import { isPunctuationOnly, segmentWords } from '../../src-main/core/detox/words.ts';
import { BartSession } from '../../src-main/core/models/bart/bart-session.ts';
import { loadBartModel } from '../../src-main/core/models/load-model.ts';
import type { Tokenizer } from '../../src-main/core/tokenizer/tokenizer.ts';
import { dynaHateTexts } from '../support/dynahate.ts';
import { bartBaseShape, writeTinyBartFolder } from '../support/tiny-bart.ts';
import { speedup, type BenchRow } from './engine-host.bench.ts';
import { blasCoreType, cpuFlags, hasTorch, python, torchEnv } from './torch-baseline.ts';

const here = new URL('.', import.meta.url).pathname;
/** Short rewrites keep the uncached baseline's O(T²) decoding inside minutes; every side uses the same limit. */
const maxLength = 32;

/**
 * work.json for marco_torch_bench.py: the same work ToxScope did, as token ids: each candidate word's masked
 * sentence (masking) and each sentence's final masked form (rewriting, null when nothing was masked).
 */
/** work.json, what marco_torch_bench.py reads: each sentence's token ids, its masked ids and its candidates. */
export interface MarcoWork {
  folders: string[];
  settings: DetoxSettings;
  sentences: { ids: number[]; masked: number[] | null; variants: { ids: number[]; position: number }[] }[];
}

export async function writeMarcoWork(
  work: string,
  folders: string[],
  settings: DetoxSettings,
  masked: { text: string; masked: string }[],
  tokenizer: Tokenizer,
): Promise<MarcoWork> {
  const maskId = tokenizer.tokenToId('<mask>')!;
  const workJson: MarcoWork = {
    folders,
    settings,
    sentences: await Promise.all(
      masked.map(async (sentence) => {
        const words = segmentWords(sentence.text);
        const variants = await tokenizer.encodeBatch(
          words.flatMap((word, index) =>
            isPunctuationOnly(word.text) ? [] : [maskWords(sentence.text, words, [index])],
          ),
        );
        return {
          ids: await tokenizer.encode(sentence.text),
          masked: sentence.masked !== sentence.text ? await tokenizer.encode(sentence.masked) : null,
          variants: variants.map((ids) => ({ ids, position: ids.indexOf(maskId) })),
        };
      }),
    ),
  };
  writeFileSync(join(work, 'work.json'), JSON.stringify(workJson));
  return workJson;
}

/** The random bart-base-sized base, expert and anti-expert folders (written on first use, ≈ 560 MB each). */
export function bartBaseFolders(log: (line: string) => void): string[] {
  const work = join(os.tmpdir(), 'toxscope-bench-bart-base');
  const folders = ['base', 'expert', 'anti'].map((name) => join(work, name));
  folders.forEach((folder, index) => {
    if (!existsSync(join(folder, 'model.safetensors'))) {
      log(`writing a bart-base-sized random ${['base', 'expert', 'anti-expert'][index]} (≈ 560 MB)`);
      mkdirSync(folder, { recursive: true });
      writeTinyBartFolder(1000 + index, folder, bartBaseShape);
    }
  });
  return folders;
}

export async function sentences(count: number): Promise<string[]> {
  const texts = await dynaHateTexts('dynabench-db_dev.csv', 'hate');
  return texts
    .filter((text) => {
      const words = text.split(/\s+/).length;
      return words >= 15 && words <= 30;
    })
    .slice(0, count);
}

export async function benchDetox(threads: number, log: (line: string) => void): Promise<BenchRow[]> {
  if (!hasTorch()) return [];
  const folders = bartBaseFolders(log);
  const work = join(os.tmpdir(), 'toxscope-bench-bart-base');
  const texts = await sentences(50);
  // Random weights give nearly uniform divergences, so τ = 1.2 would mask nothing; τ = 1.0 masks the words above the
  // sentence mean, so the rewriting step is measured too.
  const settings = { ...presets.magr, maxLength, threshold: 1.0 };
  const device = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
  const models = folders.map((folder) => loadBartModel(folder));
  const tokenizer = models[0]!.tokenizer.tokenizer;
  log('detox: ToxScope, 50 sentences');
  const started = performance.now();
  const sessions = await Promise.all(
    models.map((model) =>
      BartSession.open(model, {
        decoder: { hooks: [], hookPositions: 'last', logits: 'gather', kvCache: true },
        device,
        threads,
        batch: 256,
        length: maxLength,
      }),
    ),
  );
  const [base, expert, anti] = sessions as [BartSession, BartSession, BartSession];
  const masked = [];
  for (let start = 0; start < texts.length; start += 8) {
    const batch = texts.slice(start, start + 8);
    const scored = await maskSentences(batch, {
      tokenizer,
      expert,
      anti,
      threshold: settings.threshold,
      divergence: settings.divergence,
      indexQuirk: false,
      rowsPerBatch: 64,
    });
    const toRewrite = scored.filter((sentence) => sentence.masked !== sentence.text);
    if (toRewrite.length)
      await infill(
        toRewrite.map((sentence) => sentence.text),
        toRewrite.map((sentence) => sentence.masked),
        { tokenizer, base, expert, anti, settings },
      );
    masked.push(...scored);
  }
  const oursSeconds = (performance.now() - started) / 1000;
  for (const session of sessions) await session.release();

  const workJson = await writeMarcoWork(work, folders, settings, masked, tokenizer);
  const baseline = (variant: string, count: number) => {
    log(`detox: PyTorch ${variant}, ${count} sentences`);
    const output = execFileSync(
      python,
      [
        join(here, 'marco_torch_bench.py'),
        '--work',
        work,
        '--threads',
        String(threads),
        '--variant',
        variant,
        '--sentences',
        String(count),
      ],
      { encoding: 'utf8', env: torchEnv(blasCoreType(cpuFlags())) },
    );
    return JSON.parse(output.trim().split('\n').at(-1)!) as {
      seconds: number;
      sentencesPerSecond: number;
      torch: string;
    };
  };
  const cached = baseline('cached', 50);
  const released = baseline('released', 10);
  const ours = texts.length / oursSeconds;
  const perSentence = (rate: number) => 1000 / rate;
  const rewritten = workJson.sentences.filter((sentence) => sentence.masked !== null).length;
  return [
    {
      name: `detox, 50 sentences of 15–30 words (${rewritten} rewritten), masking + rewriting, ms per sentence`,
      value: perSentence(ours),
      unit: 'ms',
      baseline: `MaRCo as released in PyTorch ${released.torch} (one word per pass, no cache; 10 sentences)`,
      baselineValue: perSentence(released.sentencesPerSecond),
      comparison: speedup(perSentence(ours), perSentence(released.sentencesPerSecond)),
      note: `${ours.toFixed(2)} vs ${released.sentencesPerSecond.toFixed(2)} sentences/s; max-length ${maxLength}; ToxScope's time includes opening the sessions`,
    },
    {
      name: 'detox, same 50 sentences',
      value: perSentence(ours),
      unit: 'ms',
      baseline: `the same algorithm in PyTorch, batched masking and KV-cached rewriting`,
      baselineValue: perSentence(cached.sentencesPerSecond),
      comparison: speedup(perSentence(ours), perSentence(cached.sentencesPerSecond)),
      note: `${ours.toFixed(2)} vs ${cached.sentencesPerSecond.toFixed(2)} sentences/s`,
    },
  ];
}
