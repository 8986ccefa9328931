// What every chart.js figure here shares: theme colours read from CSS variables, axes and legend styled from them,
// the mount/unmount attachment that creates a chart on its canvas and destroys it with the canvas, and PNG export.

import type { Chart } from 'chart.js';
import { download } from './download.ts';

export function cssColour(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Gives ticks, grid lines, axis titles and legend labels the current theme's colours. */
export function applyTheme(chart: Chart): void {
  for (const scale of Object.values(chart.options.scales ?? {})) {
    if (!scale) continue;
    scale.ticks = { ...scale.ticks, color: cssColour('--muted') };
    scale.grid = { ...scale.grid, color: cssColour('--border') };
    if ('title' in scale && scale.title) scale.title.color = cssColour('--muted');
  }
  const legend = chart.options.plugins?.legend;
  if (legend) legend.labels = { ...legend.labels, color: cssColour('--text') };
}

/** A Svelte attachment: creates the chart when the canvas mounts, hands it to `keep`, destroys it on unmount. */
export function chartAttachment<C extends Chart>(
  create: (canvas: HTMLCanvasElement) => C,
  keep: (chart: C | null) => void,
) {
  return (canvas: HTMLCanvasElement) => {
    const chart = create(canvas);
    keep(chart);
    return () => {
      chart.destroy();
      keep(null);
    };
  };
}

/** Saves a chart as PNG on the page's background colour (the canvas itself is transparent). */
export function exportChartPng(chart: Chart | null, fileName: string): void {
  if (!chart) return;
  const canvas = document.createElement('canvas');
  canvas.width = chart.canvas.width;
  canvas.height = chart.canvas.height;
  const context = canvas.getContext('2d')!;
  context.fillStyle = cssColour('--bg');
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(chart.canvas, 0, 0);
  download(canvas.toDataURL('image/png'), fileName);
}
