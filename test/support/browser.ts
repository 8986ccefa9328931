// Starts Debian's Chromium headless through playwright-core (never a downloaded browser), as CI and users have it.

import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `No Chromium at ${chromiumPath}: run \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    // Without the networking flags Chromium keeps trying to reach the internet, which this machine refuses.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Counts pixels of a canvas within a small distance of a theme colour (a CSS variable): proof a chart was drawn. */
export function countChartPixels(page: Page, testId: string, colourVariable = '--chart-1'): Promise<number> {
  return page.evaluate(
    ([id, variable]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`);
      const context = canvas?.getContext('2d');
      if (!canvas || !context) return -1;
      const probe = document.createElement('canvas').getContext('2d')!;
      probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
      probe.fillRect(0, 0, 1, 1);
      const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let index = 0; index < pixels.length; index += 4) {
        const distance =
          Math.abs(pixels[index]! - r!) + Math.abs(pixels[index + 1]! - g!) + Math.abs(pixels[index + 2]! - b!);
        if (distance < 40 && pixels[index + 3]! > 200) count++;
      }
      return count;
    },
    [testId, colourVariable] as const,
  );
}
