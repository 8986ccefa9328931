// `npm run setup:cuda`: installs onnxruntime's CUDA execution provider next to onnxruntime-node's core library (Linux
// x64). CUDA 13 (default): Microsoft's 1.29.0 provider files from the npm registry; CUDA 12: NuGet's, via
// onnxruntime-node's own installer. Why a 1.29 provider under the 1.30 core: docs/gpu.md.
//   npm run setup:cuda [-- --cuda 12|13] [--from FILE.tgz] [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The npm package with Microsoft's CUDA 13 provider binaries, pinned with the integrity the registry published. */
const npmProvider = {
  name: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  version: '0.4.9',
  integrity: 'sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==',
  onnxruntimeVersion: '1.29.0',
  folder: 'package/Plugins/Linux/x64',
};
const providerFiles = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
const recordFile = 'toxscope-cuda-provider.json';

const say = (text) => process.stderr.write(`toxscope: ${text}\n`);
/** A failure with its advice; thrown so that temporary folders are removed on the way out. */
class SetupError extends Error {
  constructor(text, hint, code = 1) {
    super(text);
    this.hint = hint;
    this.code = code;
  }
}
const fail = (text, hint, code = 1) => {
  throw new SetupError(text, hint, code);
};

function run() {
  let options;
  try {
    options = parseArgs({
      options: {
        cuda: { type: 'string', default: '13' },
        from: { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    fail(String(error.message), 'Usage: npm run setup:cuda [-- --cuda 12|13] [--from FILE.tgz] [--force]', 2);
  }
  if (options.cuda !== '12' && options.cuda !== '13')
    fail(
      `--cuda ${options.cuda} is not offered: the providers are built for CUDA 13 (npm) and CUDA 12 (NuGet).`,
      '',
      2,
    );
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(
      `the CUDA provider of onnxruntime is published for Linux x64 only; this is ${process.platform}-${process.arch}.`,
      'ToxScope runs on the CPU here (and on WebGPU where the GPU driver supports it): see `npx toxscope doctor`.',
      2,
    );
  }

  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const binDir = join(ortDir, 'bin/napi-v6/linux/x64');
  const coreVersion = JSON.parse(readFileSync(join(ortDir, 'package.json'), 'utf8')).version;

  /** The base64 sha512 of a file, in npm's `integrity` form. */
  function integrityOf(file) {
    return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
  }

  /** Whether what is installed is what this run would install (same source, both files with their recorded hashes). */
  function alreadyInstalled(source) {
    try {
      const record = JSON.parse(readFileSync(join(binDir, recordFile), 'utf8'));
      return (
        record.source === source &&
        providerFiles.every(
          (file) => existsSync(join(binDir, file)) && integrityOf(join(binDir, file)) === record.files?.[file],
        )
      );
    } catch {
      return false; // no record or an unreadable one: install again
    }
  }

  /** Copies the provider files in beside the core library (each copied under a temporary name, then renamed). */
  function installFiles(fromDir, source, onnxruntimeVersion) {
    const files = {};
    for (const file of providerFiles) {
      const from = join(fromDir, file);
      if (!existsSync(from))
        fail(`${file} is missing from ${source}.`, 'The package is not the one expected; nothing was changed.');
      copyFileSync(from, join(binDir, `${file}.partial`));
    }
    for (const file of providerFiles) {
      renameSync(join(binDir, `${file}.partial`), join(binDir, file));
      files[file] = integrityOf(join(binDir, file));
    }
    const record = { source, onnxruntimeVersion, coreVersion, installedAt: new Date().toISOString(), files };
    writeFileSync(join(binDir, recordFile), JSON.stringify(record, null, 2) + '\n');
  }

  /** The npm package's tarball: the --from file, or `npm pack` (which uses npm's cache when it holds it). */
  function fetchTarball(workDir) {
    if (options.from) {
      const file = resolve(options.from);
      if (!existsSync(file))
        fail(`--from ${file}: no such file.`, `Give the ${npmProvider.name}-${npmProvider.version}.tgz tarball.`);
      return file;
    }
    const spec = `${npmProvider.name}@${npmProvider.version}`;
    say(`fetching ${spec} from the npm registry (179 MB; npm's cache is used when it holds it)…`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const pack = spawnSync(npm, ['pack', spec, '--pack-destination', workDir, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (pack.error) return { error: `could not run npm (${pack.error.message})` };
    if (pack.status !== 0)
      return { error: `\`npm pack ${spec}\` failed (exit ${pack.status}): the registry is unreachable?` };
    return join(workDir, `${npmProvider.name}-${npmProvider.version}.tgz`);
  }

  /** CUDA 13: the npm package, its integrity checked against the pin, two files extracted and copied. */
  function installFromNpm() {
    const source = `npm ${npmProvider.name}@${npmProvider.version}`;
    if (!options.force && alreadyInstalled(source)) {
      say(
        `the CUDA 13 provider (onnxruntime ${npmProvider.onnxruntimeVersion}, ${source}) is already installed in ${binDir}.`,
      );
      return true;
    }
    const workDir = mkdtempSync(join(tmpdir(), 'toxscope-cuda-'));
    try {
      const tarball = fetchTarball(workDir);
      if (typeof tarball !== 'string') {
        say(tarball.error);
        return false;
      }
      const integrity = integrityOf(tarball);
      if (integrity !== npmProvider.integrity) {
        fail(
          `${tarball} does not match the registry's integrity for ${npmProvider.name}@${npmProvider.version} (got ${integrity.slice(0, 24)}…).`,
          'The download is damaged or is another file; nothing was changed. Delete it (and `npm cache clean --force`), then run again.',
        );
      }
      const members = providerFiles.map((file) => `${npmProvider.folder}/${file}`);
      const untar = spawnSync('tar', ['-xzf', tarball, '-C', workDir, ...members], { encoding: 'utf8' });
      if (untar.status !== 0)
        fail(
          `could not unpack ${tarball}: ${(untar.stderr || untar.error?.message || '').trim()}`,
          'Is `tar` installed?',
        );
      installFiles(join(workDir, npmProvider.folder), source, npmProvider.onnxruntimeVersion);
      say(`installed the CUDA 13 provider (onnxruntime ${npmProvider.onnxruntimeVersion}, ${source}) in ${binDir}.`);
      return true;
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  /** CUDA 12: onnxruntime-node's own installer, which downloads Microsoft's NuGet package of the same version. */
  function installFromNuget() {
    const source = `nuget Microsoft.ML.OnnxRuntime.Gpu.Linux@${coreVersion}`;
    if (!options.force && alreadyInstalled(source)) {
      say(`the CUDA 12 provider (${source}) is already installed in ${binDir}.`);
      return true;
    }
    say(`downloading the CUDA 12 provider (${source}, several hundred MB) from api.nuget.org…`);
    const install = spawnSync(
      process.execPath,
      [join(ortDir, 'script/install.js'), '--onnxruntime-node-install=cuda12'],
      {
        stdio: 'inherit',
      },
    );
    if (install.status !== 0) {
      say('the NuGet download failed (it needs network access to api.nuget.org).');
      return false;
    }
    const absent = providerFiles.filter((file) => !existsSync(join(binDir, file)));
    if (absent.length)
      fail(`onnxruntime-node's installer finished without ${absent.join(' and ')}.`, 'Run it again with --force.');
    const files = Object.fromEntries(providerFiles.map((file) => [file, integrityOf(join(binDir, file))]));
    const record = {
      source,
      onnxruntimeVersion: coreVersion,
      coreVersion,
      installedAt: new Date().toISOString(),
      files,
    };
    writeFileSync(join(binDir, recordFile), JSON.stringify(record, null, 2) + '\n');
    say(`installed the CUDA 12 provider (${source}) in ${binDir}.`);
    return true;
  }

  const installed =
    options.cuda === '13'
      ? installFromNpm() || (!options.from && (say("trying NuGet's CUDA 12 build instead…"), installFromNuget()))
      : installFromNuget();
  if (!installed) {
    fail(
      'no CUDA provider could be installed.',
      options.cuda === '12'
        ? 'The CUDA 12 build comes only from api.nuget.org; with CUDA 13 on this machine, run `npm run setup:cuda` (npm registry).'
        : `Offline: copy ${npmProvider.name}-${npmProvider.version}.tgz here and run \`npm run setup:cuda -- --from FILE.tgz\`.`,
    );
  }
  say(
    'check that it loads with `npx toxscope doctor`: the cuda line must say ok, and the CUDA section says what is missing if not.',
  );
}

try {
  run();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  say(error.message);
  if (error.hint) say(error.hint);
  process.exitCode = error.code;
}
