import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import {
  forwardRealisedVol,
  forwardTrendZ,
  oneBarReturns,
  percentileFromGrid,
  quantileGrid,
  robustSigma,
  trailingRealisedVol,
  windowRealisedVol,
  windowTrendZ,
} from './forward.js';

describe('forward-window helpers', () => {
  it('window versions on precomputed returns equal the direct ones bit for bit', () => {
    const c = generateSyntheticMarket({ bars: 300, seed: 4 }).candles;
    const r = oneBarReturns(c.close, c.length);
    for (const t of [0, 17, 150, 280]) {
      expect(windowRealisedVol(r, t, 19)).toBe(forwardRealisedVol(c.close, t, 19));
      expect(windowTrendZ(r, t, 19)).toBe(forwardTrendZ(c.close, t, 19));
    }
  });
  it('realised vol and trend z by hand', () => {
    const close = Float64Array.from([100, 110, 99]);
    const a = Math.log(1.1);
    const b = Math.log(0.9);
    expect(forwardRealisedVol(close, 0, 2)).toBeCloseTo(Math.sqrt((a * a + b * b) / 2), 15);
    expect(forwardTrendZ(close, 0, 2)).toBeCloseTo((a + b) / Math.sqrt(a * a + b * b), 15);
    expect(trailingRealisedVol(close, 2, 1)).toBeCloseTo(Math.abs(b), 15);
    expect(trailingRealisedVol(close, 0, 5)).toBeNaN();
  });
  it('quantile grid and percentile interpolation', () => {
    const g = quantileGrid([4, 1, 3, 2, 5], 5);
    expect(g).toEqual([1, 2, 3, 4, 5]);
    expect(percentileFromGrid(g, 3)).toBeCloseTo(0.5, 15);
    expect(percentileFromGrid(g, 3.5)).toBeCloseTo(0.625, 15);
    expect(percentileFromGrid(g, 0)).toBe(0);
    expect(percentileFromGrid(g, 9)).toBe(1);
  });
  it('robust sigma is 1.4826 MAD and ignores one huge outlier', () => {
    // values 1..5 + 1000: median 3.5, |dev| = 2.5, 1.5, .5, .5, 1.5, 996.5 -> MAD 1.5
    expect(robustSigma([1, 2, 3, 4, 5, 1000])).toBeCloseTo(1.4826 * 1.5, 12);
  });
});
