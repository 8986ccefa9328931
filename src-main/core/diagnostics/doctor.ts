// `toxscope doctor`: a truthful report of what this machine can run — versions, execution providers that really
// load, CPU features, Electron and display availability, memory. The first thing to run when something is wrong.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { DoctorReport } from '../../shared/index.ts';
import { listBuiltProviders, onnxruntimeVersion, probeProvider } from '../runtime/onnxruntime.ts';

/** Instruction-set extensions that decide onnxruntime's CPU kernels (read from /proc/cpuinfo on Linux). */
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

function cpuFeatures(): string[] {
  if (process.platform !== 'linux') return [];
  try {
    const flagsLine = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('flags'));
    const flags = new Set((flagsLine?.split(':')[1] ?? '').trim().split(/\s+/));
    return interestingCpuFlags.filter((flag) => flags.has(flag));
  } catch {
    return []; // /proc is not always readable (sandboxes); the report then lists no features
  }
}

function electronStatus(): DoctorReport['electron'] {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { installed: false, detail: 'the electron package is not installed (run `npm ci`)' };
  }
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      installed: false,
      detail: 'the Electron binary was not downloaded; `npm start` fetches it (needs network), or use `npm run serve`',
    };
  }
  const binary = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary)
    ? { installed: true, detail: binary }
    : {
        installed: false,
        detail: `path.txt names ${binary}, which is missing; delete node_modules/electron and run \`npm ci\``,
      };
}

function displayStatus(): DoctorReport['display'] {
  if (process.platform !== 'linux')
    return { available: true, detail: `${process.platform} always has a desktop session` };
  const display = process.env.WAYLAND_DISPLAY ?? process.env.DISPLAY;
  return display
    ? { available: true, detail: `${process.env.WAYLAND_DISPLAY ? 'WAYLAND_DISPLAY' : 'DISPLAY'}=${display}` }
    : { available: false, detail: 'neither DISPLAY nor WAYLAND_DISPLAY is set: use `toxscope serve` and a browser' };
}

export async function collectDoctorReport(toxscopeVersion: string): Promise<DoctorReport> {
  const built = listBuiltProviders();
  const providers: DoctorReport['providers'] = [];
  for (const provider of ['cpu', 'cuda', 'webgpu', 'tensorrt'] as const) {
    const builtEntry = built.find((entry) => entry.name === provider);
    if (!builtEntry) continue;
    providers.push({ ...(await probeProvider(provider)), bundled: builtEntry.bundled });
  }
  return {
    toxscopeVersion,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    onnxruntime: onnxruntimeVersion(),
    providers,
    cpu: { model: os.cpus()[0]?.model ?? 'unknown', logicalCores: os.availableParallelism(), features: cpuFeatures() },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    electron: electronStatus(),
    display: displayStatus(),
  };
}
