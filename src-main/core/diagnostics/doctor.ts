// `toxscope doctor`: a truthful report of what this machine can run — versions, execution providers that really
// load, CPU features, Electron and display availability, memory. The first thing to run when something is wrong.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { CudaReport, DoctorReport, ProviderProbe } from '../../shared/index.ts';
import { hugePagesTunable, keepsFreedMemory, kernelHugePagesMode } from '../../../bin/malloc-env.js';
import { cpuFeatures } from '../runtime/cpu.ts';
import {
  listBuiltProviders,
  onnxruntimeVersion,
  probeProvider,
  providerLibraryFolder,
} from '../runtime/onnxruntime.ts';
import {
  cudaSearchFolders,
  diagnoseCudaProvider,
  findCudaLibraries,
  parseDriverVersion,
  providerCudaMajor,
  readElfNeeded,
} from './cuda-libraries.ts';

/** The record `npm run setup:cuda` writes next to the provider files (scripts/setup-cuda.js). */
export const providerRecordFile = 'toxscope-cuda-provider.json';

function hugePagesStatus(): DoctorReport['memory']['hugePages'] {
  const kernel = kernelHugePagesMode();
  const asked = (process.env.GLIBC_TUNABLES ?? '').includes(hugePagesTunable);
  return { kernel, malloc: kernel === 'always' || (kernel === 'madvise' && asked) };
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

function listDir(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return []; // a folder that does not exist is simply not searched
  }
}

/** python3's site-packages folders, where pip's nvidia-* wheels keep CUDA; [] when there is no python3. */
function pythonSitePackages(): string[] {
  const script = 'import site; print("\\n".join(site.getsitepackages() + [site.getusersitepackages()]))';
  const result = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.split('\n').filter((line) => line.trim() !== '') : [];
}

function readNeeded(file: string): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const handle = fd;
    return readElfNeeded((offset, length) => {
      const buffer = new Uint8Array(length);
      return buffer.subarray(0, readSync(handle, buffer, 0, length, offset));
    });
  } catch {
    return []; // unreadable: the report then names no CUDA version for the provider
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readProviderRecord(folder: string): { onnxruntimeVersion: string; source: string } {
  try {
    const record: unknown = JSON.parse(readFileSync(join(folder, providerRecordFile), 'utf8'));
    if (typeof record === 'object' && record !== null) {
      const { onnxruntimeVersion: version, source } = record as Record<string, unknown>;
      return {
        onnxruntimeVersion: typeof version === 'string' ? version : '',
        source: typeof source === 'string' ? source : '',
      };
    }
  } catch {
    // no record: the files were copied by hand or by onnxruntime-node's own installer
  }
  return { onnxruntimeVersion: '', source: 'not installed by `npm run setup:cuda`' };
}

/** CUDA libraries, driver and provider files found on disk, and why the provider does not load when it does not. */
export function collectCudaReport(cudaProbe: ProviderProbe | undefined): CudaReport | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  const folder = providerLibraryFolder();
  const providerFile = join(folder, 'libonnxruntime_providers_cuda.so');
  const installed = existsSync(providerFile) && existsSync(join(folder, 'libonnxruntime_providers_shared.so'));
  const cudaMajor = installed ? (providerCudaMajor(readNeeded(providerFile)) ?? null) : null;
  let driverText = '';
  try {
    driverText = readFileSync('/proc/driver/nvidia/version', 'utf8');
  } catch {
    // no NVIDIA kernel driver loaded (or /proc hidden): reported as no driver
  }
  const driverVersion = parseDriverVersion(driverText);
  const libraries = findCudaLibraries(
    cudaSearchFolders({ ldLibraryPath: process.env.LD_LIBRARY_PATH, sitePackages: pythonSitePackages(), listDir }),
    listDir,
  );
  let diagnosis: CudaReport['diagnosis'] = null;
  if (cudaProbe && !cudaProbe.loads) {
    // ldd names every library the loader cannot find at once (onnxruntime's error names only the first)
    const ldd = installed ? spawnSync('ldd', [providerFile], { encoding: 'utf8', timeout: 10_000 }) : undefined;
    diagnosis = diagnoseCudaProvider({
      probeMessage: cudaProbe.detail,
      providerInstalled: installed,
      lddOutput: ldd ? `${ldd.stdout ?? ''}${ldd.stderr ?? ''}` : '',
      providerCudaMajor: cudaMajor ?? undefined,
      driverVersion,
      libraries,
    });
  }
  return {
    driverVersion,
    provider: { folder, installed, cudaMajor, ...readProviderRecord(folder) },
    libraries,
    diagnosis,
  };
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
    memory: {
      totalBytes: os.totalmem(),
      freeBytes: os.freemem(),
      hugePages: hugePagesStatus(),
      keepsFreedMemory: keepsFreedMemory(),
    },
    electron: electronStatus(),
    display: displayStatus(),
    cuda: collectCudaReport(providers.find((probe) => probe.provider === 'cuda')),
  };
}
