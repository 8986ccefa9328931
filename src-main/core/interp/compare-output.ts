// Reads back a compare output folder (neurons.csv) for interventions that use its groups and means.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { raise } from '../../shared/index.ts';
import { parseCsv } from '../files/csv.ts';

export interface CompareNeuron {
  layer: number;
  neuron: number;
  cosPre: number;
  meanPre: number;
  meanDpo: number;
  delta: number;
  group: string;
  groupV3: string;
}

export function readCompareNeurons(folder: string): CompareNeuron[] {
  const path = join(folder, 'neurons.csv');
  if (!existsSync(path))
    raise(
      'INPUT_INVALID',
      `${folder} has no neurons.csv.`,
      'Pass the output folder of a finished `toxscope compare` run.',
    );
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows[0]?.record ?? [];
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0)
      raise(
        'INPUT_INVALID',
        `${path} has no column "${name}".`,
        'Pass the output folder of a `toxscope compare` run of this version.',
      );
    return index;
  };
  const columns = {
    layer: column('layer'),
    neuron: column('neuron'),
    cos: column('cos_pre'),
    pre: column('mean_act_pre'),
    dpo: column('mean_act_dpo'),
    delta: column('delta'),
    group: column('group'),
    v3: column('group_v3'),
  };
  return rows
    .slice(1)
    .filter(({ record }) => record.length > 1)
    .map(({ record, line }) => {
      const number = (index: number) => {
        const value = Number(record[index]);
        if (!Number.isFinite(value))
          raise(
            'INPUT_INVALID',
            `${path}, line ${line}: "${record[index]}" is not a number.`,
            'The file is damaged; run compare again.',
          );
        return value;
      };
      return {
        layer: number(columns.layer),
        neuron: number(columns.neuron),
        cosPre: number(columns.cos),
        meanPre: number(columns.pre),
        meanDpo: number(columns.dpo),
        delta: number(columns.delta),
        group: record[columns.group] ?? '',
        groupV3: record[columns.v3] ?? '',
      };
    });
}
