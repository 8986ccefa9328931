// The loopback-only server behind `toxscope serve`: serves the built renderer and the same jobs over WebSocket,
// on 127.0.0.1, with a per-run token on every request and Host/Origin checks.

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiService } from '../host/api-service.ts';
import { isRecord, maxStoreBytes } from '../shared/index.ts';
import {
  contentSecurityPolicy,
  createToken,
  isAllowedHost,
  isAllowedOrigin,
  readCookie,
  tokenCookie,
  tokenCookieName,
  tokensMatch,
} from './security.ts';

export interface ServerOptions {
  api: ApiService;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: URL;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Messages from the browser: `{id, channel, payload}`; replies `{id, result}`; pushes `{event}`. */
interface ClientMessage {
  id: number;
  channel: unknown;
  payload: unknown;
}

function isClientMessage(value: unknown): value is ClientMessage {
  return isRecord(value) && Number.isInteger(value.id) && 'channel' in value;
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(text);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = createToken();
  const root = fileURLToPath(options.rendererDir);
  const sockets = new Set<WebSocket>();
  let port = 0;

  const isAuthorised = (request: IncomingMessage) =>
    tokensMatch(token, readCookie(request.headers.cookie, tokenCookieName(port)));

  async function serveFile(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
    const relative = decodeURIComponent(pathname).replace(/^\/+/, '') || 'index.html';
    let file = resolve(root, relative);
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return refuse(response, 404, 'Not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      // Unknown paths without an extension are app routes: serve the shell and let the renderer route.
      if (extname(relative) !== '') return refuse(response, 404, 'Not found');
      file = resolve(root, 'index.html');
      body = await readFile(file);
    }
    response.writeHead(200, {
      'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': contentSecurityPolicy,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': extname(file) === '.html' ? 'no-store' : 'private, max-age=3600',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  const http = createServer((request, response) => {
    if (!isAllowedHost(request.headers.host, port))
      return refuse(response, 421, 'Unknown host: ToxScope answers only on 127.0.0.1.');
    if (!isAllowedOrigin(request.headers.origin, port, false))
      return refuse(response, 403, 'Cross-origin requests are refused.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'Method not allowed');
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const offered = url.searchParams.get('token');
    if (offered !== null) {
      if (!tokensMatch(token, offered))
        return refuse(response, 401, 'Wrong token. Open the exact URL that `toxscope serve` printed.');
      url.searchParams.delete('token');
      // Trade the token in the URL for a cookie, then drop it from the address bar and history.
      response.writeHead(303, {
        'Set-Cookie': tokenCookie(port, token),
        Location: url.pathname + url.search,
        'Cache-Control': 'no-store',
      });
      return void response.end();
    }
    if (!isAuthorised(request)) {
      return refuse(
        response,
        401,
        'Missing token. Open the URL that `toxscope serve` printed (it ends in ?token=...).',
      );
    }
    void serveFile(request, response, url.pathname).catch(() =>
      refuse(response, 500, 'Could not read the app files; run `npm run build`.'),
    );
  });

  // Requests may carry a whole document to detox or a stored review (up to maxStoreBytes), plus the envelope.
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: maxStoreBytes + (1 << 20) });
  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const allowed =
      url.pathname === '/ws' &&
      isAllowedHost(request.headers.host, port) &&
      isAllowedOrigin(request.headers.origin, port, true) &&
      isAuthorised(request);
    if (!allowed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    webSockets.handleUpgrade(request, socket, head, (webSocket) => acceptClient(webSocket));
  });

  function acceptClient(webSocket: WebSocket): void {
    sockets.add(webSocket);
    const session = options.api.connect((event) => webSocket.send(JSON.stringify({ event })));
    webSocket.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return webSocket.close(1003, 'messages must be JSON');
      }
      if (!isClientMessage(message)) return webSocket.close(1003, 'messages must be {id, channel, payload}');
      void session.invoke(message.channel, message.payload).then((result) => {
        if (webSocket.readyState === webSocket.OPEN) webSocket.send(JSON.stringify({ id: message.id, result }));
      });
    });
    webSocket.on('close', () => {
      sockets.delete(webSocket);
      session.dispose();
    });
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    http.once('error', rejectListen);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const socket of sockets) socket.terminate();
      webSockets.close();
      http.closeAllConnections();
      await new Promise<void>((resolveClose) => http.close(() => resolveClose()));
    },
  };
}
