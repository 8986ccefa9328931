// The CPU's instruction-set flags, which decide onnxruntime's CPU kernels (and so the layout of prepacked weights).

import { readFileSync } from 'node:fs';

/** Instruction-set extensions worth showing a user (the doctor report): the ones onnxruntime's kernels choose by. */
const interestingCpuFlags = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512_vnni',
  'avx512_bf16',
  'amx_tile',
];

let flagsRead: string[] | null = null;

/** Every flag /proc/cpuinfo lists for the first core, sorted (empty off Linux or where /proc cannot be read). */
export function cpuFlags(): string[] {
  if (flagsRead) return flagsRead;
  flagsRead = [];
  if (process.platform === 'linux') {
    try {
      const flagsLine = readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((line) => line.startsWith('flags'));
      flagsRead = (flagsLine?.split(':')[1] ?? '').trim().split(/\s+/).filter(Boolean).sort();
    } catch {
      // /proc is not always readable (sandboxes): no flags
    }
  }
  return flagsRead;
}

/** The interesting subset of cpuFlags, in a fixed order. */
export function cpuFeatures(): string[] {
  const flags = new Set(cpuFlags());
  return interestingCpuFlags.filter((flag) => flags.has(flag));
}
