// The README's tour shows every picture the e2e tests take for it, and each of those pictures is in docs/tour/.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tourDir, tourNames } from '../../support/tour.ts';

describe('the README tour', () => {
  const readme = readFileSync('README.md', 'utf8');
  const pictures = [...readme.matchAll(/!\[[^\]]+\]\((docs\/tour\/[^)]+)\)/g)].map((match) => match[1]);

  it('shows the tour pictures in order, each taken by an e2e test', () => {
    expect(pictures).toEqual(tourNames.map((name) => `${tourDir}/${name}.jpg`));
  });

  it('has each picture in the repository (npm run tour:update takes them)', () => {
    for (const name of tourNames) expect(existsSync(join(tourDir, `${name}.jpg`)), name).toBe(true);
  });
});
