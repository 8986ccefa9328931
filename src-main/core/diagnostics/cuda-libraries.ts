// Where the CUDA libraries that onnxruntime's CUDA provider needs live on this machine, which versions they are (read
// from their file names: nothing is loaded), and why the provider does not load, in plain words. See docs/gpu.md.

import type { CudaLibraryFamily, CudaLibraryFound, CudaProviderDiagnosis } from '../../shared/index.ts';

/** The libraries the CUDA provider needs, by family, with the file-name pattern that finds them. */
export const cudaLibraryFamilies: readonly { family: CudaLibraryFamily; pattern: RegExp }[] = [
  { family: 'cuda-driver', pattern: /^libcuda\.so(\.\d+)*$/ },
  { family: 'cudart', pattern: /^libcudart\.so(\.\d+)*$/ },
  { family: 'cublas', pattern: /^libcublas\.so(\.\d+)*$/ },
  { family: 'cublasLt', pattern: /^libcublasLt\.so(\.\d+)*$/ },
  { family: 'curand', pattern: /^libcurand\.so(\.\d+)*$/ },
  { family: 'cudnn', pattern: /^libcudnn\.so(\.\d+)*$/ },
  { family: 'provider', pattern: /^libonnxruntime_providers_(cuda|shared)\.so$/ },
];

/** The version a library's file name carries: "libcudart.so.13.0.96" → "13.0.96"; "" when it has none. */
export function sonameVersion(fileName: string): string {
  return /\.so\.(\d+(?:\.\d+)*)$/.exec(fileName)?.[1] ?? '';
}

export interface SearchEnvironment {
  /** LD_LIBRARY_PATH as the process sees it. */
  ldLibraryPath: string | undefined;
  /** python3's site-packages folders (pip's `nvidia-*` wheels put their libraries in site-packages/nvidia/*∕lib). */
  sitePackages: readonly string[];
  /** Lists a folder's entries; returns [] for a folder that does not exist or cannot be read. */
  listDir: (folder: string) => readonly string[];
}

/** The folders to search, in the loader's order first (LD_LIBRARY_PATH, the system folders), then the usual installs. */
export function cudaSearchFolders(env: SearchEnvironment): string[] {
  const folders = (env.ldLibraryPath ?? '').split(':').filter((folder) => folder !== '');
  folders.push('/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib');
  for (const entry of [...env.listDir('/usr/local')].sort()) {
    if (/^cuda(-\d+(\.\d+)*)?$/.test(entry)) folders.push(`/usr/local/${entry}/lib64`);
  }
  for (const site of env.sitePackages) {
    // nvidia-cudnn-cu13 etc. use nvidia/<name>/lib; the CUDA 13 wheels share nvidia/cu13/lib
    for (const entry of [...env.listDir(`${site}/nvidia`)].sort()) {
      if (!entry.startsWith('__')) folders.push(`${site}/nvidia/${entry}/lib`); // not __init__.py, __pycache__
    }
  }
  return [...new Set(folders)];
}

/** Every CUDA library file in the folders, in search order, with its family and file-name version. */
export function findCudaLibraries(
  folders: readonly string[],
  listDir: SearchEnvironment['listDir'],
): CudaLibraryFound[] {
  const found: CudaLibraryFound[] = [];
  for (const folder of folders) {
    for (const file of [...listDir(folder)].sort()) {
      const family = cudaLibraryFamilies.find((candidate) => candidate.pattern.test(file))?.family;
      if (family) found.push({ family, file, folder, version: sonameVersion(file) });
    }
  }
  return found;
}

/** Library names the dynamic loader could not find, from a dlopen error or `ldd` output ("libx.so.13 => not found"). */
export function parseMissingLibraries(text: string): string[] {
  const missing = [
    ...text.matchAll(/(lib[\w.+-]+\.so[\w.]*): cannot open shared object file/g),
    ...text.matchAll(/^\s*(lib[\w.+-]+\.so[\w.]*) => not found/gm),
  ].map((match) => match[1]!);
  return [...new Set(missing)];
}

