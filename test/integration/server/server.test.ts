// Integration tests of the loopback server: token and cookie, Host/Origin refusal, the WebSocket api, streaming,
// and a serving loop that stays responsive while a job blocks its worker thread.

import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine, type Engine } from '../../../src-main/host/engine.ts';
import { startServer, type RunningServer } from '../../../src-main/server/server.ts';
import { tokenCookieName } from '../../../src-main/server/security.ts';
import { blockingJobsModule, rendererDir, requireBuild, workerUrl } from '../../support/built-app.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { rawGet } from '../../support/http.ts';

let engine: Engine;
let server: RunningServer;
let cookie: string;

let dataDir: string;

beforeAll(async () => {
  requireBuild();
  dataDir = useTemporaryDataDir();
  engine = createEngine('server', { workerUrl, extraJobModules: [blockingJobsModule] });
  server = await startServer({ api: engine.api, rendererDir });
  cookie = `${tokenCookieName(server.port)}=${server.token}`;
});

afterAll(async () => {
  await server.close();
  await engine.host.close();
});

/** A WebSocket client speaking the server's {id, channel, payload} protocol. */
async function connect(headers: Record<string, string>) {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  let nextId = 1;
  const invoke = async (channel: string, payload: unknown) => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, channel, payload }));
    for (;;) {
      const reply = messages.find((message) => message.id === id);
      if (reply) return reply.result as { ok: boolean; value?: Record<string, unknown>; error?: { code: string } };
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  return { socket, messages, invoke };
}

const origin = () => `http://127.0.0.1:${server.port}`;

