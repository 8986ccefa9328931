// How the Models page words each execution provider's probe: one that loads, one that is simply not installed or has
// no GPU to use on this machine (information: the CPU runs everything), and one that should load and does not (a
// problem worth reading, with the reason).

import type { DoctorReport, ProviderProbe } from '../../../src-main/shared/index.ts';

export interface ProviderStatus {
  label: string;
  tone: 'ok' | 'info' | 'problem';
  detail: string;
}

export function providerStatus(probe: ProviderProbe, doctor: DoctorReport): ProviderStatus {
  if (probe.loads) return { label: 'loads', tone: 'ok', detail: '' };
  const nvidiaDriver = (doctor.cuda?.driverVersion ?? '') !== '';
  if (probe.provider === 'cuda') {
    const diagnosis = doctor.cuda?.diagnosis ?? null;
    if (!doctor.cuda?.provider.installed || diagnosis?.reason === 'provider-missing')
      return {
        label: 'not installed',
        tone: 'info',
        detail: nvidiaDriver
          ? 'an NVIDIA driver is here: `npm run setup:cuda` adds the CUDA provider'
          : 'optional, for an NVIDIA GPU (`npm run setup:cuda`)',
      };
    if (diagnosis?.reason === 'no-driver' || diagnosis?.reason === 'no-device')
      return { label: 'no NVIDIA GPU here', tone: 'info', detail: diagnosis.text };
    return {
      label: 'does not load',
      tone: 'problem',
      detail: diagnosis ? `${diagnosis.text} ${diagnosis.hint}` : probe.detail,
    };
  }
  if (probe.provider === 'tensorrt') return { label: 'not installed', tone: 'info', detail: 'optional' };
  if (probe.provider === 'webgpu' && !nvidiaDriver)
    return { label: 'no usable GPU here', tone: 'info', detail: probe.detail };
  return { label: 'does not load', tone: 'problem', detail: probe.detail };
}
