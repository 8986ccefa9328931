// The browser transport: request/response and job events over one WebSocket to `toxscope serve`.
// The server authenticates the socket with the HttpOnly token cookie it set on first load.

import {
  appError,
  fail,
  isRecord,
  type InvokeChannel,
  type JobEvent,
  type Result,
  type Transport,
} from '../../../src-main/shared/index.ts';

const connectionLost = appError(
  'ENGINE_CRASHED',
  'The connection to the ToxScope server was lost.',
  'Check that `toxscope serve` is still running, then reload this page.',
);

export function createWebSocketTransport(url: string): Transport {
  const socket = new WebSocket(url);
  const opened = new Promise<boolean>((resolve) => {
    socket.addEventListener('open', () => resolve(true), { once: true });
    socket.addEventListener('close', () => resolve(false), { once: true });
  });
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<(event: JobEvent) => void>();
  let nextId = 1;

  socket.addEventListener('message', (message) => {
    const data: unknown = JSON.parse(String(message.data));
    if (!isRecord(data)) return;
    if (typeof data.id === 'number') {
      pending.get(data.id)?.(data.result as Result<unknown>);
      pending.delete(data.id);
    } else if (isRecord(data.event)) {
      for (const listener of listeners) listener(data.event as unknown as JobEvent);
    }
  });
  socket.addEventListener('close', () => {
    for (const resolve of pending.values()) resolve(fail(connectionLost));
    pending.clear();
  });

  return {
    async invoke(channel: InvokeChannel, payload: unknown) {
      if (!(await opened) || socket.readyState !== WebSocket.OPEN) return fail(connectionLost);
      const id = nextId++;
      return new Promise<Result<unknown>>((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, channel, payload }));
      });
    },
    onJobEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
