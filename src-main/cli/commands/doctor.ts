// `toxscope doctor [--json]`: prints the machine report in words, or as JSON.

import { appVersion } from '../../core/app-version.ts';
import { collectDoctorReport } from '../../core/diagnostics/doctor.ts';
import type { CudaLibraryFamily, CudaReport, DoctorReport } from '../../shared/index.ts';
import type { CliIo } from '../io.ts';

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

const familyLabels: [CudaLibraryFamily, string][] = [
  ['cudart', 'CUDA runtime'],
  ['cublas', 'cuBLAS'],
  ['cublasLt', 'cuBLASLt'],
  ['curand', 'cuRAND'],
  ['cudnn', 'cuDNN'],
  ['cuda-driver', 'libcuda'],
];

/** The CUDA section: one line per library family (the first folder in search order, its most specific file name). */
export function formatCudaSection(cuda: CudaReport): string[] {
  const provider = cuda.provider;
  const lines = [
    'CUDA (files found on disk; versions from their names):',
    `  driver        ${cuda.driverVersion || 'none loaded (no /proc/driver/nvidia/version)'}`,
    `  provider      ${
      provider.installed
        ? `for CUDA ${provider.cudaMajor ?? '?'}, onnxruntime ${provider.onnxruntimeVersion || '?'} (${provider.source})`
        : 'not installed'
    } in ${provider.folder}`,
  ];
  for (const [family, label] of familyLabels) {
    const first = cuda.libraries.find((library) => library.family === family);
    const inFolder = cuda.libraries.filter((library) => library.family === family && library.folder === first?.folder);
    const best = inFolder.sort((a, b) => b.file.length - a.file.length)[0];
    lines.push(`  ${label.padEnd(14)}${best ? `${best.file} in ${best.folder}` : 'not found'}`);
  }
  if (cuda.diagnosis) lines.push(`  why not:      ${cuda.diagnosis.text}`, `  what to do:   ${cuda.diagnosis.hint}`);
  return lines;
}

export function formatDoctorReport(report: DoctorReport): string {
  const mark = (good: boolean) => (good ? 'ok ' : 'no ');
  const lines = [
    `ToxScope ${report.toxscopeVersion} on ${report.platform}, Node ${report.node}, onnxruntime-node ${report.onnxruntime}`,
    '',
    'Execution providers (each probed with a real session):',
    ...report.providers.map(
      (probe) =>
        `  ${mark(probe.loads)} ${probe.provider.padEnd(9)}${probe.bundled ? 'bundled' : 'separate install'}${
          probe.loads ? '' : ` — ${probe.detail}`
        }`,
    ),
    '',
    `CPU:     ${report.cpu.model}, ${report.cpu.logicalCores} logical cores${
      report.cpu.features.length ? `, ${report.cpu.features.join(' ')}` : ''
    }`,
    `Memory:  ${gib(report.memory.freeBytes)} free of ${gib(report.memory.totalBytes)}`,
    `Pages:   ${hugePagesLine(report.memory.hugePages)}`,
    ...(report.platform.startsWith('linux') ? [`Freed:   ${freedMemoryLine(report.memory.keepsFreedMemory)}`] : []),
    `Electron: ${mark(report.electron.installed)}${report.electron.detail}`,
    `Display:  ${mark(report.display.available)}${report.display.detail}`,
  ];
  if (report.cuda) lines.push('', ...formatCudaSection(report.cuda));
  return lines.join('\n') + '\n';
}

function hugePagesLine({ kernel, malloc }: DoctorReport['memory']['hugePages']): string {
  if (kernel === null) return 'no transparent huge pages on this system';
  if (malloc) return `transparent huge pages (kernel: ${kernel}) back malloc's large buffers`;
  if (kernel === 'madvise')
    return "huge pages only on request (kernel: madvise), and this process's malloc does not ask: start ToxScope with `toxscope` and without TOXSCOPE_HUGE_PAGES=off, or with GLIBC_TUNABLES=glibc.malloc.hugetlb=1";
  return `no transparent huge pages (kernel: ${kernel})`;
}

function freedMemoryLine(kept: boolean): string {
  return kept
    ? "malloc keeps the memory this process frees for its next buffers (up to 1 GiB spare; a command's process ends with its job)"
    : 'malloc hands freed memory back to the system at once (a long-running process, or TOXSCOPE_KEEP_FREED_MEMORY=off)';
}

export async function doctorCommand(options: { json: boolean }, io: CliIo): Promise<number> {
  const report = await collectDoctorReport(appVersion);
  io.stdout(options.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
  return 0;
}
