// Prompt sets, streamed so any size works: `.jsonl` with {"prompt": "..."} or RealToxicityPrompts'
// {"prompt": {"text": "..."}}, `.txt` one prompt per line, or `.csv` with a named column. Malformed input is
// reported with its line number.

import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { raise } from '../../shared/index.ts';
import { CsvParser } from '../files/csv.ts';

export interface PromptRecord {
  /** 0-based index among the prompts. */
  index: number;
  text: string;
}

function badLine(path: string, line: number, problem: string, hint: string): never {
  return raise('INPUT_INVALID', `${path}, line ${line}: ${problem}.`, hint);
}

async function* fromJsonl(path: string): AsyncGenerator<PromptRecord> {
  let line = 0;
  let index = 0;
  const hint = 'Each line must be a JSON object like {"prompt": "text"} or {"prompt": {"text": "text"}}.';
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      badLine(path, line, 'is not valid JSON', hint);
    }
    const prompt = (value as { prompt?: unknown } | null)?.prompt;
    const promptText = typeof prompt === 'string' ? prompt : (prompt as { text?: unknown } | null)?.text;
    if (typeof promptText !== 'string') badLine(path, line, 'has no "prompt" string', hint);
    yield { index: index++, text: promptText };
  }
}

async function* fromText(path: string): AsyncGenerator<PromptRecord> {
  let index = 0;
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    if (text.trim() !== '') yield { index: index++, text };
  }
}

async function* fromCsv(path: string, column: string | undefined): AsyncGenerator<PromptRecord> {
  if (!column)
    raise(
      'INPUT_INVALID',
      `${path} is a CSV file, so the prompt column must be named.`,
      'Add --column NAME (e.g. --column text).',
      {
        field: 'prompts',
        appHint:
          'Save the prompts as .jsonl ({"prompt": ...} per line) or .txt (one per line): CSV prompts need a column name, which only `toxscope compare --column NAME` takes.',
      },
    );
  const parser = new CsvParser();
  let columnIndex = -1;
  let index = 0;
  const pending: PromptRecord[] = [];
  const emit = (record: string[], line: number) => {
    if (columnIndex < 0) {
      columnIndex = record.indexOf(column);
      if (columnIndex < 0)
        badLine(
          path,
          line,
          `has no column "${column}" (columns: ${record.join(', ')})`,
          'Pass one of the header names with --column.',
        );
      return;
    }
    if (record.length === 1 && record[0] === '') return; // blank line
    if (columnIndex >= record.length)
      badLine(path, line, `has ${record.length} fields, fewer than the header`, 'Check the quoting of that row.');
    pending.push({ index: index++, text: record[columnIndex]! });
  };
  for await (const chunk of createReadStream(path, 'utf8')) {
    parser.push(chunk as string, emit);
    yield* pending.splice(0);
  }
  parser.end(emit);
  if (parser.unterminatedQuote)
    raise('INPUT_INVALID', `${path} ends inside a quoted field.`, 'Check the file for an unbalanced quote.');
  yield* pending.splice(0);
}

/** Streams the prompts of a file; nothing but the current chunk is held in memory. */
export function readPrompts(path: string, column?: string): AsyncGenerator<PromptRecord> {
  if (!existsSync(path))
    raise('INPUT_INVALID', `No prompts file at ${path}.`, 'Pass --prompts FILE (.jsonl, .txt or .csv).', {
      field: 'prompts',
      appHint: 'Choose a prompts file that exists (.jsonl or .txt).',
    });
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl') return fromJsonl(path);
  if (extension === '.txt') return fromText(path);
  if (extension === '.csv') return fromCsv(path, column);
  return raise(
    'INPUT_INVALID',
    `${path}: unsupported prompts file type "${extension}".`,
    'Use .jsonl ({"prompt": ...} per line), .txt (one per line) or .csv with --column NAME.',
    {
      field: 'prompts',
      appHint: 'Choose a .jsonl file ({"prompt": ...} per line) or a .txt file (one prompt per line).',
    },
  );
}

/** Counts prompts (one streaming pass) and refuses an empty set. */
export async function countPrompts(path: string, column?: string): Promise<number> {
  let count = 0;
  for await (const _ of readPrompts(path, column)) count++;
  if (count === 0) raise('INPUT_INVALID', `${path} contains no prompts.`, 'Add at least one prompt.');
  return count;
}
