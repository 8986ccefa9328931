// `npm run setup:cuda` failures that need no network: a tarball that is not the pinned one changes nothing, and an
// unknown CUDA version is refused. The script runs in a temporary copy with a fake onnxruntime-node beside it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'toxscope-setup-cuda-'));
const binDir = join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
mkdirSync(binDir, { recursive: true });
mkdirSync(join(root, 'scripts'));
copyFileSync('scripts/setup-cuda.js', join(root, 'scripts/setup-cuda.js'));
writeFileSync(join(root, 'package.json'), '{"type": "module"}');
writeFileSync(
  join(root, 'node_modules/onnxruntime-node/package.json'),
  '{"name": "onnxruntime-node", "version": "1.30.0"}',
);
writeFileSync(join(binDir, 'libonnxruntime.so.1'), '');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(...args: string[]) {
  return spawnSync(process.execPath, [join(root, 'scripts/setup-cuda.js'), ...args], { encoding: 'utf8' });
}

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('setup:cuda', () => {
  it('refuses a tarball that is not the pinned package and installs nothing', () => {
    const tarball = join(root, 'other.tgz');
    writeFileSync(tarball, 'not the provider');
    const result = setup('--from', tarball);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("does not match the registry's integrity");
    expect(readdirSync(binDir)).toEqual(['libonnxruntime.so.1']);
  });

  it('refuses a CUDA version no provider is built for', () => {
    const result = setup('--cuda', '11');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--cuda 11 is not offered');
  });

  it('says which file is missing when --from names none', () => {
    const result = setup('--from', join(root, 'absent.tgz'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/absent\.tgz: no such file/);
  });
});
