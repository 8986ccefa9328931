// The request dispatcher shared by the Electron IPC router and the loopback server: validates every payload
// against the contract's guards, runs jobs on the engine host and routes each job's events to the client that
// started it. A client may only cancel its own jobs; its jobs are cancelled when it goes away.

import {
  appError,
  fail,
  invokeGuards,
  isInvokeChannel,
  ok,
  type AppInfo,
  type InvokeChannel,
  type InvokeRequest,
  type InvokeResponse,
  type JobEvent,
  type Result,
} from '../shared/index.ts';
import type { EngineHost } from './engine-host.ts';

export interface ApiClientSession {
  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>>;
  /** Cancels the client's running jobs and stops sending it events. */
  dispose(): void;
}

export interface ApiService {
  connect(sendJobEvent: (event: JobEvent) => void): ApiClientSession;
}

export function createApiService(host: EngineHost, appInfo: AppInfo): ApiService {
  return {
    connect(sendJobEvent) {
      const ownedJobs = new Set<string>();
      let disposed = false;

      const handlers: { [C in InvokeChannel]: (request: InvokeRequest<C>) => Result<InvokeResponse<C>> } = {
        'app:info': () => ok(appInfo),
        'app:ping': () => ok({ at: Date.now() }),
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
          const handler = handlers[channel] as (request: unknown) => Result<unknown>;
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
