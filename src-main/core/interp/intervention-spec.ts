// Intervention specs (cli.md §6) parsed into the graph's intervention tensors, so no intervention needs a new graph:
//   ablate:top=N[,positive=DIR]      zero the writes of the top-N toxic neurons (§6.2), optionally only those with
//                                    positive pre-DPO mean activation in a compare output
//   patch:csv=FILE                   rows layer,neuron,value: hook_post := value at every generated position (§6.3)
//   patch:groups=TP-+AN-,from=DIR    those groups of a compare output, to their DPO means
//   patch:neurons=L19N770+L3N2,from=DIR
//                                    those neurons (the explorer's selection), to their DPO means in a compare output
//   edit:alpha=A,beta=B[,mode=scale|mean][,from=DIR]
//                                    tuning-free activation editing (§6.4b): the selected neurons' activations are
//                                    scaled by (1 ∓ α) at every generated position (mode=scale, the default: α = 0 is
//                                    the identity), or set to (1 ∓ α)·m̄_pre there (mode=mean, the reference code);
//                                    toxic=…+…,nontoxic=…+… replace the seed words of the toxic-embedding direction
//   subtract:alpha=A[,layer=L]       subtract A·ŵ from a layer's MLP output (Lee et al. §6.1; default the last layer)
//   scale-keys:top=N,factor=F        multiply the key vectors of the top-N toxic neurons (the un-align experiment)
//   none                             no intervention

import { existsSync, readFileSync } from 'node:fs';
import { groupsV1, groupsV3, raise, rankToxicNeurons } from '../../shared/index.ts';
import { parseCsv } from '../files/csv.ts';
import { noInterventions, type DecoderInterventions } from '../models/decoder/decoder-session.ts';
import type { LoadedModel } from '../models/load-model.ts';
import { readCompareNeurons } from './compare-output.ts';
import { cosinesWith, staticNeuronQuantities, toxicEmbeddingDirection } from './neuron-statistics.ts';
import type { Probe } from './probe.ts';

export type InterventionSpec =
  | { kind: 'none' }
  | { kind: 'ablate'; top: number; positiveFrom?: string }
  | { kind: 'patch-csv'; csv: string }
  | { kind: 'patch-groups'; groups: string[]; from: string }
  | { kind: 'patch-neurons'; neurons: { layer: number; neuron: number }[]; from: string }
  | {
      kind: 'edit';
      alpha: number;
      beta: number;
      mode: 'scale' | 'mean';
      from?: string;
      toxicWords?: string[];
      nonToxicWords?: string[];
    }
  | { kind: 'subtract'; alpha: number; layer?: number }
  | { kind: 'scale-keys'; top: number; factor: number };

const usage =
  'Use one of: none; ablate:top=N[,positive=DIR]; patch:csv=FILE; patch:groups=TP-+AN-,from=DIR; patch:neurons=L19N770+L3N2,from=DIR; edit:alpha=A,beta=B[,mode=scale|mean][,from=DIR][,toxic=w1+w2][,nontoxic=w3+w4]; subtract:alpha=A[,layer=L]; scale-keys:top=N,factor=F.';

function bad(spec: string, problem: string): never {
  return raise('INPUT_INVALID', `The intervention "${spec}" ${problem}.`, usage);
}

