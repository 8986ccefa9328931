// End to end: Debian Chromium against the real loopback server and engine. Opens the UI with the token, runs a
// streamed job and checks that its chart drew, cancels another, switches theme, and saves screenshots.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countChartPixels } from '../support/browser.ts';
import { screenshotDir, startE2eApp, type E2eApp } from '../support/e2e-app.ts';

let app: E2eApp;
let page: Page;

beforeAll(async () => {
  app = await startE2eApp();
  page = app.page;
});

afterAll(async () => {
  await app?.close();
});

describe('app shell in Chromium', () => {
  it('shows a 401 page without the token', async () => {
    const response = await page.goto(`http://127.0.0.1:${app.server.port}/`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/toxscope serve/);
  });

  it('opens with the token, drops it from the address bar and shows every page in the navigation', async () => {
    await page.goto(app.server.url);
    expect(page.url()).toBe(`http://127.0.0.1:${app.server.port}/`);
    const links = page.getByRole('navigation', { name: 'Pages' }).getByRole('link');
    expect(await links.allTextContents()).toEqual([
      'Models',
      'Compare',
      'Neurons',
      'Interventions',
      'Results',
      'Detox',
      'Settings',
      'Guide',
    ]);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Models');
    await page.screenshot({ path: `${screenshotDir}/models-page.png` });
  });

  it('points a first-time user to the guide once, which explains the groups, "recovered" and the review', async () => {
    const banner = page.getByRole('region', { name: 'First start' });
    await banner.getByRole('link', { name: 'Read the guide' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Guide');
    const groups = page.getByRole('table', { name: 'The four neuron groups' });
    expect(await groups.getByRole('rowheader').allTextContents()).toEqual(['TP−', 'TN+', 'AP+', 'AN−']);
    expect(await page.textContent('main')).toMatch(/recovered = \(toxicity of the base − toxicity of the condition\)/);
    await page.screenshot({ path: `${screenshotDir}/guide.png`, fullPage: true });
    // Seen once, the banner is gone, also after a reload.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Models', exact: true }).click();
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Models');
    expect(await banner.count()).toBe(0);
  });

  it('reaches pages from the keyboard', async () => {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Compare', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Compare');
  });

  it('runs a streamed device check whose chart draws as frames arrive', async () => {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Device', { exact: true }).selectOption('cpu');
    await page.getByLabel('Matrix sizes').fill('64, 128, 256, 384');
    await page.getByLabel('Timed runs per size').fill('2');
    await page.getByRole('button', { name: 'Run device check' }).click();
    await page.getByTestId('device-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('device-result').textContent()).toMatch(/Peak [\d.,]+ GFLOP\/s on cpu/);
    expect(await page.getByTestId('job-status').first().textContent()).toBe('Done');
    expect(await countChartPixels(page, 'gemm-chart')).toBeGreaterThan(150);
    await page.screenshot({ path: `${screenshotDir}/settings-device-check.png`, fullPage: true });
  });

  it('cancels a long job from the job panel', async () => {
    await page.getByLabel('Matrix sizes').fill('1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024');
    await page.getByLabel('Timed runs per size').fill('100');
    await page.getByRole('button', { name: 'Run device check' }).click();
    const job = page.getByTestId('job').first();
    await job.getByText(/MatMul 1024×1024/).waitFor({ timeout: 30_000 });
    await job.getByRole('button', { name: 'Cancel Device check (MatMul speed)' }).click();
    await expect.poll(() => job.getByTestId('job-status').textContent(), { timeout: 30_000 }).toBe('Cancelled');
    expect(app.engine.host.activeJobCount()).toBe(0);
    await page.screenshot({ path: `${screenshotDir}/job-cancelled.png` });
  });

  it('switches to the dark theme and keeps it after a reload', async () => {
    await page.getByLabel('Dark').check();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    // The device-check chart on this page re-themes at once: its grid lines take the dark theme's border colour.
    await expect.poll(() => countChartPixels(page, 'gemm-chart', '--border')).toBeGreaterThan(100);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    // The job panel keeps its finished jobs across the reload, newest first, with their outcome.
    const listed = page.getByTestId('job');
    await expect.poll(() => listed.getByTestId('job-status').allTextContents()).toEqual(['Cancelled', 'Done']);
    expect(await listed.first().textContent()).toMatch(/Device check \(MatMul speed\).*Cancelled after \d+ of \d+/);
    await page.screenshot({ path: `${screenshotDir}/settings-dark.png`, fullPage: true });
    // The panel folds to one line for more room, and stays folded after a reload.
    const panel = page.getByRole('region', { name: 'Jobs' });
    const unfolded = (await panel.boundingBox())!.width;
    await panel.getByRole('button', { name: 'Hide' }).click();
    expect(await listed.count()).toBe(0);
    expect(await page.getByTestId('jobs-folded').textContent()).toBe('Nothing running.');
    const folded = (await panel.boundingBox())!.width;
    expect(folded).toBeLessThan(unfolded);
    await page.reload();
    await panel.getByRole('button', { name: 'Show' }).waitFor();
    expect((await panel.boundingBox())!.width).toBe(folded);
    await panel.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => listed.count()).toBe(2);
  });

  it('raised no uncaught errors in the page', () => {
    expect(app.pageErrors).toEqual([]);
  });
});
