// Merges the shards of one compare run into exactly the files a single run writes (issue 18): the float64 sums add
// up (in shard order), so neurons.csv and summary.json come from the same means a single run computes, up to float
// rounding; generations.jsonl is the shards' lines put back in prompt order; manifest.json lists the shards.

import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { raise, type ClassifierIdentity, type CompareRequest } from '../../shared/index.ts';
import { writeFileAtomic, writeFileAtomicStreamedAsync } from '../files/atomic-write.ts';
import { compareClassifierToxicity } from '../interp/classifier-metrics.ts';
import { emptySums, type ActivationSums } from '../interp/collect-activations.ts';
import { layerProjection, meansOf, writeNeuronsCsv } from '../interp/compare-job.ts';
import { neuronResults, summarise, type CompareInputs } from '../interp/derived-results.ts';
import { readCompareShardSums, type CompareShardPartial } from './compare-shard.ts';
import type { ShardSet } from './shard-record.ts';
import { shardRow, shardSize } from './shards.ts';

function addInto(total: ActivationSums, part: ActivationSums): void {
  for (let i = 0; i < total.post.length; i++) total.post[i]! += part.post[i]!;
  for (let layer = 0; layer < total.nLayers; layer++) {
    total.outProjection[layer]! += part.outProjection[layer]!;
    total.outMean[layer]! += part.outMean[layer]!;
  }
  total.positions += part.positions;
  total.prompts += part.prompts;
}

/** One line reader per shard file, read in turn. */
export function lineReaders(paths: readonly string[]): AsyncIterator<string>[] {
  return paths.map((path) =>
    createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })[Symbol.asyncIterator](),
  );
}

/**
 * The lines of the shards' `file` in the order of the whole run (line ⌊i / N⌋ of shard (i mod N) + 1 is line i),
 * each passed to `each`; a shard with more or fewer lines than prompts is refused.
 */
export async function interleaveShardLines(
  set: ShardSet,
  file: string,
  each: (line: string, index: number) => void | Promise<void>,
): Promise<void> {
  const readers = lineReaders(set.folders.map((folder) => join(folder, file)));
  try {
    for (let index = 0; index < set.total; index++) {
      const { shard } = shardRow(index, set.count);
      const next = await readers[shard - 1]!.next();
      if (next.done)
        raise(
          'INPUT_INVALID',
          `${join(set.folders[shard - 1]!, file)} has fewer lines than shard ${shard}'s ${shardSize(set.total, { index: shard, count: set.count })} prompts.`,
          'The shard folder is damaged: run that shard again into an empty folder.',
        );
      await each(next.value, index);
    }
    for (const [k, reader] of readers.entries()) {
      const extra = await reader.next();
      if (!extra.done)
        raise(
          'INPUT_INVALID',
          `${join(set.folders[k]!, file)} has more lines than shard ${k + 1}'s prompts.`,
          'The shard folder is damaged: run that shard again into an empty folder.',
        );
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.return?.()));
  }
}

/** Puts the shards' lines back in prompt order into `out`/`file` (written atomically), passing each line to `each`. */
export async function mergeShardLines(
  set: ShardSet,
  file: string,
  out: string,
  each: (line: string) => void = () => {},
): Promise<void> {
  await writeFileAtomicStreamedAsync(join(out, file), async (write) => {
    let pending: string[] = [];
    await interleaveShardLines(set, file, async (line) => {
      each(line);
      pending.push(`${line}\n`);
      if (pending.length >= 1000) {
        const text = pending.join('');
        pending = [];
        await write(Buffer.from(text, 'utf8'));
      }
    });
    await write(Buffer.from(pending.join(''), 'utf8'));
  });
}

/** A merged manifest's list of shards: where each ran, how, and how long it took. */
export function shardList(set: ShardSet) {
  return set.records.map((record, k) => {
    const manifest = (record.partial as { manifest?: Record<string, unknown> }).manifest ?? {};
    return {
      index: record.shard.index,
      folder: set.folders[k]!,
      items: record.items.inShard,
      createdAt: record.createdAt,
      device: manifest.device ?? null,
      batch: (manifest.settings as { batch?: unknown } | undefined)?.batch ?? manifest.batch ?? null,
      resumedFrom: manifest.resumedFrom ?? null,
      timings: manifest.timings ?? null,
    };
  });
}