/** The CUDA runtime error code in a provider failure ("CUDA failure 35: …"), or undefined. */
export function parseCudaFailureCode(message: string): number | undefined {
  const code = /CUDA failure (\d+)/.exec(message)?.[1];
  return code === undefined ? undefined : Number(code);
}

/** The NVIDIA kernel driver's version from /proc/driver/nvidia/version's text ("… Kernel Module  580.159.04 …"). */
export function parseDriverVersion(procText: string): string {
  return /Kernel Module(?: for [\w-]+)?\s+(\d+(?:\.\d+)+)/.exec(procText)?.[1] ?? '';
}

/**
 * The oldest Linux driver each CUDA major version runs on (NVIDIA's CUDA release notes, "minor version
 * compatibility": 12.x needs ≥ 525.60.13, 13.x needs ≥ 580.65.06).
 */
export const minimumDriverForCuda: Readonly<Record<number, string>> = { 12: '525.60.13', 13: '580.65.06' };

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export interface DiagnosisInput {
  /** The provider probe's message (onnxruntime's, first line), empty when it loaded. */
  probeMessage: string;
  /** Whether libonnxruntime_providers_cuda.so is next to onnxruntime-node's core library. */
  providerInstalled: boolean;
  /** `ldd` output for the provider file ('' when not run). */
  lddOutput: string;
  /** The CUDA major version the installed provider was built for (from its NEEDED libcudart.so.N), if known. */
  providerCudaMajor: number | undefined;
  /** The NVIDIA driver's version, '' when no driver is loaded. */
  driverVersion: string;
  libraries: readonly CudaLibraryFound[];
}

/** Why the CUDA provider does not load, in plain words, with the one thing to do about it. */
export function diagnoseCudaProvider(input: DiagnosisInput): CudaProviderDiagnosis {
  if (!input.providerInstalled) {
    return {
      reason: 'provider-missing',
      missing: [],
      text: "onnxruntime's CUDA provider is not installed.",
      hint: 'Run `npm run setup:cuda`.',
    };
  }
  const missing = parseMissingLibraries(`${input.probeMessage}\n${input.lddOutput}`).filter(
    (name) => name !== 'libcuda.so.1' || !input.driverVersion,
  );
  const needsDriver = parseMissingLibraries(input.lddOutput).includes('libcuda.so.1') && !input.driverVersion;
  if (needsDriver) {
    const others = missing.filter((name) => name !== 'libcuda.so.1');
    return {
      reason: 'no-driver',
      missing: ['libcuda.so.1', ...others],
      text:
        'No NVIDIA driver is loaded on this machine (libcuda.so.1 and /proc/driver/nvidia are missing)' +
        (others.length ? `; the provider also needs ${others.join(', ')}.` : '.'),
      hint: `Install the NVIDIA driver${others.length ? ` and CUDA ${input.providerCudaMajor ?? ''}` : ''}, or run with --device cpu (or webgpu).`,
    };
  }
  if (missing.length) {
    const elsewhere = missing
      .map((name) => input.libraries.find((library) => library.file === name))
      .filter((library): library is CudaLibraryFound => library !== undefined);
    const folders = [...new Set(elsewhere.map((library) => library.folder))];
    return {
      reason: 'missing-libraries',
      missing,
      text: `The CUDA provider needs ${missing.join(', ')}, which the loader cannot find.`,
      hint: folders.length
        ? `${elsewhere.map((library) => library.file).join(', ')} ${elsewhere.length > 1 ? 'are' : 'is'} in ${folders.join(', ')}, ` +
          `outside the loader's path: export LD_LIBRARY_PATH=${folders.join(':')}:$LD_LIBRARY_PATH`
        : `Install CUDA ${input.providerCudaMajor ?? ''} and cuDNN 9 (the NVIDIA packages, or pip's ` +
          `nvidia-cuda-runtime, nvidia-cublas, nvidia-curand and nvidia-cudnn-cu${input.providerCudaMajor ?? 13} ` +
          'with their lib folders on LD_LIBRARY_PATH).',
    };
  }
  const code = parseCudaFailureCode(input.probeMessage);
  const required = input.providerCudaMajor === undefined ? undefined : minimumDriverForCuda[input.providerCudaMajor];
  const driverOld =
    code === 35 ||
    /insufficient for CUDA runtime/i.test(input.probeMessage) ||
    (required !== undefined && input.driverVersion !== '' && compareVersions(input.driverVersion, required) < 0);
  if (driverOld) {
    return {
      reason: 'driver-too-old',
      missing: [],
      text: `The NVIDIA driver ${input.driverVersion || '(version unknown)'} is too old for CUDA ${input.providerCudaMajor ?? ''}${required ? `, which needs ${required} or newer` : ''}.`,
      hint: 'Update the NVIDIA driver, or install the CUDA 12 provider with `npm run setup:cuda -- --cuda 12`.',
    };
  }
  if (code === 100 || /no CUDA-capable device/i.test(input.probeMessage)) {
    return {
      reason: 'no-device',
      missing: [],
      text: 'The CUDA libraries load, but no CUDA-capable GPU is visible to them.',
      hint: 'Check `nvidia-smi` and CUDA_VISIBLE_DEVICES.',
    };
  }
  return {
    reason: 'other',
    missing: [],
    text: `The CUDA provider does not load: ${input.probeMessage || 'no reason given'}.`,
    hint: 'Run `npm run setup:cuda` again; if this repeats, report this message with `toxscope doctor --json`.',
  };
}

