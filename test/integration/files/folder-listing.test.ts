// The Browse… picker's folder listing on a real folder tree: folders first, models and weights marked, links followed
// but never out of the root, and refusals that say what to do for paths outside it, files and missing folders.

import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFolder } from '../../../src-main/core/files/folder-listing.ts';
import { raisedBy as refusal } from '../../support/app-error.ts';

const outside = realpathSync(mkdtempSync(join(os.tmpdir(), 'toxscope-outside-')));
const home = realpathSync(mkdtempSync(join(os.tmpdir(), 'toxscope-home-')));
mkdirSync(join(home, 'models', 'gpt2-dpo'), { recursive: true });
writeFileSync(join(home, 'models', 'gpt2-dpo', 'config.json'), '{}');
writeFileSync(join(home, 'models', 'dpo.pt'), '');
writeFileSync(join(home, 'models', 'notes.txt'), '');
mkdirSync(join(home, 'models', 'empty'));
mkdirSync(join(home, '.cache'));
symlinkSync(join(home, 'models', 'gpt2-dpo'), join(home, 'linked-model'));
symlinkSync(outside, join(home, 'escape'));
symlinkSync(join(home, 'nothing-here'), join(home, 'broken'));

describe('listFolder', () => {
  it('lists the root by default: folders first in name order, links inside followed, links out and broken left out', () => {
    const listing = listFolder(null, home);
    expect(listing).toMatchObject({ path: home, parent: null, home });
    expect(listing.entries).toEqual([
      { name: '.cache', kind: 'folder', model: false },
      { name: 'linked-model', kind: 'folder', model: true },
      { name: 'models', kind: 'folder', model: false },
    ]);
  });

  it('marks model folders and weights files, with the parent to go back up', () => {
    const listing = listFolder(join(home, 'models'), home);
    expect(listing.parent).toBe(home);
    expect(listing.entries).toEqual([
      { name: 'empty', kind: 'folder', model: false },
      { name: 'gpt2-dpo', kind: 'folder', model: true },
      { name: 'dpo.pt', kind: 'file', model: true },
      { name: 'notes.txt', kind: 'file', model: false },
    ]);
  });

  it('refuses a folder outside the root, also through a link, and says what to do instead', () => {
    expect(() => listFolder(outside, home)).toThrow(/outside your home folder/);
    expect(() => listFolder(join(home, 'escape'), home)).toThrow(/outside your home folder/);
    expect(() => listFolder(join(home, 'models', '..', '..'), home)).toThrow(/is outside your home folder/);
    expect(JSON.stringify(refusal(() => listFolder(outside, home)))).toMatch(/type a path elsewhere into the field/);
  });

  it('refuses a file and a missing folder', () => {
    expect(() => listFolder(join(home, 'models', 'dpo.pt'), home)).toThrow(/is a file, not a folder/);
    expect(() => listFolder(join(home, 'nowhere'), home)).toThrow(/There is no folder at .*nowhere/);
  });
});
