// The browser front door's Browse… picker: one folder's entries, listed for the page by the engine, only inside the
// user's home folder (links are followed and checked, so a link cannot lead outside it). Model folders (a config.json)
// and weights files are marked so the picker can point them out.

import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { raise, type FolderListing } from '../../shared/index.ts';

/** Files a model field takes directly: weights and state dicts. */
const weightsExtensions = new Set(['.safetensors', '.bin', '.pt', '.pth', '.ckpt']);

/** True when `path` is `root` or inside it (both real paths). */
function inside(root: string, path: string): boolean {
  const between = relative(root, path);
  return between === '' || (!between.startsWith('..') && !isAbsolute(between));
}

/**
 * The folders and files of `path` (default: the home folder), folders first, each in name order; refuses a path
 * outside `root` (default: the home folder) or one that is not a readable folder.
 */
export function listFolder(path: string | null, root = os.homedir()): FolderListing {
  const realRoot = realpathSync(root);
  const asked = path === null || path.trim() === '' ? realRoot : resolve(path);
  const where = `Browse… lists folders inside your home folder (${realRoot})`;
  if (!existsSync(asked))
    raise('INPUT_INVALID', `There is no folder at ${asked}.`, `${where}; type the path into the field instead.`);
  const real = realpathSync(asked);
  if (!inside(realRoot, real))
    raise(
      'INPUT_INVALID',
      `${asked} is outside your home folder, which is as far as the browser's Browse… goes.`,
      `${where}; type a path elsewhere into the field, or use the desktop app's dialog.`,
    );
  if (!statSync(real).isDirectory())
    raise('INPUT_INVALID', `${asked} is a file, not a folder.`, 'Choose the folder that holds it.');
  let names: string[];
  try {
    names = readdirSync(real);
  } catch (error) {
    raise('INPUT_INVALID', `${asked} cannot be read (${(error as Error).message}).`, 'Choose another folder.');
  }
  const entries = names.flatMap((name): FolderListing['entries'] => {
    const full = join(real, name);
    try {
      const target = realpathSync(full);
      if (!inside(realRoot, target)) return []; // a link out of the home folder is not offered
      const stats = statSync(target);
      if (stats.isDirectory()) return [{ name, kind: 'folder', model: existsSync(join(target, 'config.json')) }];
      return stats.isFile() ? [{ name, kind: 'file', model: weightsExtensions.has(extname(name)) }] : [];
    } catch {
      return []; // a broken link or an entry that vanished
    }
  });
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
  return { path: real, parent: real === realRoot ? null : dirname(real), home: realRoot, entries };
}