export function parseInterventionSpec(spec: string): InterventionSpec {
  if (spec === 'none') return { kind: 'none' };
  const colon = spec.indexOf(':');
  if (colon < 0) bad(spec, 'has no kind');
  const kind = spec.slice(0, colon);
  const fields = new Map<string, string>();
  for (const part of spec.slice(colon + 1).split(',')) {
    const equals = part.indexOf('=');
    if (equals < 0) bad(spec, `has "${part}" where key=value was expected`);
    fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const allowed = (...keys: string[]) => {
    for (const key of fields.keys()) if (!keys.includes(key)) bad(spec, `has an unknown setting "${key}"`);
  };
  const number = (key: string, check: (value: number) => boolean, what: string): number => {
    const raw = fields.get(key);
    if (raw === undefined) bad(spec, `needs ${key}=…`);
    const value = Number(raw);
    if (!Number.isFinite(value) || !check(value)) bad(spec, `needs ${key} to be ${what}, got "${raw}"`);
    return value;
  };
  const positiveInteger = (value: number) => Number.isInteger(value) && value > 0;
  switch (kind) {
    case 'ablate':
      allowed('top', 'positive');
      return {
        kind: 'ablate',
        top: number('top', positiveInteger, 'a positive integer'),
        positiveFrom: fields.get('positive'),
      };
    case 'patch':
      if (fields.has('csv')) {
        allowed('csv');
        return { kind: 'patch-csv', csv: fields.get('csv')! };
      }
      if (fields.has('neurons')) {
        allowed('neurons', 'from');
        if (!fields.has('from')) bad(spec, 'needs from=DIR (the compare output with the DPO means)');
        const neurons = fields
          .get('neurons')!
          .split('+')
          .filter(Boolean)
          .map((name) => {
            const match = /^L(\d+)N(\d+)$/i.exec(name.trim());
            if (!match) bad(spec, `names "${name}" where a neuron like L19N770 was expected`);
            return { layer: Number(match[1]), neuron: Number(match[2]) };
          });
        if (neurons.length === 0) bad(spec, 'names no neurons');
        return { kind: 'patch-neurons', neurons, from: fields.get('from')! };
      }
      allowed('groups', 'from');
      if (!fields.has('groups') || !fields.has('from'))
        bad(spec, 'needs csv=FILE, groups=…,from=DIR or neurons=…,from=DIR');
      {
        const groups = fields.get('groups')!.split('+').filter(Boolean);
        const known = [...groupsV1, ...groupsV3] as readonly string[];
        for (const group of groups)
          if (!known.includes(group)) bad(spec, `names an unknown group "${group}" (groups: ${known.join(', ')})`);
        return { kind: 'patch-groups', groups, from: fields.get('from')! };
      }
    case 'edit':
      allowed('alpha', 'beta', 'mode', 'from', 'toxic', 'nontoxic');
      {
        const mode = fields.get('mode') ?? 'scale';
        if (mode !== 'scale' && mode !== 'mean') bad(spec, `has mode "${mode}" (scale or mean)`);
        return {
          kind: 'edit',
          alpha: number('alpha', (value) => value >= 0 && value <= 1, 'in [0, 1]'),
          beta: number('beta', (value) => value >= 0 && value <= 1, 'in [0, 1]'),
          mode,
          from: fields.get('from'),
          toxicWords: fields.get('toxic')?.split('+').filter(Boolean),
          nonToxicWords: fields.get('nontoxic')?.split('+').filter(Boolean),
        };
      }
    case 'subtract':
      allowed('alpha', 'layer');
      return {
        kind: 'subtract',
        alpha: number('alpha', () => true, 'a number'),
        layer: fields.has('layer')
          ? number('layer', (value) => Number.isInteger(value) && value >= 0, 'a layer index')
          : undefined,
      };
    case 'scale-keys':
      allowed('top', 'factor');
      return {
        kind: 'scale-keys',
        top: number('top', positiveInteger, 'a positive integer'),
        factor: number('factor', () => true, 'a number'),
      };
  }
  return bad(spec, `has an unknown kind "${kind}"`);
}

/** Neuron-level description of what an intervention touches, for summaries and the UI. */
export interface BuiltIntervention {
  tensors: DecoderInterventions;
  neurons: number;
  description: string;
}

/** Per-layer top-k cap of the ranking used for interventions (the evaluation pipeline's 1,000). */
const interventionRankingPerLayer = 1000;

/**
 * Builds the intervention tensors for a model. `means` supplies the model's own pre-intervention mean activations
 * when an edit has no compare output to read them from (computed by the caller over the prompt set).
 */
export async function buildIntervention(
  spec: InterventionSpec,
  model: LoadedModel,
  probe: Probe,
  means: () => Promise<Float64Array>,
): Promise<BuiltIntervention> {
  const { nLayers, dMlp, dModel } = model.config;
  const tensors = noInterventions(model.config);
  const index = (layer: number, neuron: number) => {
    if (
      !Number.isInteger(layer) ||
      layer < 0 ||
      layer >= nLayers ||
      !Number.isInteger(neuron) ||
      neuron < 0 ||
      neuron >= dMlp
    ) {
      raise(
        'INPUT_INVALID',
        `Neuron (${layer}, ${neuron}) does not exist in a model with ${nLayers} layers of ${dMlp} neurons.`,
        'Check the layer and neuron numbers.',
      );
    }
    return layer * dMlp + neuron;
  };
  switch (spec.kind) {
    case 'none':
      return { tensors, neurons: 0, description: 'no intervention' };
    case 'ablate': {
      const quantities = staticNeuronQuantities(model, probe.unit, 'none');
      let eligible: ((flat: number) => boolean) | undefined;
      if (spec.positiveFrom) {
        const positive = new Set(
          readCompareNeurons(spec.positiveFrom)
            .filter((row) => row.meanPre > 0)
            .map((row) => index(row.layer, row.neuron)),
        );
        eligible = (flat) => positive.has(flat);
      }
      const ranked = rankToxicNeurons(quantities, spec.top, interventionRankingPerLayer, eligible);
      for (const { layer, neuron } of ranked) tensors.mlpPostScale[index(layer, neuron)] = 0;
      return {
        tensors,
        neurons: ranked.length,
        description: `zero-ablate the top ${ranked.length} toxic neurons${spec.positiveFrom ? ' with positive pre-DPO mean activation' : ''}`,
      };
    }
    case 'patch-csv': {
      if (!existsSync(spec.csv))
        raise('INPUT_INVALID', `No patch file at ${spec.csv}.`, 'Pass a CSV with rows layer,neuron,value.');
      const rows = parseCsv(readFileSync(spec.csv, 'utf8')).filter(({ record }) =>
        record.some((field) => field.trim() !== ''),
      );
      let count = 0;
      for (const { record, line } of rows) {
        if (line === 1 && Number.isNaN(Number(record[0]))) continue; // header
        const [layer, neuron, value] = record.map(Number);
        if (record.length < 3 || [layer, neuron, value].some((number) => !Number.isFinite(number))) {
          raise(
            'INPUT_INVALID',
            `${spec.csv}, line ${line}: expected layer,neuron,value, got "${record.join(',')}".`,
            'Each row is two integers and a number.',
          );
        }
        const flat = index(layer!, neuron!);
        tensors.mlpPostOverrideMask[flat] = 1;
        tensors.mlpPostOverrideValue[flat] = value!;
        count++;
      }
      tensors.positions = 'last';
      return { tensors, neurons: count, description: `patch ${count} neurons to the values in ${spec.csv}` };
    }
    case 'patch-groups':
    case 'patch-neurons': {
      const wanted =
        spec.kind === 'patch-neurons' ? new Set(spec.neurons.map(({ layer, neuron }) => index(layer, neuron))) : null;
      let count = 0;
      for (const row of readCompareNeurons(spec.from)) {
        const flat = index(row.layer, row.neuron);
        const selected = wanted
          ? wanted.has(flat)
          : spec.kind === 'patch-groups' && (spec.groups.includes(row.group) || spec.groups.includes(row.groupV3));
        if (!selected) continue;
        tensors.mlpPostOverrideMask[flat] = 1;
        tensors.mlpPostOverrideValue[flat] = row.meanDpo;
        count++;
      }
      if (wanted && count < wanted.size)
        raise(
          'INPUT_INVALID',
          `${spec.from} has DPO means for ${count} of the ${wanted.size} neurons to patch.`,
          'Patch with the compare output of this model pair.',
        );
      tensors.positions = 'last';
      const what = spec.kind === 'patch-groups' ? `of ${spec.groups.join(' + ')}` : 'selected';
      return { tensors, neurons: count, description: `patch ${count} neurons ${what} to their DPO mean activations` };
    }
    case 'edit': {
      const meanPre = spec.from
        ? Float64Array.from(
            readCompareNeurons(spec.from).sort((a, b) => a.layer - b.layer || a.neuron - b.neuron),
            (row) => row.meanPre,
          )
        : await means();
      if (meanPre.length !== nLayers * dMlp)
        raise(
          'INPUT_INVALID',
          `The compare output has ${meanPre.length} neurons, the model ${nLayers * dMlp}.`,
          'Use a compare output of this model.',
        );
      const direction = await toxicEmbeddingDirection(model, spec.toxicWords, spec.nonToxicWords);
      const cos = cosinesWith(model, direction, 'none');
      // GPT-2: leave out the neurons with the top 20% mean activations (§6.4b step 3).
      const cutoff = [...meanPre].sort((a, b) => a - b)[Math.floor(0.8 * (meanPre.length - 1))]!;
      const groups: Record<'TP' | 'AN' | 'AP' | 'TN', number[]> = { TP: [], AN: [], AP: [], TN: [] };
      meanPre.forEach((mean, flat) => {
        if (mean > cutoff || cos[flat] === 0 || mean === 0) return;
        const toxic = cos[flat]! > 0;
        groups[toxic ? (mean > 0 ? 'TP' : 'TN') : mean > 0 ? 'AP' : 'AN'].push(flat);
      });
      let count = 0;
      for (const [group, members] of Object.entries(groups) as ['TP' | 'AN' | 'AP' | 'TN', number[]][]) {
        const dampen = group === 'TP' || group === 'AN';
        // TP and AN: the β-fraction with the largest |cos|; AP and TN: the β-fraction with the smallest (§6.4b step 4).
        members.sort(
          (a, b) => (dampen ? Math.abs(cos[b]!) - Math.abs(cos[a]!) : Math.abs(cos[a]!) - Math.abs(cos[b]!)) || a - b,
        );
        const factor = dampen ? 1 - spec.alpha : 1 + spec.alpha;
        for (const flat of members.slice(0, Math.round(spec.beta * members.length))) {
          if (spec.mode === 'scale') tensors.mlpPostGain[flat] = factor;
          else {
            tensors.mlpPostOverrideMask[flat] = 1;
            tensors.mlpPostOverrideValue[flat] = factor * meanPre[flat]!;
          }
          count++;
        }
      }
      tensors.positions = 'last';
      const how = spec.mode === 'scale' ? 'activations scaled by 1 ∓ α' : 'set to (1 ∓ α)·m̄_pre';
      return {
        tensors,
        neurons: count,
        description: `edit ${count} neurons (α = ${spec.alpha}, β = ${spec.beta}, ${how})`,
      };
    }
    case 'subtract': {
      const layer = spec.layer ?? nLayers - 1;
      if (layer >= nLayers)
        raise(
          'INPUT_INVALID',
          `Layer ${layer} does not exist (the model has ${nLayers}).`,
          `Use layer=0..${nLayers - 1}.`,
        );
      for (let d = 0; d < dModel; d++) tensors.mlpOutAdd[layer * dModel + d] = -spec.alpha * probe.unit[d]!;
      tensors.positions = 'last';
      return { tensors, neurons: 0, description: `subtract ${spec.alpha}·ŵ from the MLP output of layer ${layer}` };
    }
    case 'scale-keys': {
      const ranked = rankToxicNeurons(
        staticNeuronQuantities(model, probe.unit, 'none'),
        spec.top,
        interventionRankingPerLayer,
      );
      for (const { layer, neuron } of ranked) tensors.mlpKeyScale[index(layer, neuron)] = spec.factor;
      return {
        tensors,
        neurons: ranked.length,
        description: `scale the key vectors of the top ${ranked.length} toxic neurons by ${spec.factor}`,
      };
    }
  }
}
