// Integration tests of the real `toxscope` command (bin/toxscope.js → out/main/cli.js) as a child process.

import { spawn, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath, requireBuild } from '../../support/built-app.ts';
import { rawGet } from '../../support/http.ts';

beforeAll(requireBuild);

describe('toxscope command', () => {
  it('doctor --json reports versions, a loading CPU provider, CPU, memory, Electron and display truthfully', () => {
    const run = spawnSync(process.execPath, [cliPath, 'doctor', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, DISPLAY: '' },
    });
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown> & {
      providers: { provider: string; loads: boolean }[];
      memory: { totalBytes: number; hugePages: { kernel: string | null; malloc: boolean }; keepsFreedMemory: boolean };
      display: { available: boolean };
      electron: { installed: boolean; detail: string };
    };
    expect(report.node).toBe(process.version);
    expect(report.onnxruntime).toBe('1.30.0');
    expect(report.providers.find((probe) => probe.provider === 'cpu')?.loads).toBe(true);
    expect(report.memory.totalBytes).toBeGreaterThan(0);
    // Started through bin/toxscope.js, malloc gets huge pages wherever the kernel gives them, and a command's
    // process keeps the memory it frees (bin/malloc-env.js).
    const { kernel, malloc } = report.memory.hugePages;
    expect(malloc).toBe(kernel === 'always' || kernel === 'madvise');
    expect(report.memory.keepsFreedMemory).toBe(process.platform === 'linux');
    const optedOut = spawnSync(process.execPath, [cliPath, 'doctor', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, TOXSCOPE_HUGE_PAGES: 'off', TOXSCOPE_KEEP_FREED_MEMORY: 'off', GLIBC_TUNABLES: '' },
    });
    const optedOutMemory = (JSON.parse(optedOut.stdout) as typeof report).memory;
    expect(optedOutMemory.hugePages).toEqual({ kernel, malloc: kernel === 'always' });
    expect(optedOutMemory.keepsFreedMemory).toBe(false);
    if (process.platform === 'linux' && !process.env.WAYLAND_DISPLAY) expect(report.display.available).toBe(false);
    expect(typeof report.electron.installed).toBe('boolean');
    expect(report.electron.detail.length).toBeGreaterThan(0);
  });

  it('serve prints the contract line, refuses requests without the token, and exits 130 on SIGINT', async () => {
    const child = spawn(process.execPath, [cliPath, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    for (let waited = 0; waited < 20_000 && !stdout.includes('\n'); waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const match = /^ToxScope is serving on http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)\n$/.exec(stdout);
    expect(match).not.toBeNull();
    const port = Number(match![1]);
    expect((await rawGet(port, '/')).status).toBe(401);
    expect((await rawGet(port, `/?token=${match![2]}`)).status).toBe(303);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  });

  it("stops as cancelled, once, on a terminal's Ctrl-C, which reaches every process of its group", async () => {
    const child = spawn(process.execPath, [cliPath, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    for (let waited = 0; waited < 20_000 && !stdout.includes('\n'); waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    process.kill(-child.pid!, 'SIGINT'); // the group: the launcher and, where it restarted itself, the CLI process
    expect(await exited).toEqual([130, null]);
    expect(stderr).toMatch(/Stopping/);
  });
});
