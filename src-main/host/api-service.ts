// The request dispatcher shared by the Electron IPC router and the loopback server: validates every payload
// against the contract's guards, runs jobs on the engine host and routes each job's events to the client that
// started it. A client may only cancel its own jobs; its jobs are cancelled when it goes away.

import {
  appError,
  fail,
  invokeGuards,
  maxStoreBytes,
  toAppError,
  isInvokeChannel,
  ok,
  type AppInfo,
  type InvokeChannel,
  type InvokeRequest,
  type InvokeResponse,
  type JobEvent,
  type Result,
} from '../shared/index.ts';
import { existsSync } from 'node:fs';
import { listFolder } from '../core/files/folder-listing.ts';
import { readUserStore, writeUserStore } from '../core/store/user-store.ts';
import type { EngineHost } from './engine-host.ts';

export interface ApiClientSession {
  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>>;
  /** Cancels the client's running jobs and stops sending it events. */
  dispose(): void;
}

export interface ApiService {
  connect(sendJobEvent: (event: JobEvent) => void): ApiClientSession;
}

/** Runs a synchronous file operation, turning a thrown error into a Result the renderer can show. */
function attempt<T>(operation: () => T): Result<T> {
  try {
    return ok(operation());
  } catch (error) {
    return fail(toAppError(error));
  }
}

export interface ApiServiceOptions {
  /** Where the store channels keep their files (the user data folder). */
  dataDir: string;
  /** Shows a path in the system file manager; absent where there is none to show (the server). */
  reveal?: (path: string) => Promise<boolean>;
  /** A native open dialog; absent in the server, whose page types paths instead. */
  choosePath?: (kind: 'file' | 'folder') => Promise<string | null>;
}

export function createApiService(host: EngineHost, appInfo: AppInfo, options: ApiServiceOptions): ApiService {
  return {
    connect(sendJobEvent) {
      const ownedJobs = new Set<string>();
      let disposed = false;

      const handlers: {
        [C in InvokeChannel]: (
          request: InvokeRequest<C>,
        ) => Result<InvokeResponse<C>> | Promise<Result<InvokeResponse<C>>>;
      } = {
        'app:info': () => ok(appInfo),
        'app:ping': () => ok({ at: Date.now() }),
        'app:reveal': async ({ path }) => {
          if (!options.reveal || !existsSync(path)) return ok({ revealed: false });
          return ok({ revealed: await options.reveal(path) });
        },
        'app:choose-path': async ({ kind }) => ok({ path: options.choosePath ? await options.choosePath(kind) : null }),
        'app:list-folder': ({ path }) => attempt(() => listFolder(path)),
        'store:read': ({ key }) => attempt(() => ({ value: readUserStore(options.dataDir, key) })),
        'store:write': ({ key, value }) => {
          const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
          if (bytes > maxStoreBytes)
            return fail(
              appError(
                'INPUT_INVALID',
                `The ${key} document is ${Math.round(bytes / 1048576)} MB; at most ${maxStoreBytes / 1048576} MB are kept.`,
                'Save the document to a file instead.',
              ),
            );
          return attempt(() => {
            writeUserStore(options.dataDir, key, value);
            return { written: true as const };
          });
        },
        'job:start': ({ job, request }) => {
          const started = host.start(job, request, (event) => {
            if (event.type === 'result' || event.type === 'error') ownedJobs.delete(event.jobId);
            if (!disposed) sendJobEvent(event);
          });
          if (!started.ok) return started;
          ownedJobs.add(started.value);
          return ok({ jobId: started.value });
        },
        'job:cancel': ({ jobId }) => ok({ cancelled: ownedJobs.has(jobId) && host.cancel(jobId) }),
      };

      return {
        async invoke(channel, payload) {
          if (disposed) return fail(appError('INTERNAL', 'This connection is closed.', 'Reload the page.'));
          if (!isInvokeChannel(channel)) {
            return fail(
              appError('UNKNOWN_CHANNEL', `No channel named ${JSON.stringify(channel)}.`, 'Reload the page.'),
            );
          }
          if (!invokeGuards[channel](payload)) {
            return fail(appError('INPUT_INVALID', `The payload for ${channel} is malformed.`, 'Reload the page.'));
          }
          const handler = handlers[channel] as (request: unknown) => Result<unknown> | Promise<Result<unknown>>;
          return handler(payload ?? null);
        },
        dispose() {
          disposed = true;
          for (const jobId of ownedJobs) host.cancel(jobId);
          ownedJobs.clear();
        },
      };
    },
  };
}
