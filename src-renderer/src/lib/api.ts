// Picks the transport to the engine: Electron's preload api when present, else the loopback server's WebSocket.
// Everything else in the renderer uses `api` and never knows which one it got.

import type { ToxscopeApi } from '../../../src-main/shared/index.ts';
import { createApi } from '../../../src-main/shared/index.ts';
import { createWebSocketTransport } from './ws-transport.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser served by `toxscope serve`. */
    api?: ToxscopeApi;
  }
}

export const api: ToxscopeApi =
  window.api ??
  createApi(createWebSocketTransport(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`));
