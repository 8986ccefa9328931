// The SVG export of a figure: real shapes and text from the chart's layout, escaped, clipped to the plot, parseable.

import { describe, expect, it } from 'vitest';
import { chartSvg, escapeXml, type ChartSnapshot } from '../../../src-renderer/src/lib/chart-svg.ts';

function snapshot(overrides: Partial<ChartSnapshot> = {}): ChartSnapshot {
  return {
    width: 400,
    height: 240,
    area: { left: 50, top: 10, right: 390, bottom: 190 },
    axes: [
      {
        position: 'bottom',
        ticks: [
          { pixel: 100, label: '0' },
          { pixel: 300, label: ['1', 'layer'] },
        ],
        title: 'layer',
        grid: true,
      },
      {
        position: 'left',
        ticks: [
          { pixel: 180, label: '0%' },
          { pixel: 20, label: '100%' },
        ],
        title: 'Σ Δ <probe>',
        grid: false,
      },
    ],
    marks: [
      { kind: 'rect', x: 90, y: 50, width: 20, height: 140, fill: 'rgb(1, 2, 3)' },
      { kind: 'rect', x: 290, y: 190, width: 20, height: -5, fill: '#abc' },
      {
        kind: 'line',
        points: [
          [50, 100],
          [200, 60],
          [390, NaN],
        ],
        stroke: '#123',
        width: 2,
        dash: [6, 4],
      },
      { kind: 'circle', cx: 120.456, cy: 80.001, r: 4, fill: 'red' },
      { kind: 'arrow', from: [60, 60], to: [120, 120], stroke: 'gray' },
    ],
    legend: [
      { label: 'base & "DPO"', colour: '#f00', line: false, dash: [] },
      { label: 'ablated', colour: '#0f0', line: true, dash: [6, 4] },
    ],
    colours: { background: '#fff', text: '#111', muted: '#666', grid: '#ddd' },
    title: 'Layers <1>',
    ...overrides,
  };
}

const count = (svg: string, pattern: RegExp) => svg.match(pattern)?.length ?? 0;

describe('chart SVG export', () => {
  it('writes one shape per bar, line, point and arrow, with the colours the chart used', () => {
    const svg = chartSvg(snapshot());
    expect(svg).toMatch(/^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="400" height="240"/);
    expect(count(svg, /<rect x="\d/g)).toBe(2 + 1 + 1); // two bars, the clip rectangle, one legend box
    expect(svg).toContain('fill="rgb(1, 2, 3)"');
    expect(svg).toContain(
      '<polyline points="50,100 200,60 390,0" fill="none" stroke="#123" stroke-width="2" stroke-dasharray="6 4"/>',
    );
    expect(svg).toContain('<circle cx="120.46" cy="80" r="4" fill="red"/>');
    expect(count(svg, /<polygon /g)).toBe(1);
    expect(svg).toContain('height="0"'); // a negative height is drawn as an empty bar, not an invalid one
  });

  it('writes tick labels (several lines where the chart has them), axis titles, grid lines only where the axis has them', () => {
    const svg = chartSvg(snapshot());
    expect(svg).toContain('>100%</text>');
    expect(svg).toContain('>layer</text>');
    expect(count(svg, />1<\/text>|>layer<\/text>/g)).toBe(3); // the two-line tick and the x title
    expect(svg).toMatch(/transform="rotate\(-90 12 100\)"[^>]*>Σ Δ &lt;probe&gt;<\/text>/);
    expect(count(svg, /<line x1="[\d.]+" y1="10" x2="[\d.]+" y2="190" stroke="#ddd"\/>/g)).toBe(2); // x grid only
  });

  it('escapes text and attributes, clips the marks to the plotting area, and writes no NaN', () => {
    const svg = chartSvg(snapshot());
    expect(svg).toContain('<title>Layers &lt;1&gt;</title>');
    expect(svg).toContain('>base &amp; &quot;DPO&quot;</text>');
    expect(svg).toMatch(/<g clip-path="url\(#plot\)">\n<rect x="90"/);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('wraps a legend wider than the chart onto more rows, all inside the figure', () => {
    const legend = Array.from({ length: 8 }, (_, index) => ({
      label: `a rather long series name ${index}`,
      colour: '#000',
      line: false,
      dash: [],
    }));
    const svg = chartSvg(snapshot({ legend, marks: [] }));
    const ys = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" fill="#111">/g)].map((match) => [
      Number(match[1]),
      Number(match[2]),
    ]);
    expect(ys).toHaveLength(8);
    expect(new Set(ys.map(([, y]) => y)).size).toBeGreaterThan(1);
    for (const [x, y] of ys) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(240);
    }
  });
});
