// Where ToxScope's own files are: the app folder (for bundled resources such as the demo models) and the user data
// folder (graph cache, fingerprints, autosaves). Both can be overridden for tests and portable installs.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding ToxScope's package.json, found by walking up from this module (source or bundle). */
export function appRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'package.json');
    if (
      existsSync(candidate) &&
      (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'toxscope'
    ) {
      return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error('ToxScope cannot find its own package.json above its code.');
    folder = parent;
  }
}

/** The detox gate's shipped blocklist (profanity, slurs and identity terms; see its header). */
export function defaultBlocklistPath(): string {
  return join(appRoot(), 'resources', 'detox', 'blocklist.txt');
}

/** Per-user data: $TOXSCOPE_DATA_DIR, else the platform's convention (XDG on Linux). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOXSCOPE_DATA_DIR) return env.TOXSCOPE_DATA_DIR;
  if (process.platform === 'win32') return join(env.APPDATA ?? join(os.homedir(), 'AppData', 'Roaming'), 'ToxScope');
  if (process.platform === 'darwin') return join(os.homedir(), 'Library', 'Application Support', 'ToxScope');
  return join(env.XDG_DATA_HOME ?? join(os.homedir(), '.local', 'share'), 'toxscope');
}
