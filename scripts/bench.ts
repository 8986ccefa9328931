// `npm run bench`: runs every benchmark with its baseline in this same command, prints medians and comparisons,
// and rewrites each benchmark's table in docs/benchmarks.md with this machine's description.

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchEngineHost, type BenchRow } from '../test/bench/engine-host.bench.ts';
import { benchDetox } from '../test/bench/detox.bench.ts';
import { benchClassifier } from '../test/bench/classifier-runtime.bench.ts';
import { benchCommands } from '../test/bench/commands.bench.ts';
import { benchDecoder } from '../test/bench/decoder-runtime.bench.ts';
import { benchMerge } from '../test/bench/merge.bench.ts';
import { benchCompare, benchGpt2Runtime } from '../test/bench/gpt2-runtime.bench.ts';
import { benchTokenizer } from '../test/bench/tokenizer.bench.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, threads: { type: 'string' } } });
const threads = Number(values.threads ?? os.availableParallelism());
const docPath = new URL('../docs/benchmarks.md', import.meta.url);

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.availableParallelism()} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}-${process.arch}, Node ${process.version}`;
}

const format = (value: number, unit: BenchRow['unit']) =>
  `${value.toFixed(unit === 'ms' || unit === 's' ? 1 : 0)} ${unit}`;

function table(rows: BenchRow[]): string {
  const lines = [
    '| benchmark | ToxScope (median) | baseline | baseline (median) | comparison | note |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const baselineValue = row.baselineValue === null ? '' : format(row.baselineValue, row.unit);
    lines.push(
      `| ${row.name} | ${format(row.value, row.unit)} | ${row.baseline} | ${baselineValue} | ${row.comparison} | ${row.note} |`,
    );
  }
  return lines.join('\n');
}

function writeSection(name: string, rows: BenchRow[], settings: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = [
    start,
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${settings}.`,
    '',
    table(rows),
    end,
  ].join('\n');
  process.stdout.write(`${section}\n\n`);
  const doc = readFileSync(docPath, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`docs/benchmarks.md lacks the ${start} … ${end} markers`);
  writeFileSync(docPath, doc.slice(0, from) + section + doc.slice(to + end.length));
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
if (!values.only || values.only === 'engine-host')
  writeSection('engine-host', await benchEngineHost(50), 'tiny jobs, 50 rounds');
if (!values.only || values.only === 'gpt2') {
  const rows = benchGpt2Runtime(threads, log);
  if (rows.length > 0)
    writeSection(
      'gpt2',
      rows,
      `${threads} threads on both sides, GPT-2-medium shapes (24 layers, d_model 1024, 4096 neurons, vocab 50257), random fp32 weights`,
    );
}
if (!values.only || values.only === 'compare') {
  const rows = benchCompare(threads, log);
  if (rows.length > 0)
    writeSection(
      'compare',
      rows,
      `${threads} threads on both sides, GPT-2-medium shapes, random weights, base = DPO weights (same work)`,
    );
}
if (!values.only || values.only === 'detox') {
  const rows = await benchDetox(threads, log);
  if (rows.length > 0)
    writeSection(
      'detox',
      rows,
      `${threads} threads on both sides, bart-base shapes (6+6 layers, d_model 768, vocab 50265), random fp32 weights, MAgr settings with τ = 1.0 (see detox.bench.ts)`,
    );
}
if (!values.only || values.only === 'tokenizer') {
  const load = os.loadavg()[0]!.toFixed(1);
  const rows = await benchTokenizer(log);
  if (rows.length > 0)
    writeSection(
      'tokenizer',
      rows,
      `GPT-2's real vocabulary and merges, 2,000 texts of MaRCo's SBF/DynaHate/MAgr files, medians of 7 interleaved rounds (3 for one-at-a-time); load average ${load} at the start`,
    );
}
if (!values.only || values.only === 'decoder') {
  const result = benchDecoder(threads, log);
  if (result) writeSection('decoder', result.rows, result.settings);
}
if (!values.only || values.only === 'classifier') {
  const result = benchClassifier(threads, log);
  if (result) writeSection('classifier', result.rows, result.settings);
}
if (!values.only || values.only === 'commands') {
  const result = await benchCommands(threads, log);
  if (result) writeSection('commands', result.rows, result.settings);
}
if (!values.only || values.only === 'merge') {
  const result = benchMerge(threads, log);
  writeSection('merge', result.rows, result.settings);
}
process.stdout.write('Wrote docs/benchmarks.md\n');
