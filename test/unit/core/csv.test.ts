// CSV parsing: RFC 4180 quoting, CRLF and bare CR, line numbers, and the same records however the text is chunked.

import { describe, expect, it } from 'vitest';
import { CsvParser, csvLine, parseCsv } from '../../../src-main/core/files/csv.ts';

const tricky =
  'layer,text,"quoted, with comma"\r\n' +
  '1,"a ""quoted"" word","line one\nline two"\n' +
  '2,plain é ✓ 😀,\r' +
  '3,"",last\n' +
  '4,"x"y,tail';

function records(text: string, chunkSize: number) {
  const out: { record: string[]; line: number }[] = [];
  const parser = new CsvParser();
  const emit = (record: string[], line: number) => out.push({ record, line });
  for (let start = 0; start < text.length; start += chunkSize) parser.push(text.slice(start, start + chunkSize), emit);
  parser.end(emit);
  return out;
}

describe('CSV parser', () => {
  it('reads quoted fields, doubled quotes, line breaks in quotes, CRLF and CR, with the line each record starts on', () => {
    expect(parseCsv(tricky)).toEqual([
      { record: ['layer', 'text', 'quoted, with comma'], line: 1 },
      { record: ['1', 'a "quoted" word', 'line one\nline two'], line: 2 },
      { record: ['2', 'plain é ✓ 😀', ''], line: 4 },
      { record: ['3', '', 'last'], line: 5 },
      { record: ['4', 'xy', 'tail'], line: 6 },
    ]);
  });

  it('gives the same records for every chunk size, including splits inside CRLF, quotes and surrogate pairs', () => {
    const whole = parseCsv(tricky);
    for (let size = 1; size <= tricky.length; size++) expect(records(tricky, size), `chunks of ${size}`).toEqual(whole);
  });

  it('reads back what it writes', () => {
    const rows = [
      ['a,b', 'say "hi"', 'x\ny', 'plain'],
      ['', '3.25', 'TP↓', '\r'],
    ];
    expect(parseCsv(rows.map(csvLine).join('')).map(({ record }) => record)).toEqual(rows);
  });
});
