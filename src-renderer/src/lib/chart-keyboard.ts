// Figures from the keyboard: arrow keys move a highlighted point through a chart's data (its tooltip shown and read
// out), Enter or Space does what a click on that point does. The stepping rule is pure; the rest drives chart.js.

import type { ActiveElement, Chart, ChartEvent } from 'chart.js';

/** A point of a chart: which dataset, which item of it. */
export interface ChartPoint {
  datasetIndex: number;
  index: number;
}

/**
 * The point a key moves to, or null when the key is not one that moves. `counts`: points per dataset, 0 for a hidden
 * one. Left/Right step through a dataset (Page Up/Down by a tenth of it, Home/End to its ends), Up/Down change dataset
 * at the same index (clamped); the first key with no point highlighted starts at the first point.
 */
export function stepChartPoint(current: ChartPoint | null, key: string, counts: readonly number[]): ChartPoint | null {
  const shown = counts.flatMap((count, datasetIndex) => (count > 0 ? [datasetIndex] : []));
  if (shown.length === 0) return null;
  const moves = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'];
  if (!moves.includes(key)) return null;
  if (!current || !shown.includes(current.datasetIndex)) return { datasetIndex: shown[0]!, index: 0 };
  const count = counts[current.datasetIndex]!;
  const page = Math.max(1, Math.round(count / 10));
  const clamp = (index: number, size: number) => Math.min(size - 1, Math.max(0, index));
  const along = (index: number) => ({ datasetIndex: current.datasetIndex, index: clamp(index, count) });
  switch (key) {
    case 'ArrowLeft':
      return along(current.index - 1);
    case 'ArrowRight':
      return along(current.index + 1);
    case 'PageUp':
      return along(current.index - page);
    case 'PageDown':
      return along(current.index + page);
    case 'Home':
      return along(0);
    case 'End':
      return along(count - 1);
    default: {
      const position = shown.indexOf(current.datasetIndex) + (key === 'ArrowDown' ? 1 : -1);
      const datasetIndex = shown[Math.min(shown.length - 1, Math.max(0, position))]!;
      return { datasetIndex, index: clamp(current.index, counts[datasetIndex]!) };
    }
  }
}

/** Points per dataset as drawn now (0 for a hidden dataset). */
function pointCounts(chart: Chart): number[] {
  return chart.data.datasets.map((_, datasetIndex) =>
    chart.isDatasetVisible(datasetIndex) ? chart.getDatasetMeta(datasetIndex).data.length : 0,
  );
}

/** What the tooltip says about the highlighted point, in one line for a screen reader. */
function tooltipText(chart: Chart): string {
  const tooltip = chart.tooltip;
  if (!tooltip) return '';
  const body = tooltip.body.flatMap((item) => item.lines);
  return [...tooltip.title, ...body].join(', ');
}

/**
 * Handles a key on a chart's canvas: moves the highlight (returning what the tooltip now says, for a live region),
 * or on Enter/Space calls the chart's click handler with the highlighted point at its position. Returns null when
 * the key was not for the chart (and the event goes on as usual).
 */
export function chartKey(chart: Chart, event: KeyboardEvent): string | null {
  const active = chart.getActiveElements()[0];
  const current = active ? { datasetIndex: active.datasetIndex, index: active.index } : null;
  if (event.key === 'Enter' || event.key === ' ') {
    if (!active) return null;
    event.preventDefault();
    const { x, y } = active.element;
    const click = { type: 'click', x, y, native: null } as unknown as ChartEvent;
    const onClick = chart.options.onClick;
    if (typeof onClick === 'function') onClick.call(chart, click, [active as ActiveElement], chart);
    return tooltipText(chart);
  }
  const next = stepChartPoint(current, event.key, pointCounts(chart));
  if (!next) return null;
  event.preventDefault();
  const element = chart.getDatasetMeta(next.datasetIndex).data[next.index]!;
  chart.setActiveElements([next]);
  chart.tooltip?.setActiveElements([next], { x: element.x, y: element.y });
  chart.update('none');
  return tooltipText(chart);
}
