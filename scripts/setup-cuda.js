// `npm run setup:cuda`: installs onnxruntime-node's CUDA execution provider (Linux x64, needs an NVIDIA driver,
// CUDA 12 and cuDNN 9), which `npm ci` skips because it is downloaded separately, then tells how to verify it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const say = (text) => process.stderr.write(`toxscope: ${text}\n`);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  say(
    `the CUDA provider of onnxruntime-node is published for Linux x64 only; this is ${process.platform}-${process.arch}.`,
  );
  say('ToxScope runs on the CPU here (and on WebGPU where the GPU driver supports it): see `npx toxscope doctor`.');
  process.exit(2);
}

const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
say('downloading the CUDA 12 provider for onnxruntime-node (several hundred MB)…');
const install = spawnSync(process.execPath, [join(ortDir, 'script/install.js'), '--onnxruntime-node-install=cuda12'], {
  stdio: 'inherit',
});
if (install.status !== 0) {
  say('the download failed. It needs network access to api.nuget.org; on an offline machine copy');
  say(
    `libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so into ${join(ortDir, 'bin/napi-v6/linux/x64')}.`,
  );
  process.exit(1);
}
say('installed. Check that it loads with `npx toxscope doctor` (the cuda line must say ok).');
