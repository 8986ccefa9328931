// The typed contract between the renderer and the engine: invoke channels (request → Result), the job event
// stream, a payload guard per channel, and the `window.api` surface that both transports implement.

import type { Result } from './errors.ts';
import { hasOnlyKeys, isOneOf, isRecord, type Guard } from './guards.ts';
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
  /** The detox gate's shipped blocklist (resources/detox/blocklist.txt), the app's default as it is the CLI's. */
  defaultBlocklist: string;
}

export interface JobStartRequest {
  job: JobName;
  request: unknown;
}

export interface JobStarted {
  jobId: string;
}

/** What the user data folder remembers between starts: the app's settings and the detox review in progress. */
export const storeKeys = ['settings', 'detox-review'] as const;
export type StoreKey = (typeof storeKeys)[number];
/** A stored document may hold a reviewed document of a few MB with its edits; larger payloads are refused. */
export const maxStoreBytes = 64 * 1024 * 1024;

/** A folder as the Browse… picker shows it. */
export interface FolderListing {
  /** The folder listed (links resolved). */
  path: string;
  /** Its parent, null at the home folder (the picker goes no higher). */
  parent: string | null;
  home: string;
  /** Folders first, then files, each in name order; model: a folder with config.json, or a weights file. */
  entries: { name: string; kind: 'folder' | 'file'; model: boolean }[];
}

/** channel → request and response types. Every channel is `domain:verb`. */
export interface InvokeChannels {
  'app:info': { request: null; response: AppInfo };
  'app:ping': { request: null; response: { at: number } };
  /** Shows a file or folder in the system file manager (Electron); the server answers revealed: false. */
  'app:reveal': { request: { path: string }; response: { revealed: boolean } };
  /** A native open dialog (Electron); the server answers path: null and the page offers a path field instead. */
  'app:choose-path': { request: { kind: 'file' | 'folder' }; response: { path: string | null } };
  /** One folder's entries for the browser's Browse… picker, inside the user's home folder only (null: the home). */
  'app:list-folder': { request: { path: string | null }; response: FolderListing };
  'job:start': { request: JobStartRequest; response: JobStarted };
  'job:cancel': { request: { jobId: string }; response: { cancelled: boolean } };
  /** The stored value, null when nothing is stored yet. */
  'store:read': { request: { key: StoreKey }; response: { value: unknown } };
  'store:write': { request: { key: StoreKey; value: unknown }; response: { written: true } };
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

function isRevealRequest(value: unknown): value is { path: string } {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['path']) &&
    typeof value.path === 'string' &&
    value.path.length > 0 &&
    value.path.length <= 4096
  );
}

const isStoreKey = isOneOf(storeKeys);

function isStoreReadRequest(value: unknown): value is { key: StoreKey } {
  return isRecord(value) && hasOnlyKeys(value, ['key']) && isStoreKey(value.key);
}

function isStoreWriteRequest(value: unknown): value is { key: StoreKey; value: unknown } {
  return isRecord(value) && hasOnlyKeys(value, ['key', 'value']) && isStoreKey(value.key) && value.value !== undefined;
}

export const invokeGuards: { [C in InvokeChannel]: Guard<InvokeRequest<C>> } = {
  'app:info': isNull,
  'app:ping': isNull,
  'app:reveal': isRevealRequest,
  'app:choose-path': (value: unknown): value is { kind: 'file' | 'folder' } =>
    isRecord(value) && hasOnlyKeys(value, ['kind']) && isOneOf(['file', 'folder'] as const)(value.kind),
  'app:list-folder': (value: unknown): value is { path: string | null } =>
    isRecord(value) && hasOnlyKeys(value, ['path']) && (value.path === null || typeof value.path === 'string'),
  'job:start': isJobStartRequest,
  'job:cancel': isJobCancelRequest,
  'store:read': isStoreReadRequest,
  'store:write': isStoreWriteRequest,
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
  reveal(path: string): Promise<Result<{ revealed: boolean }>>;
  choosePath(kind: 'file' | 'folder'): Promise<Result<{ path: string | null }>>;
  listFolder(path: string | null): Promise<Result<FolderListing>>;
  readStore(key: StoreKey): Promise<Result<{ value: unknown }>>;
  writeStore(key: StoreKey, value: unknown): Promise<Result<{ written: true }>>;
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
    reveal: (path) => call('app:reveal', { path }),
    choosePath: (kind) => call('app:choose-path', { kind }),
    listFolder: (path) => call('app:list-folder', { path }),
    readStore: (key) => call('store:read', { key }),
    writeStore: (key, value) => call('store:write', { key, value }),
    onJobEvent: (listener) => transport.onJobEvent(listener),
  };
}
