#!/usr/bin/env node
// A small shard scheduler for one machine (issue 18): runs N `toxscope … --shard K/N` processes at once, as a Slurm
// array or a Kubernetes Indexed Job would on many, then `toxscope merge`. The test suite's simulated cluster uses it.
//
//   node scripts/run-shards.js --count N [--parallel P] [--merge OUT] -- <toxscope arguments with {K} and {N}>
//
// e.g. node scripts/run-shards.js --count 4 --merge runs/rtp -- compare --base demo:gpt2-base --dpo demo:gpt2-dpo \
//        --probe demo:probe --prompts prompts.jsonl --shard {K}/{N} --out runs/rtp-shard-{K}
// {K} (1..N) and {N} are replaced in every argument; the shard folders for the merge are the values of --out or
// --out-dir. A shard that fails is reported with its exit code and the last lines it wrote; no merge then (exit 1).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const toxscope = fileURLToPath(new URL('../bin/toxscope.js', import.meta.url));

function usage(message) {
  process.stderr.write(
    `run-shards: ${message}\nUsage: node scripts/run-shards.js --count N [--parallel P] [--merge OUT] -- <toxscope arguments with {K} and {N}>\n`,
  );
  process.exit(2);
}

const separator = process.argv.indexOf('--');
if (separator < 0) usage('put the toxscope arguments after --.');
const { values } = parseArgs({
  args: process.argv.slice(2, separator),
  options: { count: { type: 'string' }, parallel: { type: 'string' }, merge: { type: 'string' } },
});
const template = process.argv.slice(separator + 1);
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) usage(`--count must be a positive integer, got "${values.count}".`);
const parallel = values.parallel === undefined ? count : Number(values.parallel);
if (!Number.isInteger(parallel) || parallel < 1)
  usage(`--parallel must be a positive integer, got "${values.parallel}".`);
if (!template.some((arg) => arg.includes('{K}'))) usage('the toxscope arguments must use {K} (e.g. --shard {K}/{N}).');

const argsOf = (k) => template.map((arg) => arg.replaceAll('{K}', String(k)).replaceAll('{N}', String(count)));
const outOf = (args) => {
  const flag = args.findIndex((arg) => arg === '--out' || arg === '--out-dir');
  return flag >= 0 ? args[flag + 1] : undefined;
};

/** Runs one toxscope process; resolves with its exit code and the tail of what it wrote. */
function run(args, label) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [toxscope, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code, signal) => resolve({ label, code: code ?? (signal ? 128 : 1), tail }));
  });
}

const started = Date.now();
const pending = Array.from({ length: count }, (_, k) => k + 1);
const results = [];
async function worker() {
  for (let k = pending.shift(); k !== undefined; k = pending.shift()) {
    const result = await run(argsOf(k), `shard ${k}/${count}`);
    process.stderr.write(`${result.label}: ${result.code === 0 ? 'done' : `failed (exit ${result.code})`}\n`);
    results.push(result);
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
const failed = results.filter((result) => result.code !== 0);
for (const result of failed) process.stderr.write(`--- ${result.label} (exit ${result.code}) ---\n${result.tail}\n`);
if (failed.length > 0) process.exit(1);
process.stderr.write(`${count} shards in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

if (values.merge !== undefined) {
  const folders = Array.from({ length: count }, (_, k) => outOf(argsOf(k + 1)));
  if (folders.some((folder) => folder === undefined))
    usage('--merge needs --out DIR or --out-dir DIR in the arguments.');
  const merged = await run(['merge', values.merge, ...folders], 'merge');
  process.stderr.write(merged.tail);
  process.exit(merged.code);
}
