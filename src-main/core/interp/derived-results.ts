// Everything the paper derives from per-neuron means (spec dpo-neurons.md §4.1, §5, §8): projections P = m̄·s, the
// change Δ = P_pre − P_dpo, the four neuron groups in both definitions with their mirrors and shares, gross and net
// reduction, the toxic-neuron share, per-layer sums, 50-neuron chunked rank sums, the cumulative curve, relative
// activation change, correlations, and the layer-level projection with its consistency check. Pure functions.

import {
  groupsV1,
  groupsV3,
  rankToxicNeurons,
  reductionGroupsV1,
  type CompareSummary,
  type NeuronContribution,
  type GroupStatistics,
  type GroupV1,
  type GroupV3,
  type WeightProcessing,
} from '../../shared/index.ts';
import type { StaticNeuronQuantities } from './neuron-statistics.ts';

export interface CompareInputs {
  nLayers: number;
  dMlp: number;
  meanPre: Float64Array; // [n_layers · d_mlp]
  meanDpo: Float64Array;
  pre: StaticNeuronQuantities;
  dpo: StaticNeuronQuantities;
  /** Measured mean of each layer's MLP output projected on ŵ (L^ℓ of §4.1, b_out included). */
  layerProjectionPre: Float64Array; // [n_layers]
  layerProjectionDpo: Float64Array;
  prompts: number;
  positions: number;
  weightProcessing: WeightProcessing;
  neuronContribution: NeuronContribution;
}

export interface NeuronResults {
  projPre: Float64Array;
  projDpo: Float64Array;
  delta: Float64Array;
  deltaAct: Float64Array;
  groupV1: (GroupV1 | '')[];
  groupV3: (GroupV3 | '')[];
}

export function groupOfV1(cos: number, meanPre: number, deltaAct: number): GroupV1 | '' {
  if (cos === 0 || deltaAct === 0 || Number.isNaN(deltaAct)) return '';
  const toxic = cos > 0;
  const positive = meanPre >= 0;
  const dampened = deltaAct > 0; // activation lower after DPO
  if (toxic) return positive ? (dampened ? 'TP-' : 'TP+') : dampened ? 'TN+' : 'TN-';
  return positive ? (dampened ? 'AP-' : 'AP+') : dampened ? 'AN+' : 'AN-';
}

export function groupOfV3(cos: number, meanPre: number, delta: number): GroupV3 | '' {
  if (!(delta > 0)) return '';
  if (cos > 0) return meanPre > 0 ? 'TP↓' : 'TN↓';
  return meanPre > 0 ? 'AP↓' : 'AN↓';
}

