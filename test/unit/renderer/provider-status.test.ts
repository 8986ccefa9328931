// The Models page's words for each execution provider: loads, information (not installed, no GPU here), or a problem.

import { describe, expect, it } from 'vitest';
import type { DoctorReport, ProviderProbe } from '../../../src-main/shared/index.ts';
import { providerStatus } from '../../../src-renderer/src/lib/provider-status.ts';

function doctor(cuda: Partial<NonNullable<DoctorReport['cuda']>> | null): DoctorReport {
  return {
    cuda: cuda && {
      driverVersion: '',
      provider: { folder: '/x', installed: false, cudaMajor: null, onnxruntimeVersion: '', source: '' },
      libraries: [],
      diagnosis: null,
      ...cuda,
    },
  } as DoctorReport;
}
const probe = (provider: ProviderProbe['provider'], loads = false): ProviderProbe => ({
  provider,
  loads,
  detail: 'onnxruntime said no',
});
const installed = { folder: '/x', installed: true, cudaMajor: 13, onnxruntimeVersion: '1.29.0', source: 'npm' };

describe('provider status on the Models page', () => {
  it('a CPU-only machine: CUDA not installed and WebGPU without a GPU are information, not errors', () => {
    expect(providerStatus(probe('cpu', true), doctor({}))).toEqual({ label: 'loads', tone: 'ok', detail: '' });
    expect(providerStatus(probe('cuda'), doctor({})).tone).toBe('info');
    expect(providerStatus(probe('cuda'), doctor({})).detail).toMatch(/npm run setup:cuda/);
    expect(providerStatus(probe('webgpu'), doctor({})).tone).toBe('info');
  });

  it('an NVIDIA machine: an installed provider that fails, or WebGPU that fails, is a problem with the reason', () => {
    const diagnosis = {
      reason: 'missing-libraries' as const,
      missing: ['libcublasLt.so.13'],
      text: 'libcublasLt.so.13 is missing.',
      hint: 'Install CUDA 13.',
    };
    const status = providerStatus(probe('cuda'), doctor({ driverVersion: '580.65', provider: installed, diagnosis }));
    expect(status).toEqual({
      label: 'does not load',
      tone: 'problem',
      detail: 'libcublasLt.so.13 is missing. Install CUDA 13.',
    });
    expect(providerStatus(probe('webgpu'), doctor({ driverVersion: '580.65' })).tone).toBe('problem');
    expect(providerStatus(probe('cuda'), doctor({ driverVersion: '580.65' })).detail).toMatch(/NVIDIA driver is here/);
  });
});
