// Vector export of a figure: a chart's axes, grid, bars, lines, points, arrows and legend, as chart.js laid them out
// (pixel positions read from the chart, see snapshotChart in chart-theme.ts), written as SVG elements — real shapes
// and text that stay sharp and editable, not the canvas's pixels in an SVG wrapper.

export interface SvgTick {
  /** Pixel position along the axis (x for a bottom axis, y for a left one). */
  pixel: number;
  /** One line, or several for a multi-line tick label. */
  label: string | string[];
}

export interface SvgAxis {
  position: 'bottom' | 'left';
  ticks: SvgTick[];
  /** Axis title; '' for none. */
  title: string;
  /** Grid lines across the chart area at each tick. */
  grid: boolean;
}

export type SvgMark =
  | { kind: 'rect'; x: number; y: number; width: number; height: number; fill: string }
  | { kind: 'line'; points: [number, number][]; stroke: string; width: number; dash: number[] }
  | { kind: 'circle'; cx: number; cy: number; r: number; fill: string }
  | { kind: 'arrow'; from: [number, number]; to: [number, number]; stroke: string };

export interface SvgLegendItem {
  label: string;
  colour: string;
  /** Drawn as a line sample (dashed if dash is non-empty) instead of a filled box. */
  line: boolean;
  dash: number[];
}

export interface ChartSnapshot {
  width: number;
  height: number;
  /** The plotting area inside the axes. */
  area: { left: number; top: number; right: number; bottom: number };
  axes: SvgAxis[];
  marks: SvgMark[];
  legend: SvgLegendItem[];
  colours: { background: string; text: string; muted: string; grid: string };
  /** Written as the SVG's <title>, for screen readers and file browsers. */
  title: string;
}

/** Text and attribute values with XML's five special characters escaped. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[character]!,
  );
}

/** A coordinate with at most two decimals; a value that is not finite becomes 0 (an SVG with NaN does not render). */
function px(value: number): string {
  if (!Number.isFinite(value)) return '0';
  return String(Math.round(value * 100) / 100);
}

const attribute = (value: string) => `"${escapeXml(value)}"`;
const fontSize = 11;
const lineHeight = 13;

function text(x: number, y: number, content: string, options: string): string {
  return `<text x="${px(x)}" y="${px(y)}" ${options}>${escapeXml(content)}</text>`;
}

function axisSvg(axis: SvgAxis, snapshot: ChartSnapshot): string[] {
  const { area, colours } = snapshot;
  const parts: string[] = [];
  const fill = `fill=${attribute(colours.muted)}`;
  for (const tick of axis.ticks) {
    const lines = Array.isArray(tick.label) ? tick.label : [tick.label];
    if (axis.position === 'bottom') {
      if (axis.grid)
        parts.push(
          `<line x1="${px(tick.pixel)}" y1="${px(area.top)}" x2="${px(tick.pixel)}" y2="${px(area.bottom)}" stroke=${attribute(colours.grid)}/>`,
        );
      lines.forEach((line, index) =>
        parts.push(text(tick.pixel, area.bottom + 14 + index * lineHeight, line, `text-anchor="middle" ${fill}`)),
      );
    } else {
      if (axis.grid)
        parts.push(
          `<line x1="${px(area.left)}" y1="${px(tick.pixel)}" x2="${px(area.right)}" y2="${px(tick.pixel)}" stroke=${attribute(colours.grid)}/>`,
        );
      lines.forEach((line, index) =>
        parts.push(
          text(
            area.left - 6,
            tick.pixel + 4 + (index - (lines.length - 1) / 2) * lineHeight,
            line,
            `text-anchor="end" ${fill}`,
          ),
        ),
      );
    }
  }
  if (axis.title) {
    if (axis.position === 'bottom')
      parts.push(text((area.left + area.right) / 2, area.bottom + 34, axis.title, `text-anchor="middle" ${fill}`));
    else {
      const x = 12;
      const y = (area.top + area.bottom) / 2;
      parts.push(
        `<text x="${px(x)}" y="${px(y)}" text-anchor="middle" transform="rotate(-90 ${px(x)} ${px(y)})" ${fill}>${escapeXml(axis.title)}</text>`,
      );
    }
  }
  return parts;
}

