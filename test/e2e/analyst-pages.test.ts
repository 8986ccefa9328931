// End to end through the analyst's pages on the demo pair: a compare draws the per-neuron figures (clickable, exported
// as SVG) and lists its continuations, the Neurons table finds and opens a neuron at its own address (tokens,
// activations and top-activating examples from both models; the address and the picks survive a reload), the lab runs
// ablation and patching and shows the recovered fraction, and Results reopens, renames, exports and deletes runs.
// Saves a screenshot of each page, and of the analysis pages at 1440 and 1024 px in both themes.

import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/core/files/csv.ts';
import { demoFolder } from '../../src-main/core/models/model-ref.ts';
import { openZip } from '../../src-main/core/weights/zip-archive.ts';
import { countChartPixels } from '../support/browser.ts';
import { screenshotDir, startE2eApp, tourShot, type E2eApp } from '../support/e2e-app.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-analyst-'));
let app: E2eApp;
let page: Page;

/** A Hugging Face hub cache holding one model (the demo base, laid out as huggingface_hub stores it). */
function makeHubCache(): string {
  const cache = mkdtempSync(join(os.tmpdir(), 'toxscope-hub-'));
  const repo = join(cache, 'models--acme--tiny-gpt2');
  const snapshot = join(repo, 'snapshots', 'abc123');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'abc123');
  cpSync(join(demoFolder(), 'gpt2-base'), snapshot, { recursive: true });
  return cache;
}

beforeAll(async () => {
  process.env.TOXSCOPE_DATA_DIR = dataDir;
  process.env.HF_HUB_CACHE = makeHubCache();
  app = await startE2eApp();
  page = app.page;
  await page.goto(app.server.url);
});

afterAll(async () => {
  await app?.close();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name });
const hash = () => page.evaluate(() => location.hash);
/** The address of neuron L3 N17 of the demo run, once the Neurons test has opened it. */
let neuronAddress = '';

