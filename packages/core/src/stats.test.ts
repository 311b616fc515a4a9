import { describe, expect, it } from 'vitest';
import { autocorrelation, correlation, excessKurtosis, mean, percentileRank, quantile, skewness, std, variance, logReturns } from './stats.js';

describe('stats against hand-computed values', () => {
  const x = [2, 4, 4, 4, 5, 5, 7, 9];
  it('mean, variance, std', () => {
    expect(mean(x)).toBe(5);
    expect(variance(x, false)).toBe(4);
    expect(std(x, false)).toBe(2);
    expect(variance(x)).toBeCloseTo(32 / 7, 12);
  });
  it('skewness and excess kurtosis', () => {
    // deviations -3,-1,-1,-1,0,0,2,4: m2 = 4, m3 = (-27-1-1-1+8+64)/8 = 5.25, m4 = (81+1+1+1+16+256)/8 = 44.5
    expect(skewness(x)).toBeCloseTo(5.25 / 8, 12);
    expect(excessKurtosis(x)).toBeCloseTo(44.5 / 16 - 3, 12);
  });
  it('quantile (type 7) and percentile rank', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(percentileRank([1, 2, 3, 4], 2)).toBe(0.5);
    expect(percentileRank([1, 2, 3, 4], 0)).toBe(0);
  });
  it('autocorrelation and correlation', () => {
    expect(autocorrelation([1, -1, 1, -1, 1, -1], 1)).toBeCloseTo(-5 / 6, 12);
    expect(correlation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it('log returns', () => {
    const r = logReturns([100, 110, 99]);
    expect(Number.isNaN(r[0]!)).toBe(true);
    expect(r[1]).toBeCloseTo(Math.log(1.1), 15);
    expect(r[2]).toBeCloseTo(Math.log(0.9), 15);
  });
});
