// `npm start`: builds ToxScope, makes sure the Electron binary is present (downloading it once when it is missing),
// and opens the desktop app. Says plainly what to do instead when Electron cannot run here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mallocEnv } from '../bin/malloc-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const say = (text) => process.stderr.write(`toxscope: ${text}\n`);
const run = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run([join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']) !== 0) {
  say('the build failed (see above). Run `npm ci` first if node_modules is missing.');
  process.exit(1);
}

const electronDir = dirname(require.resolve('electron/package.json'));
const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
const binaryPath = () => {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
};

if (!binaryPath()) {
  say(`Electron ${electronVersion} is not downloaded yet; fetching it once (about 100 MB) from GitHub…`);
  if (run([join(electronDir, 'install.js')]) !== 0 || !binaryPath()) {
    say('could not download Electron (no network, or GitHub is blocked here).');
    say('You can use ToxScope in your browser instead: `npm run serve`, then open the URL it prints.');
    process.exit(1);
  }
}

if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  say('there is no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open.');
  say('Use ToxScope in a browser instead: `npm run serve`, then open the URL it prints.');
  process.exit(1);
}

const app = spawnSync(binaryPath(), [root], { stdio: 'inherit', env: mallocEnv() ?? process.env });
process.exit(app.status ?? 1);
