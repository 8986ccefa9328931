// The end-to-end rig: the real engine and loopback server from the build, and a Debian Chromium page on them.

import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createEngine, type Engine } from '../../src-main/host/engine.ts';
import { startServer, type RunningServer } from '../../src-main/server/server.ts';
import { launchChromium } from './browser.ts';
import { rendererDir, requireBuild, workerUrl } from './built-app.ts';

export const screenshotDir = 'test-results/screenshots';

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
