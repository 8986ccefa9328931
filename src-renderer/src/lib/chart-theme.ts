// What every chart.js figure here shares: theme colours read from CSS variables, axes and legend styled from them,
// the mount/unmount attachment that creates a chart on its canvas and destroys it with the canvas, and PNG and SVG
// export (the SVG from the chart's own layout: see chart-svg.ts).

import type { Chart } from 'chart.js';
import { chartSvg, type ChartSnapshot, type SvgAxis, type SvgLegendItem, type SvgMark } from './chart-svg.ts';
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

/** A colour option as one CSS colour (chart.js also allows gradients and per-item arrays: the first item is used). */
function colourOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return fallback;
}

/** Numbers of an element as chart.js laid it out (final positions, no animation in flight). */
function props(element: unknown, names: string[]): Record<string, number> {
  return (element as { getProps(names: string[], final: boolean): Record<string, number> }).getProps(names, true);
}

/**
 * What the chart drew, in pixels: its axes (ticks, titles, grid), each visible dataset's bars, lines and points, and
 * its legend; `extra` adds marks a plugin drew (the arrow plot's arrows).
 */
export function snapshotChart(chart: Chart, title: string, extra: SvgMark[] = []): ChartSnapshot {
  const axes: SvgAxis[] = [];
  for (const scale of Object.values(chart.scales)) {
    if (scale.options.display === false) continue;
    const titleOption = (scale.options as { title?: { display?: boolean; text?: string | string[] } }).title;
    const titleText = titleOption?.display ? [titleOption.text ?? ''].flat().join(' ') : '';
    axes.push({
      position: scale.isHorizontal() ? 'bottom' : 'left',
      ticks: scale.ticks.map((tick, index) => ({
        pixel: scale.getPixelForTick(index),
        label: Array.isArray(tick.label) ? tick.label.map(String) : String(tick.label ?? ''),
      })),
      title: titleText,
      grid: (scale.options as { grid?: { display?: boolean } }).grid?.display !== false,
    });
  }
  const marks: SvgMark[] = [];
  const horizontalBars = chart.options.indexAxis === 'y';
  chart.data.datasets.forEach((_, index) => {
    if (!chart.isDatasetVisible(index)) return;
    const meta = chart.getDatasetMeta(index);
    if (meta.type === 'bar') {
      for (const element of meta.data) {
        const { x, y, base, width, height } = props(element, ['x', 'y', 'base', 'width', 'height']);
        const fill = colourOf((element.options as { backgroundColor?: unknown }).backgroundColor, '#888');
        marks.push(
          horizontalBars
            ? {
                kind: 'rect',
                x: Math.min(x!, base!),
                y: y! - height! / 2,
                width: Math.abs(x! - base!),
                height: height!,
                fill,
              }
            : {
                kind: 'rect',
                x: x! - width! / 2,
                y: Math.min(y!, base!),
                width: width!,
                height: Math.abs(base! - y!),
                fill,
              },
        );
      }
      return;
    }
    const line = meta.dataset?.options as
      { borderColor?: unknown; borderWidth?: number; borderDash?: number[] } | undefined;
    if (meta.type === 'line' && line)
      marks.push({
        kind: 'line',
        points: meta.data
          .filter((element) => !(element as { skip?: boolean }).skip)
          .map((element) => {
            const { x, y } = props(element, ['x', 'y']);
            return [x!, y!];
          }),
        stroke: colourOf(line.borderColor, '#888'),
        width: line.borderWidth ?? 2,
        dash: line.borderDash ?? [],
      });
    for (const element of meta.data) {
      const options = element.options as { radius?: number; backgroundColor?: unknown };
      if (!options.radius || (element as { skip?: boolean }).skip) continue;
      const { x, y } = props(element, ['x', 'y']);
      marks.push({
        kind: 'circle',
        cx: x!,
        cy: y!,
        r: options.radius,
        fill: colourOf(options.backgroundColor, '#888'),
      });
    }
  });
  const legendShown = chart.options.plugins?.legend?.display !== false;
  const legend: SvgLegendItem[] = legendShown
    ? (chart.legend?.legendItems ?? [])
        .filter((item) => !item.hidden)
        .map((item) => {
          const meta = item.datasetIndex === undefined ? null : chart.getDatasetMeta(item.datasetIndex);
          const isLine = meta?.type === 'line';
          return {
            label: item.text,
            colour: colourOf(isLine ? item.strokeStyle : item.fillStyle, '#888'),
            line: isLine,
            dash: (item.lineDash as number[] | undefined) ?? [],
          };
        })
    : [];
  const { left, top, right, bottom } = chart.chartArea;
  return {
    width: chart.width,
    height: chart.height,
    area: { left, top, right, bottom },
    axes,
    marks: [...marks, ...extra],
    legend,
    colours: {
      background: cssColour('--bg'),
      text: cssColour('--text'),
      muted: cssColour('--muted'),
      grid: cssColour('--border'),
    },
    title,
  };
}

/** Saves a chart as an SVG drawn from its data and scales (see chart-svg.ts). */
export function exportChartSvg(chart: Chart | null, fileName: string, title: string, extra: SvgMark[] = []): void {
  if (!chart) return;
  const url = URL.createObjectURL(new Blob([chartSvg(snapshotChart(chart, title, extra))], { type: 'image/svg+xml' }));
  download(url, fileName);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
