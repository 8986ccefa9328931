// `toxscope doctor [--json]`: prints the machine report in words, or as JSON.

import { appVersion } from '../../core/app-version.ts';
import { collectDoctorReport } from '../../core/diagnostics/doctor.ts';
import type { DoctorReport } from '../../shared/index.ts';
import type { CliIo } from '../io.ts';

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

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
    `Electron: ${mark(report.electron.installed)}${report.electron.detail}`,
    `Display:  ${mark(report.display.available)}${report.display.detail}`,
  ];
  const cuda = report.providers.find((probe) => probe.provider === 'cuda');
  if (cuda && !cuda.loads)
    lines.push('', 'GPU: to use an NVIDIA GPU, run `npm run setup:cuda` (Linux x64, CUDA 12 + cuDNN 9).');
  return lines.join('\n') + '\n';
}

export async function doctorCommand(options: { json: boolean }, io: CliIo): Promise<number> {
  const report = await collectDoctorReport(appVersion);
  io.stdout(options.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
  return 0;
}