function markSvg(mark: SvgMark): string {
  switch (mark.kind) {
    case 'rect':
      return `<rect x="${px(mark.x)}" y="${px(mark.y)}" width="${px(Math.max(0, mark.width))}" height="${px(Math.max(0, mark.height))}" fill=${attribute(mark.fill)}/>`;
    case 'line': {
      const points = mark.points.map(([x, y]) => `${px(x)},${px(y)}`).join(' ');
      const dash = mark.dash.length > 0 ? ` stroke-dasharray="${mark.dash.map(px).join(' ')}"` : '';
      return `<polyline points="${points}" fill="none" stroke=${attribute(mark.stroke)} stroke-width="${px(mark.width)}"${dash}/>`;
    }
    case 'circle':
      return `<circle cx="${px(mark.cx)}" cy="${px(mark.cy)}" r="${px(mark.r)}" fill=${attribute(mark.fill)}/>`;
    case 'arrow': {
      const [[x0, y0], [x1, y1]] = [mark.from, mark.to];
      const angle = Math.atan2(y1 - y0, x1 - x0);
      const head = [angle - 0.4, angle + 0.4].map(
        (side) => `${px(x1 - 7 * Math.cos(side))},${px(y1 - 7 * Math.sin(side))}`,
      );
      return (
        `<line x1="${px(x0)}" y1="${px(y0)}" x2="${px(x1)}" y2="${px(y1)}" stroke=${attribute(mark.stroke)}/>` +
        `<polygon points="${px(x1)},${px(y1)} ${head.join(' ')}" fill=${attribute(mark.stroke)}/>`
      );
    }
  }
}

/** The legend as one centred row under the chart (wrapping to more rows when it is wider than the chart). */
function legendSvg(snapshot: ChartSnapshot): string[] {
  const { legend, width, height, colours } = snapshot;
  if (legend.length === 0) return [];
  const itemWidth = (item: SvgLegendItem) => 26 + item.label.length * 6.2 + 14;
  const rows: SvgLegendItem[][] = [[]];
  let used = 0;
  for (const item of legend) {
    if (used + itemWidth(item) > width - 20 && rows.at(-1)!.length > 0) {
      rows.push([]);
      used = 0;
    }
    rows.at(-1)!.push(item);
    used += itemWidth(item);
  }
  const parts: string[] = [];
  rows.forEach((row, rowIndex) => {
    const rowWidth = row.reduce((sum, item) => sum + itemWidth(item), 0);
    let x = (width - rowWidth) / 2;
    const y = height - 8 - (rows.length - 1 - rowIndex) * (lineHeight + 4);
    for (const item of row) {
      if (item.line) {
        const dash = item.dash.length > 0 ? ` stroke-dasharray="${item.dash.map(px).join(' ')}"` : '';
        parts.push(
          `<line x1="${px(x)}" y1="${px(y - 4)}" x2="${px(x + 20)}" y2="${px(y - 4)}" stroke=${attribute(item.colour)} stroke-width="2"${dash}/>`,
        );
      } else
        parts.push(`<rect x="${px(x + 4)}" y="${px(y - 10)}" width="12" height="12" fill=${attribute(item.colour)}/>`);
      parts.push(text(x + 26, y, item.label, `fill=${attribute(colours.text)}`));
      x += itemWidth(item);
    }
  });
  return parts;
}

/** The whole figure as an SVG document: background, grid and ticks, marks clipped to the plotting area, legend. */
export function chartSvg(snapshot: ChartSnapshot): string {
  const { width, height, area, colours } = snapshot;
  const clip = `<clipPath id="plot"><rect x="${px(area.left)}" y="${px(area.top)}" width="${px(area.right - area.left)}" height="${px(area.bottom - area.top)}"/></clipPath>`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" font-family="system-ui, sans-serif" font-size="${fontSize}">`,
    `<title>${escapeXml(snapshot.title)}</title>`,
    `<defs>${clip}</defs>`,
    `<rect width="100%" height="100%" fill=${attribute(colours.background)}/>`,
    ...snapshot.axes.flatMap((axis) => axisSvg(axis, snapshot)),
    `<g clip-path="url(#plot)">`,
    ...snapshot.marks.map(markSvg),
    `</g>`,
    ...legendSvg(snapshot),
    `</svg>`,
    '',
  ].join('\n');
}
