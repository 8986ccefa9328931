// End to end: the Results page finds the shard folders of a sharded compare (run with `toxscope compare --shard K/N`
// into the results folder), says which shard is missing, merges a complete set with "Merge shards", and lists and
// opens the merged run like any other (issue 18 §4).

import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built-app.ts';
import { runToxscope } from '../support/cli.ts';
import { screenshotDir, startE2eApp, type E2eApp } from '../support/e2e-app.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-shards-'));
const resultsFolder = join(dataDir, 'results');
let app: E2eApp;
let page: Page;

/** `toxscope compare --shard K/N` of the demo pair into the results folder. */
function runShard(name: string, shard: string): void {
  const run = runToxscope(
    dataDir,
    'compare',
    ...['--base', 'demo:gpt2-base', '--dpo', 'demo:gpt2-dpo', '--probe', 'demo:probe'],
    ...['--prompts', join(repoRoot, 'resources/demo/prompts.jsonl'), '--max-new-tokens', '8'],
    ...['--classifier', 'none', '--device', 'cpu', '--threads', '1', '--quiet'],
    ...['--shard', shard, '--out', join(resultsFolder, name)],
  );
  expect(run.status, run.stderr).toBe(0);
}

beforeAll(async () => {
  mkdirSync(resultsFolder, { recursive: true });
  runShard('demo-shard-1', '1/2');
  runShard('demo-shard-2', '2/2');
  runShard('wide-shard-2', '2/3');
  process.env.TOXSCOPE_DATA_DIR = dataDir;
  app = await startE2eApp();
  page = app.page;
  await page.goto(app.server.url);
}, 120_000);

afterAll(async () => {
  await app?.close();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name });
const text = async (locator: ReturnType<Page['getByTestId']>) =>
  ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

describe('merging shards on the Results page', () => {
  it('lists each sharded run, names its missing shards, merges a complete one and opens the merged run', async () => {
    await nav('Results').click();
    const groups = page.getByTestId('shard-group');
    await expect.poll(() => groups.count(), { timeout: 30_000 }).toBe(2);
    const complete = groups.filter({ hasText: '2 of 2 shards' });
    const partial = groups.filter({ hasText: '1 of 3 shards' });
    expect(await text(complete.locator('strong'))).toBe('compare demo:gpt2-base vs demo:gpt2-dpo · 40 prompts');
    expect(await text(partial.getByTestId('shards-missing'))).toBe(
      'Shards 1, 3 of 3 are not here yet: run them with --shard K/3 into this folder, then merge.',
    );
    expect(await partial.getByRole('button').count()).toBe(0);
    expect(await page.getByTestId('result-row').count()).toBe(0);

    await complete
      .getByRole('button', { name: 'Merge shards of compare demo:gpt2-base vs demo:gpt2-dpo · 40 prompts' })
      .click();
    await expect
      .poll(() => text(complete.getByTestId('merge-note')), { timeout: 30_000 })
      .toBe(`Merged 2 shards (40 prompts) into ${join(resultsFolder, 'demo-merged')}.`);
    const row = page.getByTestId('result-row').filter({ hasText: 'demo-merged' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await text(row.getByTestId('result-name'))).toBe('demo-merged');
    expect(await complete.getByRole('button').textContent()).toBe('Merge again');
    await page.screenshot({ path: `${screenshotDir}/results-merge.png`, fullPage: true });

    await row.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#\/compare/);
    expect(app.pageErrors).toEqual([]);
  });
});
