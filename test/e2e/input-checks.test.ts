// End to end: the app checks input before a run starts and says why in its own words. Compare refuses more new
// tokens than the chosen models have positions for; a run's error names the form field, not a command-line option;
// Detoxify says why it is disabled.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotDir, startE2eApp, type E2eApp } from '../support/e2e-app.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-checks-'));
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

const nav = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name });

describe('input checked before a run', () => {
  it('Compare allows only as many new tokens per prompt as the demo GPT-2 has positions for', async () => {
    await nav('Compare').click();
    await expect
      .poll(() => page.getByLabel('Prompts file (.jsonl, .txt, .csv)').inputValue())
      .toMatch(/prompts\.jsonl$/);
    const tokens = page.getByLabel('New tokens per prompt');
    const run = page.getByRole('button', { name: 'Run compare' });
    const limit = page.getByTestId('compare-tokens-limit');
    await tokens.fill('256');
    const limitText = async () => ((await limit.textContent()) ?? '').replace(/\s+/g, ' ').trim();
    await expect
      .poll(limitText, { timeout: 30_000 })
      .toBe(
        'Too many: demo:gpt2-base has 128 positions and prompts take up to 33 (32 tokens and BOS), so at most 95 new tokens: lower it to 95.',
      );
    expect(await run.isDisabled()).toBe(true);
    expect(await tokens.getAttribute('aria-invalid')).toBe('true');
    await page
      .locator('form')
      .first()
      .screenshot({ path: `${screenshotDir}/compare-tokens-limit.png` });
    await tokens.fill('95');
    await expect.poll(() => run.isDisabled()).toBe(false);
    expect(await limitText()).toBe(
      'demo:gpt2-base has 128 positions and prompts take up to 33 (32 tokens and BOS), so at most 95 new tokens.',
    );
  });

  it("words a run's error for the app: the form field it is about and what to do there", async () => {
    await page.getByLabel('Prompts file (.jsonl, .txt, .csv)').fill('/nowhere/prompts.jsonl');
    await page.getByLabel('New tokens per prompt').fill('4');
    await page.getByRole('button', { name: 'Run compare' }).click();
    const alert = page.getByRole('alert').first();
    await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(/No prompts file at \/nowhere/);
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/About “Prompts file”/);
    expect(text).toMatch(/Choose a prompts file that exists/);
    expect(text).not.toMatch(/--prompts/);
  });

  it('Detoxify says why it is disabled when the document is empty', async () => {
    await nav('Detox').click();
    const textBox = page.getByLabel('Text to detoxify');
    await textBox.waitFor();
    await textBox.fill('');
    expect(await page.getByRole('button', { name: 'Detoxify' }).isDisabled()).toBe(true);
    await expect
      .poll(() => page.getByTestId('detox-cannot-run').textContent())
      .toMatch(/The document is empty: type or paste text above, or open a file\./);
    await textBox.fill('You are such a stupid idiot.');
    await expect.poll(() => page.getByTestId('detox-cannot-run').count()).toBe(0);
  });
});
