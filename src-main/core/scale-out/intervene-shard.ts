// `intervene --shard K/N` and its merge (issue 18): a shard generates and scores its share of the prompts and writes
// generations.jsonl in its own prompt order with shard.json; perplexity and token F1 are measured once, by shard 1
// (they read their own fixed text, not the prompts). The merge puts the lines back in prompt order and computes
// summary.json from them exactly as a single run does.

import { join } from 'node:path';
import {
  raise,
  type ClassifierIdentity,
  type InterveneRequest,
  type InterveneSummary,
  type ShardSpec,
} from '../../shared/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { classifierToxicity } from '../interp/classifier-metrics.ts';
import { mergeShardLines, shardList, summedTimings } from './compare-merge.ts';
import { versionIdentity, writeShardRecord, type ShardSet } from './shard-record.ts';

/** shard.json's `partial` for intervene. */
export interface InterveneShardPartial {
  /** The manifest.json one run would write (the merge starts from shard 1's). */
  manifest: Record<string, unknown>;
  /** This shard's own summary: the merge takes the scorer, intervention, perplexity and F1 from shard 1's. */
  summary: InterveneSummary;
  classifier: ClassifierIdentity | null;
  batch: number;
}

export interface InterveneShardData {
  shard: ShardSpec;
  runTotal: number;
  total: number;
  formatVersion: number;
  manifest: Record<string, unknown> & {
    model: { sha256: string };
    scorer: { sha256: string };
    probe: { sha256: string; hook: string };
    prompts: { sha256: string };
    pplText: { sha256: string } | null;
    f1Data: { sha256: string } | null;
  };
  request: InterveneRequest;
  summary: InterveneSummary;
  classifier: ClassifierIdentity | null;
}

/** Whether this shard measures perplexity and F1 (shard 1; a run without shards always does). */
export const measuresFixedMetrics = (shard: ShardSpec | undefined) => !shard || shard.index === 1;

export function writeInterveneShard(out: string, data: InterveneShardData): void {
  const { manifest, request } = data;
  writeShardRecord<InterveneShardPartial>(out, {
    command: 'intervene',
    shard: data.shard,
    createdAt: new Date().toISOString(),
    items: { total: data.runTotal, inShard: data.total },
    identity: {
      'ToxScope version': versionIdentity(data.formatVersion),
      models: { model: manifest.model.sha256, scorer: manifest.scorer.sha256 },
      probe: { sha256: manifest.probe.sha256, hook: manifest.probe.hook },
      classifier: data.classifier ? { sha256: data.classifier.sha256, label: data.classifier.label } : null,
      prompts: { sha256: manifest.prompts.sha256, column: request.column ?? null, count: data.runTotal },
      settings: {
        intervention: request.intervention,
        maxNewTokens: request.maxNewTokens,
        maxPromptTokens: request.maxPromptTokens,
        prependBos: request.prependBos,
        pplText: manifest.pplText?.sha256 ?? null,
        f1Data: manifest.f1Data?.sha256 ?? null,
      },
    },
    partial: { manifest, summary: data.summary, classifier: data.classifier, batch: request.batch },
  });
}

export async function mergeInterveneShards(set: ShardSet, out: string, started: number): Promise<string[]> {
  const partials = set.records.map((record) => record.partial as InterveneShardPartial);
  const first = partials[0]!;
  // [prompts], in prompt order: each continuation's probe logit (null for an empty one) and classifier score.
  const probeScores: (number | null)[] = [];
  const classifierScores: number[] = [];
  await mergeShardLines(set, 'generations.jsonl', out, (line) => {
    const row = JSON.parse(line) as { toxicity?: unknown; classifierToxicity?: unknown };
    probeScores.push(typeof row.toxicity === 'number' ? row.toxicity : null);
    if (first.classifier) {
      if (typeof row.classifierToxicity !== 'number')
        raise(
          'INPUT_INVALID',
          'A shard continuation has no classifier toxicity although its shard record names a classifier.',
          'The shard folders are damaged: run the shards again into empty folders.',
        );
      classifierScores.push(row.classifierToxicity);
    }
  });
  // As intervene-job.ts computes them, in the same order, so equal scores give equal numbers.
  const scored = probeScores.filter((score): score is number => score !== null);
  const summary: InterveneSummary = {
    toxicity: {
      probe: scored.reduce((sum, value) => sum + value, 0) / Math.max(1, scored.length),
      probeFractionAbove: scored.filter((value) => value > 0).length / Math.max(1, scored.length),
      scored: scored.length,
      scorer: first.summary.toxicity.scorer,
      classifier: first.classifier ? classifierToxicity(first.classifier, classifierScores) : null,
    },
    perplexity: first.summary.perplexity,
    f1: first.summary.f1,
    prompts: set.total,
    intervention: first.summary.intervention,
  };
  writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const manifest = first.manifest as Record<string, unknown> & {
    prompts: Record<string, unknown>;
    settings: Record<string, unknown>;
  };
  const batches = new Set(partials.map((partial) => partial.batch));
  const merged = {
    ...manifest,
    createdAt: new Date().toISOString(),
    prompts: { ...manifest.prompts, count: set.total },
    settings: { ...manifest.settings, batch: batches.size === 1 ? first.batch : null },
    timings: { ...summedTimings(set, ['totalSeconds']), mergeSeconds: (performance.now() - started) / 1000 },
    shards: shardList(set),
  };
  writeFileAtomic(join(out, 'manifest.json'), JSON.stringify(merged, null, 2) + '\n');
  return ['summary.json', 'generations.jsonl', 'manifest.json'];
}