describe('loopback server', () => {
  it('listens on 127.0.0.1 and prints a URL carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('answers 401 to a request without the token', async () => {
    const response = await rawGet(server.port, '/');
    expect(response.status).toBe(401);
    expect(response.body).toMatch(/toxscope serve/);
  });

  it('answers 401 to a wrong token', async () => {
    expect((await rawGet(server.port, '/?token=wrong')).status).toBe(401);
  });

  it('trades the token in the URL for an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const response = await rawGet(server.port, `/?token=${server.token}`);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');
    expect(response.headers['set-cookie']?.[0]).toBe(`${cookie}; HttpOnly; SameSite=Strict; Path=/`);
  });

  it('serves the app with a strict CSP to a request carrying the cookie', async () => {
    const response = await rawGet(server.port, '/', { cookie });
    expect(response.status).toBe(200);
    expect(response.body).toContain('<div id="app">');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'self'/);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the cookie', async () => {
    const response = await rawGet(server.port, '/', { cookie, host: `attacker.example:${server.port}` });
    expect(response.status).toBe(421);
  });

  it('refuses a foreign Origin even with the cookie', async () => {
    expect((await rawGet(server.port, '/', { cookie, origin: 'http://attacker.example' })).status).toBe(403);
  });

  it('does not serve files outside the renderer folder', async () => {
    expect((await rawGet(server.port, '/..%2f..%2fpackage.json', { cookie })).status).toBe(404);
  });

  it('refuses a WebSocket without the cookie, or from a foreign origin', async () => {
    await expect(connect({ origin: origin() })).rejects.toThrow(/401/);
    await expect(connect({ origin: 'http://attacker.example', cookie })).rejects.toThrow(/401/);
  });

  it('answers app:info and rejects malformed payloads as values over the WebSocket', async () => {
    const client = await connect({ origin: origin(), cookie });
    const info = await client.invoke('app:info', null);
    expect(info).toMatchObject({ ok: true, value: { name: 'ToxScope', transport: 'server' } });
    expect(await client.invoke('job:start', { job: 'device:benchmark', request: { device: 'cpu' } })).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID' },
    });
    expect(await client.invoke('fs:delete', null)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    client.socket.close();
  });

  it('keeps stored documents in the user data folder between engines, and refuses unknown keys', async () => {
    const client = await connect({ origin: origin(), cookie });
    expect(await client.invoke('store:read', { key: 'settings' })).toEqual({ ok: true, value: { value: null } });
    const settings = { models: ['/data/gpt2-medium'], device: 'cpu', note: 'ünïcode ✓' };
    expect((await client.invoke('store:write', { key: 'settings', value: settings })).ok).toBe(true);
    expect(JSON.parse(readFileSync(join(dataDir, 'store', 'settings.json'), 'utf8'))).toEqual(settings);
    // A second engine on the same folder (an app restart) reads the same value.
    const restarted = createEngine('server', { workerUrl });
    const session = restarted.api.connect(() => undefined);
    expect(await session.invoke('store:read', { key: 'settings' })).toEqual({ ok: true, value: { value: settings } });
    session.dispose();
    await restarted.host.close();
    // A review of a long document is several MB: it crosses the WebSocket in one message.
    const large = { sentences: Array.from({ length: 20_000 }, (_, index) => `sentence ${index} ✓ `.repeat(10)) };
    expect((await client.invoke('store:write', { key: 'detox-review', value: large })).ok).toBe(true);
    expect(await client.invoke('store:read', { key: 'detox-review' })).toEqual({ ok: true, value: { value: large } });
    const refused = await client.invoke('store:write', { key: '../escape', value: 1 });
    expect(refused.error?.code).toBe('INPUT_INVALID');
    writeFileSync(join(dataDir, 'store', 'detox-review.json'), '{"half":');
    const damaged = await client.invoke('store:read', { key: 'detox-review' });
    expect(damaged.error?.code).toBe('INPUT_INVALID');
    expect(JSON.stringify(damaged.error)).toMatch(/detox-review\.json is not valid JSON/);
    client.socket.close();
  });

  it('answers revealed: false in server mode, where there is no file manager to show', async () => {
    const client = await connect({ origin: origin(), cookie });
    expect(await client.invoke('app:reveal', { path: dataDir })).toEqual({ ok: true, value: { revealed: false } });
    client.socket.close();
  });

  it("lists folders for the browser's Browse… picker inside the home folder only", async () => {
    const client = await connect({ origin: origin(), cookie });
    const listed = await client.invoke('app:list-folder', { path: null });
    expect(listed.value).toMatchObject({ path: realpathSync(os.homedir()), parent: null });
    const refused = await client.invoke('app:list-folder', { path: '/proc' });
    expect(refused.error?.code).toBe('INPUT_INVALID');
    expect(JSON.stringify(refused.error)).toMatch(/outside your home folder/);
    const malformed = await client.invoke('app:list-folder', { path: 7 });
    expect(malformed.error?.code).toBe('INPUT_INVALID');
    client.socket.close();
  });

  it('streams a job started over the WebSocket to its result', async () => {
    const client = await connect({ origin: origin(), cookie });
    const started = await client.invoke('job:start', {
      job: 'device:benchmark',
      request: { device: 'cpu', sizes: [16, 32], repeats: 1 },
    });
    const jobId = started.value?.jobId;
    for (let waited = 0; waited < 30_000; waited += 10) {
      if (client.messages.some((message) => (message.event as { type?: string } | undefined)?.type === 'result')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const events = client.messages.flatMap((message) =>
      message.event ? [message.event as { jobId: string; type: string }] : [],
    );
    expect(events.every((event) => event.jobId === jobId)).toBe(true);
    expect(events.filter((event) => event.type === 'frame')).toHaveLength(2);
    expect(events.at(-1)?.type).toBe('result');
    client.socket.close();
  });

  it('answers a ping in under 100 ms while a job blocks its worker thread for 2 s', async () => {
    const client = await connect({ origin: origin(), cookie });
    const blocked = new Promise((resolve) => {
      engine.host.start('test:block', { ms: 2000 }, (event) => event.type === 'result' && resolve(event));
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the worker is now spinning
    const roundTrips: number[] = [];
    for (let ping = 0; ping < 10; ping++) {
      const sent = performance.now();
      expect((await client.invoke('app:ping', null)).ok).toBe(true);
      roundTrips.push(performance.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(engine.host.activeJobCount()).toBe(1); // still blocked while we measured
    expect(Math.max(...roundTrips)).toBeLessThan(100);
    await blocked;
    client.socket.close();
  });

  it("cancels a client's jobs when its socket closes", async () => {
    const client = await connect({ origin: origin(), cookie });
    await client.invoke('job:start', {
      job: 'device:benchmark',
      request: { device: 'cpu', sizes: [512, 512, 512, 512], repeats: 50 },
    });
    expect(engine.host.activeJobCount()).toBe(1);
    client.socket.close();
    for (let waited = 0; waited < 10_000 && engine.host.activeJobCount() > 0; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(engine.host.activeJobCount()).toBe(0);
  });
});
