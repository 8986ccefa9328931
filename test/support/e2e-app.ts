// The end-to-end rig: the real engine and loopback server from the build, and a Debian Chromium page on them.

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { createEngine, type Engine } from '../../src-main/host/engine.ts';
import { startServer, type RunningServer } from '../../src-main/server/server.ts';
import { launchChromium } from './browser.ts';
import { rendererDir, requireBuild, workerUrl } from './built-app.ts';
import { tourDir, type TourName } from './tour.ts';

export const screenshotDir = 'test-results/screenshots';

/**
 * One picture of the tour, as the window shows it (JPEG), scrolled so `top` starts the view: always into
 * test-results/tour/, and into
 * docs/tour/ as well when TOXSCOPE_UPDATE_TOUR=1 (what `npm run tour:update` sets), so the tour shows the app as
 * the tests last saw it.
 */
export async function tourShot(page: Page, name: TourName, top?: Locator): Promise<void> {
  await top?.evaluate((element) => element.scrollIntoView({ block: 'start' }));
  const path = join('test-results', 'tour', `${name}.jpg`);
  mkdirSync(join('test-results', 'tour'), { recursive: true });
  await page.screenshot({ path, type: 'jpeg', quality: 80 });
  await page.screenshot({ path: path.replace(/\.jpg$/, '.png') }); // the same, lossless, to look at while testing
  if (process.env.TOXSCOPE_UPDATE_TOUR === '1') copyFileSync(path, join(tourDir, `${name}.jpg`));
}

export interface E2eApp {
  engine: Engine;
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Uncaught errors the page raised. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function startE2eApp(): Promise<E2eApp> {
  requireBuild();
  mkdirSync(screenshotDir, { recursive: true });
  const engine = createEngine('server', { workerUrl });
  const server = await startServer({ api: engine.api, rendererDir });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    engine,
    server,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close();
      await server.close();
      await engine.host.close();
    },
  };
}
