// `toxscope doctor`'s CUDA section in words: one line per library family, the reason and the hint when cuda fails.
import { describe, expect, it } from 'vitest';
import { formatCudaSection } from '../../../src-main/cli/commands/doctor.ts';
import type { CudaReport } from '../../../src-main/shared/index.ts';

const pip = '/venv/lib/python3.12/site-packages/nvidia/cu13/lib';
const report: CudaReport = {
  driverVersion: '580.159.04',
  provider: {
    folder: '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64',
    installed: true,
    cudaMajor: 13,
    onnxruntimeVersion: '1.29.0',
    source: 'npm com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9',
  },
  libraries: [
    { family: 'cudart', file: 'libcudart.so.13', folder: pip, version: '13' },
    { family: 'cudart', file: 'libcudart.so.13.0.96', folder: pip, version: '13.0.96' },
    { family: 'cudart', file: 'libcudart.so.12', folder: '/usr/local/cuda-12/lib64', version: '12' },
    { family: 'cublasLt', file: 'libcublasLt.so.13', folder: pip, version: '13' },
  ],
  diagnosis: {
    reason: 'missing-libraries',
    missing: ['libcublas.so.13'],
    text: 'The CUDA provider needs libcublas.so.13, which the loader cannot find.',
    hint: 'Install CUDA 13.',
  },
};

describe('doctor CUDA section', () => {
  const lines = formatCudaSection(report);

  it('shows the most specific file of the first folder that has a family, and says which are not found', () => {
    expect(lines).toContain(`  CUDA runtime  libcudart.so.13.0.96 in ${pip}`);
    expect(lines).toContain('  cuBLAS        not found');
    expect(lines).toContain(`  cuBLASLt      libcublasLt.so.13 in ${pip}`);
  });

  it('names the provider with its CUDA major, onnxruntime version and source', () => {
    expect(lines[2]).toContain(
      'for CUDA 13, onnxruntime 1.29.0 (npm com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9)',
    );
  });

  it('ends with why cuda does not load and what to do', () => {
    expect(lines.slice(-2)).toEqual([
      '  why not:      The CUDA provider needs libcublas.so.13, which the loader cannot find.',
      '  what to do:   Install CUDA 13.',
    ]);
  });
});
