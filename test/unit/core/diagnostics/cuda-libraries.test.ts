// The pure parts of `toxscope doctor`'s CUDA report: library search over a fake folder tree, versions from file
// names, ELF DT_NEEDED reading, and the plain-words reasons a provider does not load (see docs/gpu.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cudaSearchFolders,
  diagnoseCudaProvider,
  findCudaLibraries,
  parseCudaFailureCode,
  parseDriverVersion,
  parseMissingLibraries,
  providerCudaMajor,
  readElfNeeded,
  sonameVersion,
  type DiagnosisInput,
} from '../../../../src-main/core/diagnostics/cuda-libraries.ts';
import { providerLibraryFolder } from '../../../../src-main/core/runtime/onnxruntime.ts';

/** A fake file system: folder → entries. */
function fakeTree(tree: Record<string, string[]>) {
  return (folder: string) => tree[folder] ?? [];
}

const site = '/opt/torch/.venv/lib/python3.12/site-packages';
const tree = fakeTree({
  '/usr/local': ['bin', 'cuda', 'cuda-12.4', 'lib'],
  '/usr/local/cuda/lib64': ['libcudart.so', 'libcudart.so.13', 'libcudart_static.a'],
  '/usr/local/cuda-12.4/lib64': ['libcublas.so.12', 'libcublas.so.12.4.5.8'],
  '/usr/lib/x86_64-linux-gnu': ['libcuda.so.1', 'libcuda.so.580.159.04', 'libc.so.6'],
  [`${site}/nvidia`]: ['cu13', 'cudnn', '__init__.py'],
  [`${site}/nvidia/cu13/lib`]: ['libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10', 'libnvrtc.so.13'],
  [`${site}/nvidia/cudnn/lib`]: ['libcudnn.so.9', 'libcudnn_graph.so.9'],
  '/my/ort': ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime.so.1'],
});

describe('CUDA library search', () => {
  it('searches LD_LIBRARY_PATH first, then the system, /usr/local/cuda* and pip nvidia lib folders', () => {
    const folders = cudaSearchFolders({ ldLibraryPath: '/my/ort::/opt/x', sitePackages: [site], listDir: tree });
    expect(folders.slice(0, 3)).toEqual(['/my/ort', '/opt/x', '/usr/lib/x86_64-linux-gnu']);
    expect(folders).toContain('/usr/local/cuda/lib64');
    expect(folders).toContain('/usr/local/cuda-12.4/lib64');
    expect(folders).not.toContain('/usr/local/lib/lib64');
    expect(folders.slice(-2)).toEqual([`${site}/nvidia/cu13/lib`, `${site}/nvidia/cudnn/lib`]);
  });

  it('finds each family with the version its file name carries, and nothing else', () => {
    const folders = cudaSearchFolders({ ldLibraryPath: undefined, sitePackages: [site], listDir: tree });
    const found = findCudaLibraries(folders, tree);
    const summary = found.map((library) => `${library.family} ${library.file} ${library.version}`);
    expect(summary).toEqual([
      'cuda-driver libcuda.so.1 1',
      'cuda-driver libcuda.so.580.159.04 580.159.04',
      'cudart libcudart.so ',
      'cudart libcudart.so.13 13',
      'cublas libcublas.so.12 12',
      'cublas libcublas.so.12.4.5.8 12.4.5.8',
      'cublas libcublas.so.13 13',
      'cublasLt libcublasLt.so.13 13',
      'curand libcurand.so.10 10',
      'cudnn libcudnn.so.9 9',
    ]);
  });

  it('reads a version from a soname only at the end of the name', () => {
    expect(sonameVersion('libcudnn.so.9.13.0')).toBe('9.13.0');
    expect(sonameVersion('libcudart.so')).toBe('');
    expect(sonameVersion('libfoo.so.1.txt')).toBe('');
  });
});