/** The CUDA major version a provider file needs, from its NEEDED libcudart.so.N (read with `readElfNeeded`). */
export function providerCudaMajor(needed: readonly string[]): number | undefined {
  const major = needed.map((name) => /^libcudart\.so\.(\d+)$/.exec(name)?.[1]).find((value) => value !== undefined);
  return major === undefined ? undefined : Number(major);
}

/** Reads `length` bytes of a file at `offset` (fewer at its end). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/**
 * The DT_NEEDED names of a 64-bit little-endian ELF shared library (ELF spec: section headers → SHT_DYNAMIC →
 * DT_NEEDED offsets into its linked string table), reading only those parts: the CUDA provider is 230 MB.
 * Returns [] for anything else.
 */
export function readElfNeeded(readAt: ReadAt): string[] {
  const header = readAt(0, 64);
  const isElf64 = header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46;
  if (header.byteLength < 64 || !isElf64 || header[4] !== 2 || header[5] !== 1) return [];
  const headerView = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const sectionsAt = Number(headerView.getBigUint64(0x28, true));
  const sectionSize = headerView.getUint16(0x3a, true);
  const sectionCount = headerView.getUint16(0x3c, true);
  const table = readAt(sectionsAt, sectionCount * sectionSize);
  if (sectionSize < 0x40 || table.byteLength < sectionCount * sectionSize) return [];
  const tableView = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const section = (index: number) => {
    const at = index * sectionSize;
    return {
      type: tableView.getUint32(at + 4, true),
      offset: Number(tableView.getBigUint64(at + 0x18, true)),
      size: Number(tableView.getBigUint64(at + 0x20, true)),
      link: tableView.getUint32(at + 0x28, true),
    };
  };
  const needed: string[] = [];
  for (let index = 0; index < sectionCount; index++) {
    const dynamic = section(index);
    if (dynamic.type !== 6 || dynamic.link >= sectionCount) continue; // SHT_DYNAMIC
    const strings = section(dynamic.link);
    const names = readAt(strings.offset, strings.size);
    const entries = readAt(dynamic.offset, dynamic.size);
    const entriesView = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    for (let at = 0; at + 16 <= entries.byteLength; at += 16) {
      const tag = entriesView.getBigInt64(at, true);
      if (tag === 0n) break; // DT_NULL
      if (tag !== 1n) continue; // DT_NEEDED
      const start = Number(entriesView.getBigUint64(at + 8, true));
      const end = names.indexOf(0, start);
      needed.push(new TextDecoder().decode(names.subarray(start, end < 0 ? undefined : end)));
    }
  }
  return needed;
}
