// `npm run bench`: runs every benchmark with its baseline in this same process, prints medians and ratios, and
// rewrites the results table in docs/benchmarks.md with this machine's description.

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchEngineHost, type BenchRow } from '../test/bench/engine-host.bench.ts';

const docPath = new URL('../docs/benchmarks.md', import.meta.url);
const startMarker = '<!-- bench:start -->';
const endMarker = '<!-- bench:end -->';

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.availableParallelism()} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}-${process.arch}, Node ${process.version}`;
}

function table(rows: BenchRow[]): string {
  const lines = [
    '| benchmark | median | baseline | baseline median | ratio | note |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const ratio = row.baselineMs ? `${(row.medianMs / row.baselineMs).toFixed(2)}×` : '';
    const baselineMs = row.baselineMs === null ? '' : `${row.baselineMs.toFixed(2)} ms`;
    lines.push(
      `| ${row.name} | ${row.medianMs.toFixed(2)} ms | ${row.baseline} | ${baselineMs} | ${ratio} | ${row.note} |`,
    );
  }
  return lines.join('\n');
}

const rows = await benchEngineHost(50);
const section = [
  startMarker,
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.`,
  '',
  table(rows),
  endMarker,
].join('\n');
process.stdout.write(`${section}\n`);

const doc = readFileSync(docPath, 'utf8');
const start = doc.indexOf(startMarker);
const end = doc.indexOf(endMarker);
if (start < 0 || end < 0) throw new Error(`docs/benchmarks.md lacks the ${startMarker} … ${endMarker} markers`);
writeFileSync(docPath, doc.slice(0, start) + section + doc.slice(end + endMarker.length));
process.stdout.write('Wrote docs/benchmarks.md\n');
