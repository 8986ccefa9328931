// DynaHate sentences of one label from MaRCo's release in ../shared/data (read-only input; never copied here).

import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CsvParser } from '../../src-main/core/files/csv.ts';

export async function dynaHateTexts(
  file: 'dynabench-db_dev.csv' | 'dynabench-db_test.csv',
  label: 'hate' | 'nothate',
): Promise<string[]> {
  const path = fileURLToPath(new URL(`../../../shared/data/marco/${file}`, import.meta.url));
  const texts: string[] = [];
  let header: string[] | null = null;
  const parser = new CsvParser();
  const emit = (record: string[]) => {
    if (!header) header = record;
    else if (record[header.indexOf('label')] === label) texts.push(record[header.indexOf('text')] ?? '');
  };
  for await (const chunk of createReadStream(path, 'utf8')) parser.push(chunk as string, emit);
  parser.end(emit);
  return texts;
}
