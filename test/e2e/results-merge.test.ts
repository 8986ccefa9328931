// End to end: the Results page finds the shard folders of a sharded compare (run with `toxscope compare --shard K/N`
// into the results folder), says which shard is missing, merges a complete set with "Merge shards", and lists and
// opens the merged run like any other (issue 18 §4); two runs shown side by side.

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

/** `toxscope compare` of the demo pair into the results folder, with more options (e.g. --shard K/N). */
function runCompare(name: string, ...options: string[]): void {
  const run = runToxscope(
    dataDir,
    'compare',
    ...['--base', 'demo:gpt2-base', '--dpo', 'demo:gpt2-dpo', '--probe', 'demo:probe'],
    ...['--prompts', join(repoRoot, 'resources/demo/prompts.jsonl'), '--max-new-tokens', '8'],
    ...['--classifier', 'none', '--device', 'cpu', '--threads', '1', '--quiet'],
    ...[...options, '--out', join(resultsFolder, name)],
  );
  expect(run.status, run.stderr).toBe(0);
}
const runShard = (name: string, shard: string) => runCompare(name, '--shard', shard);

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

  it('shows two compare runs side by side: their numbers, the differences and the shared top neurons', async () => {
    runCompare('demo-16-prompts', '--limit', '16');
    await nav('Results').click();
    const rows = page.getByTestId('result-row');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    await rows
      .filter({ hasText: 'demo-merged' })
      .getByRole('checkbox', { name: /Side by side/ })
      .check();
    await page.getByText('Choose a second compare run').waitFor();
    await rows
      .filter({ hasText: 'demo-16-prompts' })
      .getByRole('checkbox', { name: /Side by side/ })
      .check();
    const table = page.getByRole('table', { name: "The two runs' numbers" });
    await expect
      .poll(() => table.getByRole('row').nth(1).textContent(), { timeout: 30_000 })
      .toMatch(/^prompts\s*40\s*16\s*−24$/);
    expect(await table.getByRole('row').nth(5).textContent()).toMatch(
      /^share of TP− \(v1\)[\d.]+%[\d.]+%[+−][\d.]+ pp$/,
    );
    expect(await text(page.getByTestId('top-overlap'))).toMatch(
      /^Of the top 100 neurons by Δ, \d+ are the same neurons in both runs\.$/,
    );
    await page.screenshot({ path: `${screenshotDir}/results-side-by-side.png`, fullPage: true });
    await page.getByTestId('run-comparison').getByRole('button', { name: 'Close' }).click();
    expect(await page.getByTestId('run-comparison').count()).toBe(0);
    expect(app.pageErrors).toEqual([]);
  });
});