/** Where a chart drew a pixel of the given colour (CSS pixels from the canvas's corner), or null if nowhere. */
function firstPixelOf(testId: string, colourVariable: string): Promise<{ x: number; y: number } | null> {
  return page.evaluate(
    ([id, variable]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`)!;
      const probe = document.createElement('canvas').getContext('2d')!;
      probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
      probe.fillRect(0, 0, 1, 1);
      const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const scale = canvas.getBoundingClientRect().width / canvas.width;
      // The chart area only (not the legend's swatches below it): the top 80% of the canvas.
      for (let y = 0; y < canvas.height * 0.8; y++)
        for (let x = 0; x < canvas.width; x++) {
          const index = (y * canvas.width + x) * 4;
          const distance =
            Math.abs(pixels[index]! - r!) + Math.abs(pixels[index + 1]! - g!) + Math.abs(pixels[index + 2]! - b!);
          // The middle of a point: the pixels two to the right and below have the colour too.
          const below = ((y + 2) * canvas.width + x + 2) * 4;
          const belowDistance =
            Math.abs(pixels[below]! - r!) + Math.abs(pixels[below + 1]! - g!) + Math.abs(pixels[below + 2]! - b!);
          if (distance < 30 && pixels[index + 3]! > 200 && belowDistance < 30)
            return { x: (x + 2) * scale, y: (y + 2) * scale };
        }
      return null;
    },
    [testId, colourVariable] as const,
  );
}

describe('models page', () => {
  it('adds a model only once it loads, lists the Hugging Face cache, and reports the execution providers', async () => {
    await nav('Models').click();
    await expect.poll(() => page.getByTestId('providers').textContent(), { timeout: 30_000 }).toMatch(/cpu: loads/);
    const path = page.getByLabel('Model folder, weights file or Hugging Face name (org/name)');
    await path.fill('/nowhere/gpt2');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/\/nowhere\/gpt2/);
    expect(await page.getByTestId('own-model-row').count()).toBe(0);

    await path.fill(join(demoFolder(), 'gpt2-dpo'));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const own = page.getByTestId('own-model-row');
    await expect
      .poll(() => own.textContent(), { timeout: 30_000 })
      .toMatch(/gpt2\s*float32\s*4\s*128\s*[\d,]+\s*≈ \d+ MiB/);

    const cached = page.getByTestId('cache-model-row');
    await expect.poll(() => cached.textContent()).toMatch(/acme\/tiny-gpt2.*gpt2, \d+ MiB on disk/s);
    await cached.getByRole('button', { name: 'Inspect acme/tiny-gpt2' }).click();
    await expect.poll(() => cached.textContent(), { timeout: 30_000 }).toMatch(/gpt2\s*float32\s*4\s*128/);
    await cached.getByRole('button', { name: 'Add acme/tiny-gpt2' }).click();
    await expect.poll(() => own.count()).toBe(2);
    // One checkpoint under two names is pointed out: the cache entry is a copy of the demo base model.
    await expect
      .poll(() => cached.getByTestId('same-weights').textContent())
      .toMatch(/^same weights as .*demo:gpt2-base/);
    expect(await own.first().getByTestId('same-weights').textContent()).toMatch(/demo:gpt2-dpo/);
    await page.getByLabel('Runs ask for').selectOption('cpu');
    await page.screenshot({ path: `${screenshotDir}/models.png`, fullPage: true });

    // The Compare form suggests the added models.
    await nav('Compare').click();
    const suggestions = await page
      .locator('#compare-models option')
      .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
    expect(suggestions).toEqual(expect.arrayContaining([join(demoFolder(), 'gpt2-dpo'), 'acme/tiny-gpt2']));
  });

  it('browses for a model folder from the browser, inside the home folder only', async () => {
    const home = realpathSync(mkdtempSync(join(os.tmpdir(), 'toxscope-home-')));
    cpSync(join(demoFolder(), 'gpt2-base'), join(home, 'checkpoints', 'my-gpt2'), { recursive: true });
    const previousHome = process.env.HOME;
    process.env.HOME = home; // the engine runs in this process: its home folder is the picker's root
    try {
      await nav('Models').click();
      await page.getByRole('button', { name: 'Browse…' }).click();
      const picker = page.getByRole('dialog', { name: 'Choose a model folder' });
      await expect.poll(() => picker.getByTestId('picker-path').textContent()).toBe(home);
      await picker.getByRole('button', { name: 'checkpoints/' }).click();
      await picker.getByRole('button', { name: 'my-gpt2/ model' }).click();
      expect(await picker.getByRole('button', { name: 'config.json', exact: true }).isDisabled()).toBe(true); // folders only
      await page.screenshot({ path: `${screenshotDir}/models-browse.png` });
      await picker.getByRole('button', { name: 'Choose this folder' }).click();
      const path = page.getByLabel('Model folder, weights file or Hugging Face name (org/name)');
      expect(await path.inputValue()).toBe(join(home, 'checkpoints', 'my-gpt2'));
      expect(await picker.isVisible()).toBe(false);
      await path.fill('');
    } finally {
      process.env.HOME = previousHome;
    }
  });

  it('remembers the added models, their names and the device after a restart', async () => {
    // A name for a model: shown in its row and in the model fields' suggestions.
    const own = page.getByTestId('own-model-row');
    const dpoFolder = join(demoFolder(), 'gpt2-dpo');
    await own
      .first()
      .getByRole('button', { name: `Name ${dpoFolder}` })
      .click();
    await page.getByLabel(`Name for ${dpoFolder}`).fill('  demo DPO,\n copied ');
    await own.first().getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => own.first().locator('td').nth(1).textContent()).toBe('“demo DPO, copied”, added by you');
    await app.close();
    app = await startE2eApp();
    page = app.page;
    await page.goto(app.server.url);
    await nav('Models').click();
    await expect.poll(() => page.getByTestId('own-model-row').count()).toBe(2);
    expect(await page.getByLabel('Runs ask for').inputValue()).toBe('cpu');
    await expect
      .poll(() => page.getByTestId('own-model-row').first().locator('td').nth(1).textContent())
      .toBe('“demo DPO, copied”, added by you');

    // Each row inspects its model on arrival and then grows; clicking before that can hit a row that is moving.
    await expect
      .poll(() => page.getByTestId('own-model-row').filter({ hasText: 'inspecting…' }).count(), { timeout: 30_000 })
      .toBe(0);
    await page.getByRole('button', { name: `Remove acme/tiny-gpt2` }).click();
    await expect.poll(() => page.getByTestId('own-model-row').count()).toBe(1);
    await nav('Compare').click();
    const labels = await page
      .locator('#compare-models option')
      .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).label));
    expect(labels).toContain('demo DPO, copied');
  });
});

describe('analyst pages on the demo pair', () => {
  it('draws the per-neuron figures once a compare finishes', async () => {
    await nav('Compare').click();
    await expect
      .poll(() => page.getByLabel('Prompts file (.jsonl, .txt, .csv)').inputValue())
      .toMatch(/prompts\.jsonl$/);
    await page.getByLabel('Prompts to use (at most)').fill('24');
    await page.getByLabel('New tokens per prompt').fill('10');
    await page.getByRole('button', { name: 'Run compare' }).click();
    // Looking at another page while it runs loses nothing.
    await nav('Results').click();
    await nav('Compare').click();
    await page.getByTestId('compare-done').waitFor({ timeout: 120_000 });
    await page.getByRole('link', { name: /Explore all 2,048 neurons/ }).waitFor({ timeout: 30_000 });
    for (const [chart, colour] of [
      ['layer-groups-chart', '--chart-1'],
      ['layer-groups-chart', '--chart-2'],
      ['arrows-chart', '--chart-1'],
      ['arrows-chart', '--chart-2'],
      ['projection-chart', '--chart-3'], // the base with the top toxic neurons ablated
    ] as const)
      expect(await countChartPixels(page, chart, colour), `${chart} ${colour}`).toBeGreaterThan(40);
    await page.screenshot({ path: `${screenshotDir}/compare-neuron-figures.png`, fullPage: true });
  });

  it('lists the continuations side by side with their scores, and finds the prompts that contain a word', async () => {
    const count = page.getByTestId('continuations-count');
    await expect.poll(() => count.textContent(), { timeout: 30_000 }).toMatch(/^\s*24 of 24 prompts/);
    const rows = page.getByTestId('continuation-row');
    const cells = rows.first().locator('td');
    expect(await cells.count()).toBe(4); // #, prompt, base, DPO
    // The default classifier scored both continuations.
    for (const column of [2, 3])
      expect(await cells.nth(column).locator('.score').textContent()).toMatch(/^\s*[01]\.\d{3}/);
    const continuation = (await cells.nth(3).locator('.continuation').textContent())!;
    const word = continuation
      .trim()
      .split(/\s+/)
      .sort((a, b) => b.length - a.length)[0]!;
    await page.getByLabel('Search prompts and continuations').fill(word);
    await expect.poll(() => count.textContent()).toMatch(/^\s*\d+ of 24 prompts/);
    const shown = await rows.allTextContents();
    expect(shown.length).toBeGreaterThanOrEqual(1);
    for (const text of shown) expect(text.toLowerCase()).toContain(word.toLowerCase());
    await page.getByLabel('Search prompts and continuations').fill('qqzzxq');
    await expect.poll(() => count.textContent()).toMatch(/^\s*0 of 24 prompts/);
    await page.getByLabel('Search prompts and continuations').fill('');
  });

  it('exports a figure as SVG shapes and all of neurons.csv as written', async () => {
    const [svg] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export layers as SVG' }).click(),
    ]);
    expect(svg.suggestedFilename()).toBe('layers.svg');
    const text = readFileSync((await svg.path())!, 'utf8');
    expect(text).toMatch(/^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(text).not.toMatch(/<image|data:image|NaN/); // shapes, not a picture of the canvas
    // 4 layers × 2 bars (reduced, increased), the clip rectangle and two legend swatches.
    expect(text.match(/<rect x=/g)?.length).toBe(4 * 2 + 1 + 2);
    expect(text).toContain('>layer</text>');
    expect(text).toContain('>reduced (Δ &gt; 0)</text>');

    // Enlarged, the figure takes the window; Esc brings it back.
    const layers = page.getByTestId('layers-chart');
    const before = (await layers.boundingBox())!.width;
    await page.getByRole('button', { name: 'Enlarge' }).nth(2).click();
    await expect.poll(async () => (await layers.boundingBox())!.width).toBeGreaterThan(Math.max(before * 1.5, 1000));
    await page.keyboard.press('Escape');
    await expect.poll(async () => (await layers.boundingBox())!.width).toBeLessThan(before + 2);

    const out = (await page.getByTestId('compare-done').locator('code').first().textContent())!;
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Export all of neurons\.csv/ }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe('neurons.csv');
    expect(readFileSync((await csv.path())!, 'utf8')).toBe(readFileSync(join(out, 'neurons.csv'), 'utf8'));
  });

  it('opens a layer and a neuron in the Neurons table from a click on a figure', async () => {
    const layers = page.getByTestId('layers-chart');
    const box = (await layers.boundingBox())!;
    await layers.click({ position: { x: box.width * 0.6, y: box.height * 0.4 } });
    await expect.poll(hash).toMatch(/^#\/neurons\/compare-[^/?]+\?layer=[0-3]$/);
    const layer = (await hash()).at(-1)!;
    expect(await page.getByLabel('Layer', { exact: true }).inputValue()).toBe(layer);
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/^\s*512 of 2,048 neurons shown/);

    await page.goBack();
    await page.getByTestId('arrows-chart').waitFor();
    const point = await firstPixelOf('arrows-chart', '--chart-2'); // a base point
    expect(point).not.toBeNull();
    await page.getByTestId('arrows-chart').click({ position: point! });
    await expect.poll(hash).toMatch(/^#\/neurons\/compare-[^/?]+\/\d+\/\d+$/);
    const [, opened, neuron] = (await hash()).match(/(\d+)\/(\d+)$/)!;
    await page
      .getByTestId('neuron-detail')
      .getByRole('heading', { name: `Neuron L${opened} N${neuron}` })
      .waitFor();

    // The same from the keyboard: focus the figure, move to a point (its tooltip is read out), Enter opens it.
    await page.goBack();
    await page.getByTestId('arrows-chart').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const said = page.getByTestId('arrows-chart-point');
    await expect.poll(() => said.textContent()).toMatch(/^L\d+ N\d+: /);
    const [, layerByKey, neuronByKey] = (await said.textContent())!.match(/^L(\d+) N(\d+)/)!;
    await page.keyboard.press('Enter');
    await expect.poll(hash).toMatch(new RegExp(`/${layerByKey}/${neuronByKey}$`));
    await page
      .getByTestId('neuron-detail')
      .getByRole('heading', { name: `Neuron L${layerByKey} N${neuronByKey}` })
      .waitFor();
    await nav('Compare').click();
    // The last result survives a reload of the page.
    await page.reload();
    await expect
      .poll(() => page.getByTestId('compare-opened').textContent(), { timeout: 30_000 })
      .toMatch(/24 prompts/);
    expect(await countChartPixels(page, 'arrows-chart', '--chart-1')).toBeGreaterThan(40);
  });

  it('finds a neuron by its address, opens it, and shows both models over a prompt', async () => {
    await page.getByRole('link', { name: /Explore all 2,048 neurons/ }).click();
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/2,048 of 2,048 neurons shown/);
    // Only the rows in view are in the page, however many neurons there are.
    expect(await page.getByTestId('neuron-row').count()).toBeLessThan(40);
    await page.getByLabel('Find a neuron').fill('L3 N17');
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/^\s*1 of 2,048 neurons shown/);
    await page.getByRole('link', { name: 'L3 N17', exact: true }).click();
    const detail = page.getByTestId('neuron-detail');
    await detail.getByRole('heading', { name: 'Neuron L3 N17' }).waitFor();
    await expect.poll(hash).toMatch(/^#\/neurons\/compare-[^/?]+\/3\/17$/);
    neuronAddress = await hash();
    // The run's prompts it fires on most: five per model, each with Base, DPO and difference strips of its tokens.
    const examples = detail.getByTestId('neuron-examples-base').getByTestId('neuron-example');
    await expect.poll(() => examples.count(), { timeout: 60_000 }).toBe(5);
    expect(await examples.first().locator('.strip-label').allTextContents()).toEqual(['Base', 'DPO', 'DPO − base']);
    expect(await detail.getByTestId('neuron-examples-dpo').getByTestId('neuron-example').count()).toBe(5);
    expect(await detail.getByTestId('neuron-examples-note').textContent()).toMatch(/first 24 prompts/);
    await tourShot(page, '3-neuron', detail);
    await expect.poll(() => detail.getByTestId('promoted-base').locator('li').count(), { timeout: 60_000 }).toBe(8);
    expect(await detail.getByTestId('promoted-dpo').locator('li').count()).toBe(8);
    const baseTokens = await detail.getByTestId('neuron-tokens-base').locator('.token').allTextContents();
    expect(baseTokens.join('')).toBe('<|endoftext|>I told him he was such a');
    expect(await detail.getByTestId('neuron-tokens-dpo').locator('.token').count()).toBe(baseTokens.length);

    // Another prompt, then pick neurons for patching: filter a group and layer, sort by reduction.
    const neuronJobs = () =>
      page
        .getByTestId('job')
        .filter({ hasText: /Neuron L\d+ N\d+ close-up/ })
        .count();
    const jobsBefore = await neuronJobs();
    await detail.getByLabel('Prompt').fill('shut up you');
    await page.waitForTimeout(500); // long enough for a job that typing would start to show in the panel
    expect(await neuronJobs()).toBe(jobsBefore); // typing runs nothing
    await detail.getByRole('button', { name: 'Show activations' }).click();
    await expect
      .poll(async () => (await detail.getByTestId('neuron-tokens-base').locator('.token').allTextContents()).join(''))
      .toBe('<|endoftext|>shut up you');
    expect(await neuronJobs()).toBe(jobsBefore + 1); // one run, for Show, however the prompt was typed
    await page.getByLabel('Find a neuron').fill('');
    await page.getByLabel('Group').selectOption('TP-');
    await page.getByLabel('Sort by').selectOption('delta');
    const rows = page.getByTestId('neuron-row');
    for (let index = 0; index < 3; index++) await rows.nth(index).getByRole('checkbox').check();
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/3 picked for patching/);
    await page.getByLabel('Find a neuron').fill('gibberish');
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/is not a neuron address/);
    await page.getByLabel('Find a neuron').fill('');
    await page.screenshot({ path: `${screenshotDir}/neurons.png`, fullPage: true });

    // A reload (or the address sent to someone on this machine) opens the same neuron, with the picks kept.
    await page.reload();
    await page
      .getByTestId('neuron-detail')
      .getByRole('heading', { name: 'Neuron L3 N17' })
      .waitFor({ timeout: 30_000 });
    expect(await hash()).toBe(neuronAddress);
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/3 picked for patching/);
    // A click anywhere on a row opens that row's neuron page.
    const second = rows.nth(1);
    const name = (await second.getByRole('link').textContent())!;
    await second.locator('td').last().click();
    await page
      .getByTestId('neuron-detail')
      .getByRole('heading', { name: `Neuron ${name}` })
      .waitFor();
    expect(await hash()).toBe(neuronAddress.replace(/\/3\/17$/, `/${name.replace(/^L(\d+) N(\d+)$/, '$1/$2')}`));

    // The table scrolls through every row: the last TP- row by Δ appears at the bottom.
    await page.getByLabel('Group').selectOption('');
    await page.locator('#neuron-viewport').evaluate((element) => (element.scrollTop = element.scrollHeight));
    await expect.poll(async () => Number(await rows.last().getAttribute('aria-rowindex'))).toBe(2049); // header is row 1
  });

  it('runs ablation and patching in the lab and shows the share of the reduction each recovers', async () => {
    await nav('Interventions').click();
    await expect.poll(() => page.getByLabel('Prompts file').inputValue()).toMatch(/prompts\.jsonl$/);
    // The demo pair comes with the demo's perplexity text and F1 prompts, so those columns have numbers.
    expect(await page.getByLabel('Perplexity text file (optional)').inputValue()).toMatch(/wiki-text\.txt$/);
    expect(await page.getByLabel(/^F1 data/).inputValue()).toMatch(/wiki-f1\.jsonl$/);
    await page.getByLabel('Prompts to use (at most)').fill('16');
    await page.getByLabel('New tokens per prompt').fill('8');
    await page.getByLabel('Patch the neurons picked in the Neurons table').check();
    await page.getByRole('button', { name: 'Run 5 conditions' }).click();
    const recovered = (kind: string) =>
      page.locator(`[data-testid="lab-row"][data-kind="${kind}"]`).getByTestId('lab-recovered').textContent();
    await expect.poll(() => recovered('patch-picked'), { timeout: 120_000 }).toMatch(/^-?[\d.]+%$/);
    for (const kind of ['ablate', 'patch-groups']) expect(await recovered(kind)).toMatch(/^-?[\d.]+%$/);
    expect(await recovered('base')).toBe('—');
    // The default classifier (demo:classifier) scores every condition next to the probe.
    const row = (kind: string) => page.locator(`[data-testid="lab-row"][data-kind="${kind}"]`);
    for (const kind of ['base', 'dpo', 'ablate']) {
      expect(await row(kind).getByTestId('lab-classifier-toxicity').textContent()).toMatch(/^[01]\.\d{3}$/);
      expect(await row(kind).getByTestId('lab-fraction-toxic').textContent()).toMatch(/^[\d.]+%$/);
    }
    const table = await page.getByRole('table', { name: 'Interventions and what they recover' }).textContent();
    expect(table).toMatch(/base, top 128 toxic neurons ablated/);
    expect(table).toMatch(/patch:groups=TP-\+AN-/);
    expect(table).toMatch(/3 picked neurons patched/);
    expect(await countChartPixels(page, 'lab-chart', '--chart-3')).toBeGreaterThan(100);
    await page.screenshot({ path: `${screenshotDir}/interventions.png`, fullPage: true });
    await tourShot(page, '4-interventions', page.getByRole('table', { name: 'Interventions and what they recover' }));

    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const records = parseCsv(readFileSync((await csv.path())!, 'utf8')).map(({ record }) => record);
    expect(records[0]!.join(',')).toBe(
      'condition,intervention,neurons,probe_toxicity,fraction_above,perplexity,f1,recovered,classifier_toxicity,fraction_toxic,scorer,classifier,classifier_sha256,out',
    );
    expect(records).toHaveLength(6);
    // Patching reads the DPO means of exactly the three picked neurons; perplexity and F1 were measured on the
    // demo's files.
    const picked = records.find((record) => record[1]!.startsWith('patch:neurons='))!;
    expect(picked[2]).toBe('3');
    expect(Number(picked[5])).toBeGreaterThan(1);
    expect(Number(picked[6])).toBeGreaterThan(0); // outputs start with the prompt, which the gold sentence starts with
    expect(Number(picked[6])).toBeLessThanOrEqual(1);
    // Each condition's classifier numbers come with the classifier's reference and sha256.
    expect(Number(picked[8])).toBeGreaterThanOrEqual(0);
    expect(Number(picked[8])).toBeLessThanOrEqual(1);
    expect(picked.slice(11, 13)).toEqual(['demo:classifier', expect.stringMatching(/^[0-9a-f]{64}$/)]);

    // The Compare page lists each intervention's continuation beside base and DPO, for the 16 prompts the lab ran.
    await nav('Compare').click();
    const continuation = page.getByTestId('continuation-row');
    await expect.poll(() => continuation.first().locator('td').count(), { timeout: 30_000 }).toBe(2 + 2 + 3);
    expect(await continuation.first().locator('td').nth(4).locator('.score').textContent()).toMatch(/probe -?\d/);
    expect(await continuation.nth(20).locator('td').nth(4).textContent()).toBe('—');
  });

  it('lists every run in Results, a lab run as one; reopens, renames, exports and deletes them', async () => {
    // After a reload the lab table, and the interventions' continuations on the Compare page, come back from disk.
    await page.reload();
    await nav('Interventions').click();
    const labRows = page.getByTestId('lab-row');
    await expect.poll(() => labRows.count(), { timeout: 30_000 }).toBe(5);
    expect(
      await page.locator('[data-testid="lab-row"][data-kind="ablate"]').getByTestId('lab-recovered').textContent(),
    ).toMatch(/^-?[\d.]+%$/);
    await nav('Compare').click();
    const continuation = page.getByTestId('continuation-row');
    await expect.poll(() => continuation.first().locator('td').count(), { timeout: 30_000 }).toBe(2 + 2 + 3);

    await nav('Results').click();
    const rows = page.getByTestId('result-row');
    await expect.poll(() => rows.count()).toBe(2); // the compare, and the lab run with its five conditions
    const compareRow = rows.filter({ hasText: 'demo:gpt2-base vs demo:gpt2-dpo' });
    await compareRow.getByRole('button', { name: 'Rename' }).click();
    await compareRow.getByLabel('New name').fill('Demo pair, 24 prompts');
    await compareRow.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => compareRow.getByTestId('result-name').textContent()).toBe('Demo pair, 24 prompts');

    const [zip] = await Promise.all([
      page.waitForEvent('download'),
      compareRow.getByRole('button', { name: 'Export zip' }).click(),
    ]);
    expect(zip.suggestedFilename()).toBe('Demo pair, 24 prompts.zip');
    const names = [...openZip((await zip.path())!).entries.keys()].map((name) => name.split('/').at(-1));
    expect(names.sort()).toEqual(['generations.jsonl', 'label.json', 'manifest.json', 'neurons.csv', 'summary.json']);
    await page.screenshot({ path: `${screenshotDir}/results.png`, fullPage: true });

    // Search, the kind filter, and the warning when a label repeats another run's.
    await page.getByLabel('Search', { exact: true }).fill('INTERVENTIONS lab');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel('Search', { exact: true }).fill('');
    await page.getByLabel('Kind', { exact: true }).selectOption('lab');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.getByTestId('results-count').textContent()).toBe('1 of 2 runs');
    await page.getByLabel('Kind', { exact: true }).selectOption('all');
    const labRun = rows.filter({ hasText: 'Interventions lab: 5 conditions on demo:gpt2-base and demo:gpt2-dpo' });
    await labRun.getByRole('button', { name: 'Rename' }).click();
    await labRun.getByLabel('New name').fill('demo PAIR, 24 prompts ');
    await expect.poll(() => labRun.getByTestId('duplicate-label').textContent()).toMatch(/already named “Demo pair/);
    await labRun.getByRole('button', { name: 'Cancel' }).click();

    // Open on a lab run shows its table in the lab; its zip holds every condition's files.
    await labRun.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => labRows.count()).toBe(5);
    expect(await page.getByRole('table', { name: 'Interventions and what they recover' }).textContent()).toMatch(
      /base, top 128 toxic neurons ablated/,
    );
    await nav('Results').click();
    const [labZip] = await Promise.all([
      page.waitForEvent('download'),
      labRun.getByRole('button', { name: 'Export zip' }).click(),
    ]);
    const labFiles = [...openZip((await labZip.path())!).entries.keys()];
    expect(labFiles.filter((name) => name.endsWith('/summary.json'))).toHaveLength(5);

    const labPath = (await labRun.locator('code').textContent())!;
    await labRun.getByRole('button', { name: /^Delete .*…$/ }).click();
    await labRun.getByRole('button', { name: 'Delete for good' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(existsSync(labPath)).toBe(false);

    await compareRow.getByRole('button', { name: 'Open' }).click();
    await page.getByTestId('compare-opened').waitFor();
    expect(await page.getByTestId('compare-opened').textContent()).toMatch(/Demo pair, 24 prompts/);
    expect(await countChartPixels(page, 'arrows-chart', '--chart-1')).toBeGreaterThan(40);
    expect(app.pageErrors).toEqual([]);
  });

  it('reads well in the dark theme', async () => {
    await nav('Settings').click();
    await page.getByLabel('Dark').check();
    await nav('Neurons').click();
    await page.getByTestId('neuron-row').first().waitFor();
    await page.screenshot({ path: `${screenshotDir}/neurons-dark.png`, fullPage: true });
    await nav('Settings').click();
    await page.getByLabel('Light').check();
  });

  it('shows the analysis pages at 1440 and 1024 px in both themes', async () => {
    for (const theme of ['Light', 'Dark']) {
      await nav('Settings').click();
      await page.getByLabel(theme).check();
      for (const width of [1440, 1024]) {
        const name = (view: string) => `${screenshotDir}/analysis-${view}-${width}-${theme.toLowerCase()}.png`;
        await page.setViewportSize({ width, height: 900 });
        await nav('Compare').click();
        await page.getByTestId('continuations-count').waitFor({ timeout: 30_000 });
        await page.screenshot({ path: name('compare'), fullPage: true });
        await page.evaluate((address) => (location.hash = address), neuronAddress);
        await page
          .getByTestId('neuron-examples-dpo')
          .getByTestId('neuron-example')
          .first()
          .waitFor({ timeout: 60_000 });
        await page.screenshot({ path: name('neuron'), fullPage: true });
        await nav('Interventions').click(); // the form (the lab run was deleted on Results)
        await page.getByRole('button', { name: /^Run \d+ conditions$/ }).waitFor();
        await page.screenshot({ path: name('interventions'), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await nav('Settings').click();
    await page.getByLabel('Light').check();
    expect(app.pageErrors).toEqual([]);
  });
});

describe('a Llama-3.1-8B-sized neuron table', () => {
  /** A compare bundle with 458,752 neurons (32 layers × 14,336; synthetic numbers, the demo run's summary). */
  function writeLargeBundle(): string {
    const resultsFolder = join(dataDir, 'results');
    const demoRun = readdirSync(resultsFolder).find((name) => name.startsWith('compare-'))!;
    const folder = join(resultsFolder, 'synthetic-458752');
    mkdirSync(folder);
    cpSync(join(resultsFolder, demoRun, 'summary.json'), join(folder, 'summary.json'));
    const manifest = JSON.parse(readFileSync(join(resultsFolder, demoRun, 'manifest.json'), 'utf8')) as object;
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ ...manifest, createdAt: new Date().toISOString() }));
    const groups = ['TP-', 'TN+', 'AP+', 'AN-', 'TP+', 'TN-', 'AP-', 'AN+'];
    const lines = [
      'layer,neuron,cos_pre,cos_dpo,s_pre,s_dpo,mean_act_pre,mean_act_dpo,proj_pre,proj_dpo,delta,delta_act,group,group_v3',
    ];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let layer = 0; layer < 32; layer++)
      for (let neuron = 0; neuron < 14_336; neuron++) {
        const [cos, pre, dpo, s] = [random() * 0.3, random(), random(), random() * 0.1];
        const delta = (pre - dpo) * s;
        lines.push(
          [
            layer,
            neuron,
            cos,
            cos,
            s,
            s,
            pre,
            dpo,
            pre * s,
            dpo * s,
            delta,
            pre - dpo,
            groups[neuron % 8],
            delta > 0 ? 'TP↓' : '',
          ].join(','),
        );
      }
    writeFileSync(join(folder, 'neurons.csv'), lines.join('\n') + '\n');
    return folder;
  }

  it('opens, filters, sorts and scrolls 458,752 neurons without stalling the page', async () => {
    writeLargeBundle();
    await nav('Results').click();
    const row = page.getByTestId('result-row').filter({ hasText: 'synthetic-458752' });
    const opened = performance.now();
    await row.getByRole('button', { name: 'Open' }).click();
    // Opening reads a 70 MB neurons.csv and sends every column to the page as JSON (measured 28 s on a loaded 2-core
    // machine; not yet fast, see docs/benchmarks.md); sorting, scrolling and search are what must stay interactive.
    await page.getByTestId('compare-opened').waitFor({ timeout: 120_000 });
    await nav('Neurons').click();
    await expect
      .poll(() => page.getByTestId('neuron-count').textContent(), { timeout: 60_000 })
      .toMatch(/458,752 of 458,752 neurons shown/);
    const openMilliseconds = performance.now() - opened;
    expect(await page.getByTestId('neuron-row').count()).toBeLessThan(40);

    // Re-sorting all rows: from the change to the next painted frame.
    const sortMilliseconds = await page.evaluate(async () => {
      const select = document.querySelector<HTMLSelectElement>('#neuron-sort')!;
      const started = performance.now();
      select.value = 'cosPre';
      select.dispatchEvent(new Event('change'));
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
      return performance.now() - started;
    });
    // Scrolling through the table: the longest gap between frames while the rows are replaced.
    const longestScrollFrame = await page.evaluate(async () => {
      const viewport = document.getElementById('neuron-viewport')!;
      let last = performance.now();
      let longest = 0;
      for (let step = 0; step < 60; step++) {
        viewport.scrollTop += 1500;
        viewport.dispatchEvent(new Event('scroll'));
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }
      return longest;
    });
    const field = page.getByLabel('Find a neuron');
    const typed = performance.now();
    await field.pressSequentially('L31 N14000');
    await expect.poll(() => page.getByTestId('neuron-count').textContent()).toMatch(/^\s*1 of 458,752/);
    const searchMilliseconds = performance.now() - typed;
    console.log(
      `458,752 neurons: open ${openMilliseconds.toFixed(0)} ms, sort ${sortMilliseconds.toFixed(0)} ms, ` +
        `longest scroll frame ${longestScrollFrame.toFixed(0)} ms, search ${searchMilliseconds.toFixed(0)} ms`,
    );
    expect(sortMilliseconds).toBeLessThan(500);
    expect(longestScrollFrame).toBeLessThan(250);
    await page.screenshot({ path: `${screenshotDir}/neurons-458752.png` });
  });
});
