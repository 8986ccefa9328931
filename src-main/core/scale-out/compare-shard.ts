// What `compare --shard K/N` leaves in its folder instead of the finished files (issue 18): the running float64 sums
// of both models and the static neuron quantities (shard-sums.safetensors), the shard's continuations in its own
// prompt order (generations.jsonl) and shard.json. Only `merge` reads them; the merge is compare-merge.ts.

import { join } from 'node:path';
import type { ClassifierIdentity, NeuronContribution, ShardSpec, WeightProcessing } from '../../shared/index.ts';
import type { ActivationSums } from '../interp/collect-activations.ts';
import type { StaticNeuronQuantities } from '../interp/neuron-statistics.ts';
import { openSafetensors, writeSafetensors, type WritableTensor } from '../weights/safetensors.ts';
import { versionIdentity, writeShardRecord, type ShardIdentity } from './shard-record.ts';

export const compareShardSumsName = 'shard-sums.safetensors';

/** shard.json's `partial` for compare. */
export interface CompareShardPartial {
  /** The manifest.json this shard's prompts would have had as a run of their own (the merge starts from shard 1's). */
  manifest: Record<string, unknown>;
  nLayers: number;
  dMlp: number;
  /** Σ ŵ, which centres the layer projections under weight processing `center`. */
  unitSum: number;
  neuronContribution: NeuronContribution;
  weightProcessing: WeightProcessing;
  /** The classifier that scored the continuations (their scores are in generations.jsonl); null without one. */
  classifier: ClassifierIdentity | null;
  /** The --batch it ran at, for the merged manifest's shard list. */
  batch: number;
}

/** The inputs of a compare run that decide its numbers, as compare-job.ts hashes them for resume. */
export interface CompareRunSettings {
  formatVersion: number;
  base: string;
  dpo: string;
  probe: string;
  prompts: string;
  column: string | null;
  maxNewTokens: number;
  maxPromptTokens: number;
  prependBos: boolean;
}

export interface CompareShardData {
  shard: ShardSpec;
  /** Prompts in the whole run (after --limit) and in this shard. */
  runTotal: number;
  total: number;
  settings: CompareRunSettings;
  manifest: Record<string, unknown>;
  sums: { base: ActivationSums; dpo: ActivationSums };
  statics: { pre: StaticNeuronQuantities; dpo: StaticNeuronQuantities };
  unitSum: number;
  neuronContribution: NeuronContribution;
  weightProcessing: WeightProcessing;
  classifier: ClassifierIdentity | null;
  batch: number;
}

const sumsTensors = (label: string, sums: ActivationSums): WritableTensor[] => [
  { name: `${label}.post`, dtype: 'F64', shape: [sums.post.length], data: sums.post },
  { name: `${label}.out_projection`, dtype: 'F64', shape: [sums.nLayers], data: sums.outProjection },
  { name: `${label}.out_mean`, dtype: 'F64', shape: [sums.nLayers], data: sums.outMean },
  { name: `${label}.counts`, dtype: 'F64', shape: [2], data: Float64Array.of(sums.positions, sums.prompts) },
];

const staticTensors = (label: string, quantities: StaticNeuronQuantities): WritableTensor[] => [
  { name: `${label}.cos`, dtype: 'F64', shape: [quantities.cos.length], data: quantities.cos },
  { name: `${label}.s`, dtype: 'F64', shape: [quantities.s.length], data: quantities.s },
  {
    name: `${label}.bias_projection`,
    dtype: 'F64',
    shape: [quantities.biasProjection.length],
    data: quantities.biasProjection,
  },
];

/** The identity every shard of one compare run shares (hashes and settings, never paths). */
export function compareShardIdentity(
  settings: CompareRunSettings,
  runTotal: number,
  weightProcessing: WeightProcessing,
  classifier: ClassifierIdentity | null,
): ShardIdentity {
  return {
    'ToxScope version': versionIdentity(settings.formatVersion),
    models: { base: settings.base, dpo: settings.dpo },
    probe: { sha256: settings.probe },
    classifier: classifier ? { sha256: classifier.sha256, label: classifier.label } : null,
    prompts: { sha256: settings.prompts, column: settings.column, count: runTotal },
    settings: {
      maxNewTokens: settings.maxNewTokens,
      maxPromptTokens: settings.maxPromptTokens,
      prependBos: settings.prependBos,
      weightProcessing,
    },
  };
}

/** Writes the shard's sums and shard.json (generations.jsonl is already written, in the shard's prompt order). */
export function writeCompareShard(out: string, data: CompareShardData): void {
  writeSafetensors(join(out, compareShardSumsName), [
    ...sumsTensors('base', data.sums.base),
    ...sumsTensors('dpo', data.sums.dpo),
    ...staticTensors('static_pre', data.statics.pre),
    ...staticTensors('static_dpo', data.statics.dpo),
  ]);
  const partial: CompareShardPartial = {
    manifest: data.manifest,
    nLayers: data.sums.base.nLayers,
    dMlp: data.sums.base.dMlp,
    unitSum: data.unitSum,
    neuronContribution: data.neuronContribution,
    weightProcessing: data.weightProcessing,
    classifier: data.classifier,
    batch: data.batch,
  };
  writeShardRecord(out, {
    command: 'compare',
    shard: data.shard,
    createdAt: new Date().toISOString(),
    items: { total: data.runTotal, inShard: data.total },
    identity: compareShardIdentity(data.settings, data.runTotal, data.weightProcessing, data.classifier),
    partial,
  });
}

/** A shard's sums and static quantities, read back. */
export function readCompareShardSums(folder: string, nLayers: number, dMlp: number) {
  const file = openSafetensors(join(folder, compareShardSumsName));
  const sums = (label: string): ActivationSums => {
    const counts = file.readFloat64(`${label}.counts`);
    return {
      nLayers,
      dMlp,
      post: file.readFloat64(`${label}.post`),
      outProjection: file.readFloat64(`${label}.out_projection`),
      outMean: file.readFloat64(`${label}.out_mean`),
      positions: counts[0]!,
      prompts: counts[1]!,
    };
  };
  const statics = (label: string): StaticNeuronQuantities => ({
    nLayers,
    dMlp,
    cos: file.readFloat64(`${label}.cos`),
    s: file.readFloat64(`${label}.s`),
    biasProjection: file.readFloat64(`${label}.bias_projection`),
  });
  return {
    base: sums('base'),
    dpo: sums('dpo'),
    pre: () => statics('static_pre'),
    dpoStatic: () => statics('static_dpo'),
  };
}
