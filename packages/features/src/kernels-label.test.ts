import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { computeFeaturesF64 } from './batch.js';
import { parseFeatureSetConfig } from './config.js';
import { candlesFromCloses, expectCausalAndStreaming } from './test-kit.js';

const config = parseFeatureSetConfig({
  features: [{ kind: 'trend_tstat', period: 64 }, { kind: 'median_log_range', period: 64 }, { kind: 'median_log_range', period: 8, lag: 28 }, { kind: 'trend_tstat', period: 5 }],
});
const c = generateSyntheticMarket({ bars: 1500, seed: 7 }).candles;

/** Direct: sum r / sqrt(sum r^2) over k = t-P+1..t. */
function tstat(t: number, P: number): number {
  let a = 0;
  let q = 0;
  for (let k = t - P + 1; k <= t; k++) {
    const r = Math.log(c.close[k]! / c.close[k - 1]!);
    a += r;
    q += r * r;
  }
  return q > 0 ? a / Math.sqrt(q) : 0;
}

/** Direct: median of ln(max(1e-6, ln(high/low))) over k = t-L-P+1..t-L. */
function medianLogRange(t: number, P: number, L: number): number {
  const v: number[] = [];
  for (let k = t - L - P + 1; k <= t - L; k++) v.push(Math.log(Math.max(1e-6, Math.log(c.high[k]! / c.low[k]!))));
  v.sort((a, b) => a - b);
  const m = P >> 1;
  return P % 2 ? v[m]! : 0.5 * (v[m - 1]! + v[m]!);
}

describe('regime-label statistics of the trailing window (trend_tstat, median_log_range)', () => {
  const m = computeFeaturesF64(c, config);

  it('names and warm-up: P for the t-statistic, P + lag - 1 for the median', () => {
    expect(m.names).toEqual(['trend_tstat_64', 'median_log_range_64', 'median_log_range_8_lag28', 'trend_tstat_5']);
    expect(m.warmup).toBe(64);
    const f = computeFeaturesF64(c, parseFeatureSetConfig({ features: [{ kind: 'median_log_range', period: 8, lag: 28 }] }));
    expect(f.warmup).toBe(35);
  });

  it('equal a direct computation at every row after the warm-up', () => {
    for (let t = m.warmup; t < c.length; t++) {
      const row = m.data.subarray(t * m.cols, (t + 1) * m.cols);
      expect(row[0]).toBeCloseTo(tstat(t, 64), 12);
      expect(row[1]).toBeCloseTo(medianLogRange(t, 64, 0), 12);
      expect(row[2]).toBeCloseTo(medianLogRange(t, 8, 28), 12);
      expect(row[3]).toBeCloseTo(tstat(t, 5), 12);
    }
  });

  it('hand-computed: closes 1, 2, 1, 2, 2, 2 give returns ln2, -ln2, ln2, 0, 0: z over 3 bars = 1/sqrt(3) at bar 3, 1 at bar 5; log ranges ln ln 2.02', () => {
    const k = candlesFromCloses([1, 2, 1, 2, 2, 2], 1.01);
    const f = computeFeaturesF64(k, parseFeatureSetConfig({ features: [{ kind: 'trend_tstat', period: 3 }, { kind: 'median_log_range', period: 3 }] }));
    expect(f.data[3 * 2]).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(f.data[5 * 2]).toBeCloseTo(1, 12);
    // bars 1..3 each span 1 -> 2.02 (high = 1.01 x the larger of open and close)
    expect(f.data[3 * 2 + 1]).toBeCloseTo(Math.log(Math.log(2.02)), 12);
  });

  it('is causal: bars after t do not change the features at t; streaming equals batch', () => {
    expectCausalAndStreaming(c, config, m, [300, 901, 1234]);
  });
});
