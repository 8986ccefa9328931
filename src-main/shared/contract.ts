// The typed contract between the renderer and the engine: invoke channels (request → Result), the job event
// stream, a payload guard per channel, and the `window.api` surface that both transports implement.

import type { Result } from './errors.ts';
import { hasOnlyKeys, isRecord, type Guard } from './guards.ts';
import { isJobName, type JobEvent, type JobName, type JobRequest } from './jobs.ts';

export interface AppInfo {
  name: 'ToxScope';
  version: string;
  /** Which front door serves this renderer. */
  transport: 'electron' | 'server';
  onnxruntimeVersion: string;
  platform: string;
  /** The bundled demo models, prompts and detox examples (resources/demo). */
  demoFolder: string;
  /** Where runs started from the UI write their result bundles. */
  resultsFolder: string;
}

export interface JobStartRequest {
  job: JobName;
  request: unknown;
}

export interface JobStarted {
  jobId: string;
}

/** channel → request and response types. Every channel is `domain:verb`. */
export interface InvokeChannels {
  'app:info': { request: null; response: AppInfo };
  'app:ping': { request: null; response: { at: number } };
  'job:start': { request: JobStartRequest; response: JobStarted };
  'job:cancel': { request: { jobId: string }; response: { cancelled: boolean } };
}

export type InvokeChannel = keyof InvokeChannels;
export type InvokeRequest<C extends InvokeChannel> = InvokeChannels[C]['request'];
export type InvokeResponse<C extends InvokeChannel> = InvokeChannels[C]['response'];

/** Electron's single IPC invoke channel; the contract's channel name travels as its first argument. */
export const electronInvokeChannel = 'toxscope:invoke';

/** The one push channel: job events for every job this renderer started. */
export const jobEventChannel = 'job:event';

const isNull: Guard<null> = (value: unknown): value is null => value === null || value === undefined;

/** Guards only the envelope; the job's own request guard runs in the engine host against the job's schema. */
function isJobStartRequest(value: unknown): value is JobStartRequest {
  return isRecord(value) && hasOnlyKeys(value, ['job', 'request']) && isJobName(value.job) && 'request' in value;
}

function isJobCancelRequest(value: unknown): value is { jobId: string } {
  return (
    isRecord(value) && hasOnlyKeys(value, ['jobId']) && typeof value.jobId === 'string' && value.jobId.length <= 64
  );
}

export const invokeGuards: { [C in InvokeChannel]: Guard<InvokeRequest<C>> } = {
  'app:info': isNull,
  'app:ping': isNull,
  'job:start': isJobStartRequest,
  'job:cancel': isJobCancelRequest,
};

export function isInvokeChannel(value: unknown): value is InvokeChannel {
  return typeof value === 'string' && Object.hasOwn(invokeGuards, value);
}

/** The low-level transport both front doors provide: Electron's preload or the WebSocket client. */
export interface Transport {
  invoke(channel: InvokeChannel, payload: unknown): Promise<Result<unknown>>;
  /** Subscribes to job events; returns the unsubscribe function. */
  onJobEvent(listener: (event: JobEvent) => void): () => void;
}

/** `window.api`: what the renderer sees, identical over both transports. */
export interface ToxscopeApi {
  appInfo(): Promise<Result<AppInfo>>;
  ping(): Promise<Result<{ at: number }>>;
  startJob<N extends JobName>(job: N, request: JobRequest<N>): Promise<Result<JobStarted>>;
  cancelJob(jobId: string): Promise<Result<{ cancelled: boolean }>>;
  onJobEvent(listener: (event: JobEvent) => void): () => void;
}

/** Builds the typed api over a transport; the responses are trusted because the engine side produced them. */
export function createApi(transport: Transport): ToxscopeApi {
  const call = <C extends InvokeChannel>(channel: C, payload: InvokeRequest<C>) =>
    transport.invoke(channel, payload) as Promise<Result<InvokeResponse<C>>>;
  return {
    appInfo: () => call('app:info', null),
    ping: () => call('app:ping', null),
    startJob: (job, request) => call('job:start', { job, request }),
    cancelJob: (jobId) => call('job:cancel', { jobId }),
    onJobEvent: (listener) => transport.onJobEvent(listener),
  };
}