describe('provider failure explanations', () => {
  const libraries = findCudaLibraries(
    cudaSearchFolders({ ldLibraryPath: undefined, sitePackages: [site], listDir: tree }),
    tree,
  );
  const base: DiagnosisInput = {
    probeMessage: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    providerInstalled: true,
    lddOutput: '',
    providerCudaMajor: 13,
    driverVersion: '580.159.04',
    libraries,
  };

  it('names every library ldd and dlopen could not find, once each', () => {
    const ldd =
      '\tlibcublasLt.so.13 => not found\n\tlibcublas.so.13 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n';
    const dlopen = 'with error: libcublasLt.so.13: cannot open shared object file: No such file or directory';
    expect(parseMissingLibraries(`${dlopen}\n${ldd}`)).toEqual(['libcublasLt.so.13', 'libcublas.so.13']);
  });

  it('says where a missing library is when pip installed it off the loader path', () => {
    const diagnosis = diagnoseCudaProvider({ ...base, lddOutput: '\tlibcublasLt.so.13 => not found\n' });
    expect(diagnosis.reason).toBe('missing-libraries');
    expect(diagnosis.missing).toEqual(['libcublasLt.so.13']);
    expect(diagnosis.hint).toContain(`export LD_LIBRARY_PATH=${site}/nvidia/cu13/lib:`);
  });

  it('asks for CUDA itself when a missing library is nowhere on disk', () => {
    const diagnosis = diagnoseCudaProvider({ ...base, lddOutput: '\tlibcudart.so.13 => not found\n', libraries: [] });
    expect(diagnosis.text).toContain('libcudart.so.13');
    expect(diagnosis.hint).toMatch(/Install CUDA 13/);
  });

  it('reports no driver first, and names the other missing libraries too', () => {
    const ldd = '\tlibcuda.so.1 => not found\n\tlibcublasLt.so.13 => not found\n';
    const diagnosis = diagnoseCudaProvider({ ...base, driverVersion: '', lddOutput: ldd });
    expect(diagnosis.reason).toBe('no-driver');
    expect(diagnosis.missing).toEqual(['libcuda.so.1', 'libcublasLt.so.13']);
    expect(diagnosis.text).toContain('also needs libcublasLt.so.13.');
  });

  it('reports a driver older than the CUDA major the provider was built for', () => {
    const fromCode = diagnoseCudaProvider({
      ...base,
      probeMessage: 'CUDA failure 35: CUDA driver version is insufficient',
    });
    expect(fromCode.reason).toBe('driver-too-old');
    const fromVersion = diagnoseCudaProvider({
      ...base,
      probeMessage: 'CUDA failure 999: unknown',
      driverVersion: '550.54.14',
    });
    expect(fromVersion.reason).toBe('driver-too-old');
    expect(fromVersion.text).toContain('580.65.06');
  });

  it('reports a missing provider before anything else', () => {
    expect(diagnoseCudaProvider({ ...base, providerInstalled: false }).reason).toBe('provider-missing');
  });

  it('reports no visible GPU for CUDA error 100', () => {
    expect(diagnoseCudaProvider({ ...base, probeMessage: 'CUDA failure 100: no CUDA-capable device' }).reason).toBe(
      'no-device',
    );
    expect(parseCudaFailureCode('… CUDA failure 100: stub …')).toBe(100);
    expect(parseCudaFailureCode('Failed to load shared library')).toBeUndefined();
  });

  it('reads the kernel driver version from /proc/driver/nvidia/version', () => {
    const text =
      'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (dvs-builder@U22)\n';
    expect(parseDriverVersion(text)).toBe('580.159.04');
    expect(parseDriverVersion('NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 2024\n')).toBe(
      '550.54.14',
    );
    expect(parseDriverVersion('')).toBe('');
  });
});

/** A minimal ELF64 file with one SHT_DYNAMIC section listing `needed`, laid out as the ELF spec says. */
function elfWithNeeded(needed: string[]): Uint8Array {
  const strings = new TextEncoder().encode(`\0${needed.join('\0')}\0`);
  const dynamicAt = 64;
  const dynamicSize = (needed.length + 1) * 16;
  const stringsAt = dynamicAt + dynamicSize;
  const sectionsAt = stringsAt + strings.length + ((8 - ((stringsAt + strings.length) % 8)) % 8);
  const bytes = new Uint8Array(sectionsAt + 3 * 64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setBigUint64(0x28, BigInt(sectionsAt), true);
  view.setUint16(0x3a, 64, true);
  view.setUint16(0x3c, 3, true);
  let nameOffset = 1;
  needed.forEach((name, index) => {
    view.setBigInt64(dynamicAt + index * 16, 1n, true);
    view.setBigUint64(dynamicAt + index * 16 + 8, BigInt(nameOffset), true);
    nameOffset += name.length + 1;
  });
  bytes.set(strings, stringsAt);
  const section = (index: number, type: number, offset: number, size: number, link: number) => {
    const at = sectionsAt + index * 64;
    view.setUint32(at + 4, type, true);
    view.setBigUint64(at + 0x18, BigInt(offset), true);
    view.setBigUint64(at + 0x20, BigInt(size), true);
    view.setUint32(at + 0x28, link, true);
  };
  section(1, 6, dynamicAt, dynamicSize, 2);
  section(2, 3, stringsAt, strings.length, 0);
  return bytes;
}

describe('ELF DT_NEEDED', () => {
  const readerOf = (bytes: Uint8Array) => (offset: number, length: number) => bytes.subarray(offset, offset + length);

  it('lists the needed libraries of a shared library and the CUDA major of its libcudart', () => {
    const needed = ['libcublasLt.so.13', 'libcublas.so.13', 'libcudart.so.13', 'libc.so.6'];
    expect(readElfNeeded(readerOf(elfWithNeeded(needed)))).toEqual(needed);
    expect(providerCudaMajor(needed)).toBe(13);
    expect(providerCudaMajor(['libc.so.6'])).toBeUndefined();
  });

  it("reads the real onnxruntime-node binding's needed libraries", () => {
    const binding = join(providerLibraryFolder(), 'onnxruntime_binding.node');
    const bytes = new Uint8Array(readFileSync(binding));
    expect(readElfNeeded(readerOf(bytes))).toContain('libonnxruntime.so.1');
  });

  it('returns nothing for a file that is not ELF64', () => {
    expect(
      readElfNeeded(
        readerOf(new TextEncoder().encode('not an elf file at all, but long enough to read 64 bytes!!!!!!')),
      ),
    ).toEqual([]);
    expect(readElfNeeded(readerOf(new Uint8Array(10)))).toEqual([]);
  });
});