export function neuronResults(inputs: CompareInputs): NeuronResults {
  const count = inputs.nLayers * inputs.dMlp;
  const projPre = new Float64Array(count);
  const projDpo = new Float64Array(count);
  const delta = new Float64Array(count);
  const deltaAct = new Float64Array(count);
  const groupV1: (GroupV1 | '')[] = new Array(count);
  const groupV3: (GroupV3 | '')[] = new Array(count);
  for (let index = 0; index < count; index++) {
    projPre[index] = inputs.meanPre[index]! * inputs.pre.s[index]!;
    projDpo[index] = inputs.meanDpo[index]! * inputs.dpo.s[index]!;
    delta[index] = projPre[index]! - projDpo[index]!;
    deltaAct[index] = inputs.meanPre[index]! - inputs.meanDpo[index]!;
    groupV1[index] = groupOfV1(inputs.pre.cos[index]!, inputs.meanPre[index]!, deltaAct[index]!);
    groupV3[index] = groupOfV3(inputs.pre.cos[index]!, inputs.meanPre[index]!, delta[index]!);
  }
  return { projPre, projDpo, delta, deltaAct, groupV1, groupV3 };
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let index = 0; index < n; index++) {
    meanX += x[index]! / n;
    meanY += y[index]! / n;
  }
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let index = 0; index < n; index++) {
    const dx = x[index]! - meanX;
    const dy = y[index]! - meanY;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  return varianceX > 0 && varianceY > 0 ? covariance / Math.sqrt(varianceX * varianceY) : 0;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * fraction;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function meanAndSd(values: number[]): { mean: number; sd: number } {
  if (values.length === 0) return { mean: 0, sd: 0 };
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

const emptyGroups = <G extends string>(groups: readonly G[]) =>
  Object.fromEntries(groups.map((group) => [group, 0])) as Record<G, number>;

export function summarise(inputs: CompareInputs, results: NeuronResults, topN = 128): CompareSummary {
  const { nLayers, dMlp } = inputs;
  const count = nLayers * dMlp;
  const { delta, deltaAct, groupV1, groupV3 } = results;

  let gross = 0;
  let net = 0;
  let reducing = 0;
  for (const value of delta) {
    net += value;
    if (value > 0) {
      gross += value;
      reducing++;
    }
  }

  const groupSums = emptyGroups(groupsV1);
  const groupCounts = emptyGroups(groupsV1);
  const v3Sums = emptyGroups(groupsV3);
  const v3Counts = emptyGroups(groupsV3);
  const layers = Array.from({ length: nLayers }, (_, layer) => ({
    layer,
    reduced: 0,
    increased: 0,
    byGroup: emptyGroups(groupsV1),
    byGroupV3: emptyGroups(groupsV3),
  }));
  for (let index = 0; index < count; index++) {
    const layer = layers[Math.floor(index / dMlp)]!;
    const value = delta[index]!;
    if (value > 0) layer.reduced += value;
    else layer.increased -= value;
    const g1 = groupV1[index];
    if (g1) {
      groupSums[g1] += value;
      groupCounts[g1]++;
      layer.byGroup[g1] += value;
    }
    const g3 = groupV3[index];
    if (g3) {
      v3Sums[g3] += value;
      v3Counts[g3]++;
      layer.byGroupV3[g3] += value;
    }
  }
  const reductionTotal = reductionGroupsV1.reduce((sum, group) => sum + groupSums[group], 0);
  const mirrorTotal = groupsV1
    .filter((group) => !reductionGroupsV1.includes(group))
    .reduce((sum, group) => sum + groupSums[group], 0);
  const groups = Object.fromEntries(
    groupsV1.map((group) => {
      const denominator = reductionGroupsV1.includes(group) ? reductionTotal : mirrorTotal;
      return [
        group,
        {
          count: groupCounts[group],
          sumDelta: groupSums[group],
          share: denominator !== 0 ? groupSums[group] / denominator : 0,
        },
      ];
    }),
  ) as Record<GroupV1, GroupStatistics>;
  const groupsV3Stats = Object.fromEntries(
    groupsV3.map((group) => [
      group,
      { count: v3Counts[group], sumDelta: v3Sums[group], share: gross > 0 ? v3Sums[group] / gross : 0 },
    ]),
  ) as Record<GroupV3, GroupStatistics>;

  // The toxic-neuron share (§5.3): top-N by cosine, dampened and positively activated, over the gross reduction.
  const top = rankToxicNeurons(inputs.pre, topN);
  let toxicSum = 0;
  let toxicCount = 0;
  for (const { layer, neuron } of top) {
    const index = layer * dMlp + neuron;
    if (inputs.meanPre[index]! > 0 && deltaAct[index]! > 0) {
      toxicSum += delta[index]!;
      toxicCount++;
    }
  }

  // Ranked by Δ: the cumulative curve and the chunked group sums.
  const order = Array.from({ length: count }, (_, index) => index).sort((a, b) => delta[b]! - delta[a]! || a - b);
  const step = Math.max(1, Math.ceil(count / 1000));
  const ranks: number[] = [];
  const values: number[] = [];
  let running = 0;
  let peakRank = 0;
  let peakValue = -Infinity;
  order.forEach((index, rank) => {
    running += delta[index]!;
    if (running > peakValue) {
      peakValue = running;
      peakRank = rank + 1;
    }
    if (rank % step === 0 || rank === count - 1) {
      ranks.push(rank + 1);
      values.push(running);
    }
  });
  const chunkSize = 50;
  const chunkCount = Math.ceil(Math.min(count, 10_000) / chunkSize);
  const chunks = Object.fromEntries(groupsV3.map((group) => [group, new Array<number>(chunkCount).fill(0)])) as Record<
    GroupV3,
    number[]
  >;
  for (let rank = 0; rank < Math.min(count, 10_000); rank++) {
    const index = order[rank]!;
    const group = groupV3[index];
    if (group) chunks[group][Math.floor(rank / chunkSize)]! += delta[index]!;
  }

  // Relative activation change in percent (positive = the activation's value dropped), clipped to 10–90%.
  const relative: { value: number; index: number }[] = [];
  for (let index = 0; index < count; index++) {
    const mean = inputs.meanPre[index]!;
    if (mean !== 0) relative.push({ value: (100 * deltaAct[index]!) / mean, index });
  }
  const sortedRelative = relative.map((entry) => entry.value).sort((a, b) => a - b);
  const clip: [number, number] = [percentile(sortedRelative, 0.1), percentile(sortedRelative, 0.9)];
  const clipped = relative.filter((entry) => entry.value >= clip[0] && entry.value <= clip[1]);
  const overall = meanAndSd(clipped.map((entry) => entry.value));
  const binCount = 40;
  const width = (clip[1] - clip[0]) / binCount || 1;
  const edges = Array.from({ length: binCount + 1 }, (_, bin) => clip[0] + bin * width);
  const histogram = new Array<number>(binCount).fill(0);
  const countsByGroupV3 = Object.fromEntries(groupsV3.map((group) => [group, new Array<number>(binCount).fill(0)]));
  for (const entry of clipped) {
    const bin = Math.min(binCount - 1, Math.floor((entry.value - clip[0]) / width));
    histogram[bin]!++;
    const group = groupV3[entry.index];
    if (group) countsByGroupV3[group]![bin]!++;
  }
  const byGroupV3 = Object.fromEntries(
    groupsV3.map((group) => {
      const values = clipped.filter((entry) => groupV3[entry.index] === group).map((entry) => entry.value);
      return [group, { ...meanAndSd(values), count: values.length }];
    }),
  ) as Record<GroupV3, { mean: number; sd: number; count: number }>;

  // Layer-level projection and the §4.1 consistency check.
  let check = 0;
  const layerProjection = Array.from({ length: nLayers }, (_, layer) => {
    let neuronSumBase = 0;
    let neuronSumDpo = 0;
    for (let neuron = 0; neuron < dMlp; neuron++) {
      neuronSumBase += results.projPre[layer * dMlp + neuron]!;
      neuronSumDpo += results.projDpo[layer * dMlp + neuron]!;
    }
    const row = {
      layer,
      base: inputs.layerProjectionPre[layer]!,
      dpo: inputs.layerProjectionDpo[layer]!,
      biasBase: inputs.pre.biasProjection[layer]!,
      biasDpo: inputs.dpo.biasProjection[layer]!,
      neuronSumBase,
      neuronSumDpo,
    };
    check = Math.max(
      check,
      Math.abs(neuronSumBase + row.biasBase - row.base),
      Math.abs(neuronSumDpo + row.biasDpo - row.dpo),
    );
    return row;
  });

  let positive = 0;
  for (const mean of inputs.meanPre) if (mean > 0) positive++;

  return {
    prompts: inputs.prompts,
    positions: inputs.positions,
    grossReduction: gross,
    netReduction: net,
    groups,
    groupsV3: groupsV3Stats,
    toxicNeuronShare: { topN, count: toxicCount, sumDelta: toxicSum, share: gross > 0 ? toxicSum / gross : 0 },
    layers,
    weightProcessing: inputs.weightProcessing,
    neuronContribution: inputs.neuronContribution,
    neuronsReducing: reducing,
    chunks: { chunkSize, byGroup: chunks },
    cumulative: { ranks, values, peakRank, peakValue },
    relativeActivationChange: {
      clip,
      mean: overall.mean,
      sd: overall.sd,
      histogram: { edges, counts: histogram, countsByGroupV3: countsByGroupV3 as Record<GroupV3, number[]> },
      byGroupV3,
    },
    correlations: {
      deltaActVsCos: pearson(deltaAct, inputs.pre.cos),
      deltaActVsMeanPre: pearson(deltaAct, inputs.meanPre),
    },
    activationSign: { positivePre: positive / count, negativePre: (count - positive) / count },
    layerProjection,
    layerProjectionCheck: check,
  };
}