/** Σ of a timing over the shards' manifests (the compute a single run would have spent, give or take loading). */
export function summedTimings(set: ShardSet, keys: readonly string[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const key of keys)
    totals[key] = set.records.reduce((sum, record) => {
      const timings = (record.partial as { manifest?: { timings?: Record<string, unknown> } }).manifest?.timings;
      return sum + (typeof timings?.[key] === 'number' ? timings[key] : 0);
    }, 0);
  return totals;
}

export async function mergeCompareShards(set: ShardSet, out: string, started: number): Promise<string[]> {
  const partials = set.records.map((record) => record.partial as CompareShardPartial);
  const first = partials[0]!;
  const { nLayers, dMlp } = first;
  const sumsBase = emptySums(nLayers, dMlp);
  const sumsDpo = emptySums(nLayers, dMlp);
  let statics: ReturnType<typeof readCompareShardSums> | null = null;
  for (const [k, folder] of set.folders.entries()) {
    const shard = readCompareShardSums(folder, nLayers, dMlp);
    if (shard.base.post.length !== nLayers * dMlp || shard.dpo.post.length !== nLayers * dMlp)
      raise(
        'INPUT_INVALID',
        `${folder}'s sums hold ${shard.base.post.length} neurons, not the model's ${nLayers * dMlp}.`,
        'The shard folder is damaged: run that shard again into an empty folder.',
      );
    if (shard.base.prompts !== set.records[k]!.items.inShard)
      raise(
        'INPUT_INVALID',
        `${folder}'s sums count ${shard.base.prompts} prompts, its shard record ${set.records[k]!.items.inShard}.`,
        'The shard folder is damaged: run that shard again into an empty folder.',
      );
    addInto(sumsBase, shard.base);
    addInto(sumsDpo, shard.dpo);
    statics ??= shard;
  }
  const centred = first.weightProcessing === 'center';
  const inputs: CompareInputs = {
    nLayers,
    dMlp,
    meanPre: meansOf(sumsBase),
    meanDpo: meansOf(sumsDpo),
    pre: statics!.pre(),
    dpo: statics!.dpoStatic(),
    layerProjectionPre: layerProjection(sumsBase, first.unitSum, centred),
    layerProjectionDpo: layerProjection(sumsDpo, first.unitSum, centred),
    prompts: sumsBase.prompts,
    positions: sumsBase.positions,
    weightProcessing: first.weightProcessing,
    neuronContribution: first.neuronContribution,
  };
  const results = neuronResults(inputs);
  writeNeuronsCsv(join(out, 'neurons.csv'), inputs, results);

  const classifier: ClassifierIdentity | null = first.classifier;
  const scores = { base: [] as number[], dpo: [] as number[] };
  await mergeShardLines(set, 'generations.jsonl', out, (line) => {
    if (!classifier) return;
    const row = JSON.parse(line) as { baseToxicity?: unknown; dpoToxicity?: unknown };
    if (typeof row.baseToxicity !== 'number' || typeof row.dpoToxicity !== 'number')
      raise(
        'INPUT_INVALID',
        'A shard continuation has no classifier toxicity although its shard record names a classifier.',
        'The shard folders are damaged: run the shards again into empty folders.',
      );
    scores.base.push(row.baseToxicity);
    scores.dpo.push(row.dpoToxicity);
  });
  const summary = {
    ...summarise(inputs, results),
    classifier: classifier ? compareClassifierToxicity(classifier, scores.base, scores.dpo) : null,
  };
  writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');

  const manifest = first.manifest as Record<string, unknown> & {
    prompts: Record<string, unknown>;
    settings: Record<string, unknown>;
    request: CompareRequest;
  };
  const batches = new Set(partials.map((partial) => partial.batch));
  const { shard: _, ...request } = manifest.request;
  const merged = {
    ...manifest,
    createdAt: new Date().toISOString(),
    prompts: { ...manifest.prompts, count: set.total },
    settings: { ...manifest.settings, batch: batches.size === 1 ? first.batch : null },
    resumedFrom: 0,
    request: { ...request, out },
    timings: { ...summedTimings(set, ['totalSeconds', 'generationSeconds']), mergeSeconds: 0 },
    shards: shardList(set),
  };
  merged.timings.mergeSeconds = (performance.now() - started) / 1000;
  writeFileAtomic(join(out, 'manifest.json'), JSON.stringify(merged, null, 2) + '\n');
  return ['neurons.csv', 'summary.json', 'generations.jsonl', 'manifest.json'];
}
