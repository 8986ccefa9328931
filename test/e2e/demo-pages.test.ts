// End to end on the bundled demo models: the Models page inspects them (the demo classifier apart, as a classifier),
// Compare runs the demo pair to a headline and group table. Saves a screenshot of each page. (The Detox page has its
// own file, detox-review.test.ts.)

import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFolder } from '../../src-main/core/models/model-ref.ts';
import { countChartPixels } from '../support/browser.ts';
import { screenshotDir, startE2eApp, tourShot, type E2eApp } from '../support/e2e-app.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-demo-'));
let app: E2eApp;
let page: Page;

beforeAll(async () => {
  process.env.TOXSCOPE_DATA_DIR = dataDir;
  app = await startE2eApp();
  page = app.page;
  await page.goto(app.server.url);
});

afterAll(async () => {
  await app?.close();
});

describe('demo models in the UI', () => {
  it('lists every demo model on the Models page, each language model inspected by the engine', async () => {
    const rows = page.getByTestId('model-row');
    await expect.poll(() => rows.count()).toBe(9);
    await expect.poll(() => page.getByText('inspecting…').count(), { timeout: 60_000 }).toBe(0);
    const text = (await rows.allTextContents()).join('\n');
    expect(text).toMatch(/demo:gpt2-base.*gpt2\s*float32\s*4\s*128/s);
    expect(text).toMatch(/demo:llama-base.*llama\s*float32(\s*·\s*\d+\/\d+ heads)?\s*4\s*128/s);
    expect(text).toMatch(/demo:bart-anti-expert.*bart\s*float32\s*2 \+ 2\s*128/s);
    expect(text).not.toMatch(/demo:classifier/); // classifiers are their own kind, listed apart
    const classifiers = page.getByTestId('classifier-row');
    expect(await classifiers.count()).toBe(1);
    expect(await classifiers.textContent()).toMatch(
      /demo:classifier\s*detox default.*roberta\s*sequence classifier · sigmoid\s*2\s*128\s*toxicity\s*[\d,]+\s*[0-9a-f]{12}…/s,
    );
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.screenshot({ path: `${screenshotDir}/models-demo.png`, fullPage: true });
    await tourShot(page, '1-models'); // with the first start's pointer to the guide
  });

  it('runs a compare of the demo pair from the prefilled form to a headline and the four groups', async () => {
    await page.getByRole('link', { name: 'compare the demo pair' }).click();
    await expect
      .poll(() => page.getByLabel('Prompts file (.jsonl, .txt, .csv)').inputValue())
      .toMatch(/prompts\.jsonl$/);
    await page.getByLabel('Prompts to use (at most)').fill('16');
    await page.getByLabel('New tokens per prompt').fill('8');
    await page.getByRole('button', { name: 'Run compare' }).click();
    await page.getByTestId('compare-done').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('compare-done').textContent()).toMatch(/Done on cpu: 16 prompts/);
    expect(await page.getByTestId('compare-headline').textContent()).toMatch(
      /Dampened toxic neurons \(TP−\) explain [\d.]+%/,
    );
    // The default classifier (demo:classifier) says how much DPO lowered toxicity as it sees it.
    expect(await page.getByTestId('compare-classifier-headline').textContent()).toMatch(
      /demo:classifier sees it \(“toxicity”\), DPO took the\s+continuations' mean toxicity from [01]\.\d{3} to [01]\.\d{3}/,
    );
    const groups = page.getByRole('table', { name: 'The four reduction groups' }).getByRole('row');
    expect(await groups.count()).toBe(5);
    const out = (await page.getByTestId('compare-done').locator('code').first().textContent())!;
    expect(out.startsWith(join(dataDir, 'results', 'compare-'))).toBe(true);
    for (const file of ['neurons.csv', 'summary.json', 'manifest.json'])
      expect(existsSync(join(out, file)), file).toBe(true);
    for (const [chart, colour] of [
      ['groups-chart', '--chart-1'],
      ['groups-chart', '--chart-4'],
      ['cumulative-chart', '--chart-1'],
      ['layers-chart', '--chart-1'],
      ['layers-chart', '--chart-2'],
      ['projection-chart', '--chart-1'],
      ['projection-chart', '--chart-2'],
      ['relative-chart', '--chart-1'],
    ] as const)
      expect(await countChartPixels(page, chart, colour), `${chart} ${colour}`).toBeGreaterThan(150);
    await page.screenshot({ path: `${screenshotDir}/compare-demo.png`, fullPage: true });
    await tourShot(page, '2-compare', page.getByRole('heading', { name: 'Result', exact: true }));
    await page.getByLabel('Group definition').selectOption('v3');
    // The switch drives the table as well as the figures.
    expect(
      await page.getByRole('table', { name: 'The four reduction groups' }).locator('tbody code').allTextContents(),
    ).toEqual(['TP↓', 'TN↓', 'AP↓', 'AN↓']);
    expect(await countChartPixels(page, 'groups-chart', '--chart-2')).toBeGreaterThan(150);
    await page.getByLabel('Group definition').selectOption('v1'); // the CSV export below is of the v1 table
  });

  it('exports a chart as PNG and the group table as CSV', async () => {
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export cumulative delta as PNG' }).click(),
    ]);
    expect(png.suggestedFilename()).toBe('cumulative-delta.png');
    const image = readFileSync((await png.path())!);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(image.readUInt32BE(16)).toBeGreaterThan(300); // width from the IHDR chunk: the real canvas, not a stub
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe('groups.csv');
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(lines[0]).toBe('group,meaning,neurons,sum_delta,share');
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['TP-', 'TN+', 'AP+', 'AN-']);
    const shares = lines.slice(1).map((line) => Number(line.split(',').at(-1)));
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 6);
  });

  it('cancels a compare midway and resumes it in the same folder', async () => {
    await page.getByLabel('Prompts to use (at most)').fill('40');
    await page.getByLabel('New tokens per prompt').fill('60');
    await page.getByLabel('Prompts per batch').fill('1');
    await page.getByRole('button', { name: 'Run compare' }).click();
    await expect
      .poll(() => page.getByTestId('compare-progress').textContent(), { timeout: 60_000 })
      .toMatch(/[1-9]\d* of 40 prompts/);
    const job = page.getByTestId('job').first();
    expect(await job.locator('.name').textContent()).toBe('Compare demo:gpt2-base vs demo:gpt2-dpo');
    await job.getByRole('button', { name: 'Cancel Compare demo:gpt2-base vs demo:gpt2-dpo' }).click();
    await expect.poll(() => job.getByTestId('job-status').textContent(), { timeout: 30_000 }).toBe('Cancelled');
    expect(await job.textContent()).toMatch(/Cancelled after \d+ of 40 prompts\./);
    await page.getByRole('button', { name: 'Resume in the same folder' }).click();
    await page.getByTestId('compare-done').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('compare-done').textContent()).toMatch(/40 prompts, resumed after [1-9]\d*\./);
  });

  it('stays responsive while a compare streams results and redraws its charts', async () => {
    await page.getByLabel('Prompts to use (at most)').fill('40');
    await page.getByLabel('New tokens per prompt').fill('60');
    await page.getByLabel('Prompts per batch').fill('1');
    await page.getByRole('button', { name: 'Run compare' }).click();
    await page.getByTestId('compare-progress').waitFor({ timeout: 60_000 });
    // The longest gap between animation frames while frames arrive, and how long a keystroke takes to reach a field.
    const longestFrameGap = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let last = performance.now();
          let longest = 0;
          const end = last + 1500;
          const tick = (now: number) => {
            longest = Math.max(longest, now - last);
            last = now;
            if (now < end) requestAnimationFrame(tick);
            else resolve(longest);
          };
          requestAnimationFrame(tick);
        }),
    );
    const field = page.getByLabel('Base model');
    const typed = performance.now();
    await field.press('End');
    await field.pressSequentially('x');
    await expect.poll(() => field.inputValue()).toBe('demo:gpt2-basex');
    const keystroke = performance.now() - typed;
    await field.press('Backspace');
    expect(await page.getByTestId('compare-progress').isVisible()).toBe(true); // still running while measured
    console.log(
      `while comparing: longest frame gap ${longestFrameGap.toFixed(0)} ms, keystroke ${keystroke.toFixed(0)} ms`,
    );
    expect(longestFrameGap).toBeLessThan(250);
    expect(keystroke).toBeLessThan(250);
    await page.getByTestId('compare-done').waitFor({ timeout: 120_000 });
  });

  it("shows the graph cache's size on the Models page and clears it, leaving the demo models as they are", async () => {
    const graphs = join(dataDir, 'graphs');
    const built = readdirSync(graphs).length;
    expect(built).toBeGreaterThan(0); // the compares above built graphs and saved their prepacked weights
    const demoWeights = join(demoFolder(), 'gpt2-base', 'model.safetensors');
    const demoBytes = statSync(demoWeights).size;
    await page.goto(`${app.server.url}#/models`);
    const usage = page.getByTestId('graph-cache-usage');
    await expect
      .poll(() => usage.textContent())
      .toMatch(
        new RegExp(
          `${built} graphs? built from your models, [\\d.]+ [MG]iB on disk,\\s+of which [\\d.]+ [MG]iB are weights saved in the CPU kernels' layout`,
        ),
      );
    await page.getByRole('button', { name: 'Clear the graph cache' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clear the graph cache?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.getByRole('heading', { name: 'Graph cache', exact: true }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${screenshotDir}/models-graph-cache.png` });
    await dialog.getByRole('button', { name: /^Delete \d+ graphs?$/ }).click();
    await expect
      .poll(() => page.getByTestId('graph-cache-cleared').textContent())
      .toMatch(new RegExp(`Deleted ${built} graphs?, [\\d.]+ [MG]iB freed\\.`));
    await expect.poll(() => usage.textContent()).toMatch(/^\s*0 graphs built from your models, 0\.0 MiB on disk\.\s*$/);
    expect(readdirSync(graphs)).toEqual([]);
    // The demo weights, hard-linked into the cache, are still there and whole.
    expect(statSync(demoWeights).size).toBe(demoBytes);
    await expect.poll(() => page.getByRole('button', { name: 'Clear the graph cache' }).isDisabled()).toBe(true);
  });

  it('raised no uncaught errors in the page', () => {
    expect(app.pageErrors).toEqual([]);
  });
});
