// Stepping through a chart's points from the keyboard: along a dataset, across datasets, hidden ones skipped.

import { describe, expect, it } from 'vitest';
import { stepChartPoint } from '../../../src-renderer/src/lib/chart-keyboard.ts';

describe('stepChartPoint', () => {
  const counts = [5, 0, 3]; // dataset 1 hidden

  it('starts at the first point of the first shown dataset, whatever the key', () => {
    expect(stepChartPoint(null, 'ArrowRight', counts)).toEqual({ datasetIndex: 0, index: 0 });
    expect(stepChartPoint(null, 'End', [0, 4])).toEqual({ datasetIndex: 1, index: 0 });
  });

  it('steps along a dataset and stops at its ends', () => {
    const at = (index: number) => ({ datasetIndex: 0, index });
    expect(stepChartPoint(at(2), 'ArrowRight', counts)).toEqual(at(3));
    expect(stepChartPoint(at(4), 'ArrowRight', counts)).toEqual(at(4));
    expect(stepChartPoint(at(0), 'ArrowLeft', counts)).toEqual(at(0));
    expect(stepChartPoint(at(2), 'Home', counts)).toEqual(at(0));
    expect(stepChartPoint(at(2), 'End', counts)).toEqual(at(4));
  });

  it('pages by a tenth of the dataset', () => {
    expect(stepChartPoint({ datasetIndex: 0, index: 0 }, 'PageDown', [1000])).toEqual({ datasetIndex: 0, index: 100 });
    expect(stepChartPoint({ datasetIndex: 0, index: 50 }, 'PageUp', [1000])).toEqual({ datasetIndex: 0, index: 0 });
  });

  it('moves across datasets at the same index, skipping hidden ones and clamping to shorter ones', () => {
    expect(stepChartPoint({ datasetIndex: 0, index: 4 }, 'ArrowDown', counts)).toEqual({ datasetIndex: 2, index: 2 });
    expect(stepChartPoint({ datasetIndex: 2, index: 1 }, 'ArrowUp', counts)).toEqual({ datasetIndex: 0, index: 1 });
    expect(stepChartPoint({ datasetIndex: 2, index: 1 }, 'ArrowDown', counts)).toEqual({ datasetIndex: 2, index: 1 });
  });

  it('ignores other keys and charts with nothing shown', () => {
    expect(stepChartPoint({ datasetIndex: 0, index: 1 }, 'Tab', counts)).toBeNull();
    expect(stepChartPoint(null, 'ArrowRight', [0, 0])).toBeNull();
  });

  it('starts again from the first point when the highlighted dataset was hidden', () => {
    expect(stepChartPoint({ datasetIndex: 1, index: 3 }, 'ArrowRight', counts)).toEqual({ datasetIndex: 0, index: 0 });
  });
});
