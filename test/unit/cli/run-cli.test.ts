// Unit tests of the CLI front door's argument handling and exit codes (no server or engine started).

import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { exitCodeFor } from '../../../src-main/cli/exit-codes.ts';

function fakeIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (text: string) => void out.push(text),
      stderr: (text: string) => void err.push(text),
      interrupt: new AbortController().signal,
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

const paths = {
  workerUrl: new URL('file:///nonexistent/engine-worker.js'),
  rendererDir: new URL('file:///nonexistent/'),
};

describe('toxscope CLI', () => {
  it('prints help listing serve and doctor, exit 0', async () => {
    const { io, out } = fakeIo();
    expect(await runCli(['--help'], io, paths)).toBe(0);
    expect(out()).toMatch(/serve \[--port P\]/);
    expect(out()).toMatch(/doctor \[--json\]/);
  });

  it('prints the package version', async () => {
    const { io, out } = fakeIo();
    expect(await runCli(['--version'], io, paths)).toBe(0);
    expect(out()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('answers no command with usage and exit 2', async () => {
    const { io, out } = fakeIo();
    expect(await runCli([], io, paths)).toBe(2);
    expect(out()).toMatch(/Usage: toxscope/);
  });

  it('names an unknown command and says where to look, exit 2', async () => {
    const { io, err } = fakeIo();
    expect(await runCli(['frobnicate'], io, paths)).toBe(2);
    expect(err()).toMatch(/Unknown command "frobnicate"[\s\S]*toxscope --help/);
  });

  it('refuses an unknown option and a bad port with exit 2', async () => {
    const bogus = fakeIo();
    expect(await runCli(['doctor', '--bogus'], bogus.io, paths)).toBe(2);
    expect(bogus.err()).toMatch(/--bogus/);
    const badPort = fakeIo();
    expect(await runCli(['serve', '--port', 'eighty'], badPort.io, paths)).toBe(2);
    expect(badPort.err()).toMatch(/--port must be 0\.\.65535, got "eighty"/);
  });

  it('maps error codes to the contract exit codes', () => {
    expect(exitCodeFor('INPUT_INVALID')).toBe(2);
    expect(exitCodeFor('WEIGHTS_INVALID')).toBe(3);
    expect(exitCodeFor('MODEL_NOT_FOUND')).toBe(3);
    expect(exitCodeFor('CANCELLED')).toBe(130);
    expect(exitCodeFor('RUNTIME_FAILED')).toBe(4);
    expect(exitCodeFor('DEVICE_UNAVAILABLE')).toBe(4);
    expect(exitCodeFor('ENGINE_CRASHED')).toBe(4);
    expect(exitCodeFor('INTERNAL')).toBe(1);
  });

  it('lists every exit code in its help', async () => {
    const { io, out } = fakeIo();
    await runCli(['--help'], io, paths);
    const codes = out().slice(out().indexOf('Exit codes:')).replace(/\s+/g, ' ');
    for (const code of [
      '0 success',
      '1 unexpected failure',
      '2 bad usage',
      '3 invalid model',
      '4 the engine failed',
      '130 cancelled',
    ])
      expect(codes).toContain(code);
  });
});
