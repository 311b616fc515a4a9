// Features technicalindicators does not compute, checked against hand-computed cases and a naive
// independent implementation (core's stats helpers on explicit slices).
import { describe, expect, it } from 'vitest';
import { excessKurtosis, generateSyntheticMarket, skewness, std, toColumns, type Candle, type CandleColumns } from '@task-agnostic/core';
import { computeFeaturesF64, type FeatureMatrix64 } from './batch.js';
import { parseFeatureSetConfig, type FeatureSpecInput } from './config.js';

function run(c: CandleColumns, features: FeatureSpecInput[]): FeatureMatrix64 {
  return computeFeaturesF64(c, parseFeatureSetConfig({ features }));
}
const H = 3_600_000;
const at = (m: FeatureMatrix64, row: number, name: string) => m.data[row * m.cols + m.names.indexOf(name)]!;

describe('candle shape (hand-computed)', () => {
  // open 100, high 110, low 95, close 105: range 15, body 5, upper 5, lower 5.
  const c = toColumns([{ tsMs: 0, open: 100, high: 110, low: 95, close: 105, volume: 1 }, { tsMs: H, open: 105, high: 105, low: 105, close: 105, volume: 0 }]);
  const m = run(c, [{ kind: 'body_ratio' }, { kind: 'upper_shadow' }, { kind: 'lower_shadow' }, { kind: 'range_pct' }, { kind: 'close_position' }]);
  it('ratios of the range', () => {
    expect(at(m, 0, 'body_ratio')).toBeCloseTo(5 / 15, 15);
    expect(at(m, 0, 'upper_shadow')).toBeCloseTo(5 / 15, 15);
    expect(at(m, 0, 'lower_shadow')).toBeCloseTo(5 / 15, 15);
    expect(at(m, 0, 'range_pct')).toBeCloseTo(15 / 105, 15);
    expect(at(m, 0, 'close_position')).toBeCloseTo(10 / 15, 15);
  });
  it('a flat candle gives 0 shape and close position 0.5', () => {
    expect([0, 1, 2, 3].map((j) => m.data[m.cols + j])).toEqual([0, 0, 0, 0]);
    expect(at(m, 1, 'close_position')).toBe(0.5);
  });
});

describe('returns, trend, volume (hand-computed)', () => {
  // Closes 100, 101, ..., 130: linear, every bar up.
  const closes = Array.from({ length: 31 }, (_, i) => 100 + i);
  const vols = closes.map((_, i) => (i % 2 === 0 ? 10 : 30));
  const candles: Candle[] = closes.map((cl, i) => ({ tsMs: i * H, open: cl - 0.5, high: cl + 1, low: cl - 1, close: cl, volume: vols[i]! }));
  const m = run(toColumns(candles), [
    { kind: 'return', period: 5 },
    { kind: 'log_return', period: 3 },
    { kind: 'trend_strength', period: 20 },
    { kind: 'trend_consistency', period: 20 },
    { kind: 'volume_ratio', period: 20 },
    { kind: 'volume_trend', short: 5, long: 20 },
    { kind: 'obv_change', period: 20 },
  ]);
  const last = 30;
  it('returns', () => {
    expect(at(m, last, 'return_5')).toBeCloseTo(130 / 125 - 1, 15);
    expect(at(m, last, 'log_return_3')).toBeCloseTo(Math.log(130 / 127), 15);
  });
  it('linear-regression slope of a straight line is its step / mean', () => {
    // Last 20 closes 111..130: slope 1 per bar, mean 120.5.
    expect(at(m, last, 'trend_strength_20')).toBeCloseTo(1 / 120.5, 14);
  });
  it('every bar up: trend consistency 1, OBV change 1', () => {
    expect(at(m, last, 'trend_consistency_20')).toBe(1);
    expect(at(m, last, 'obv_change_20')).toBeCloseTo(1, 14);
  });
  it('volume ratio and trend', () => {
    // Row 30 has volume 10; the 20-bar mean alternates 10/30 -> 20. Last 5: 10,30,10,30,10 -> 18.
    expect(at(m, last, 'volume_ratio_20')).toBeCloseTo(0.5, 14);
    expect(at(m, last, 'volume_trend_5_20')).toBeCloseTo(18 / 20 - 1, 14);
  });
});

describe('window statistics against a naive implementation (synthetic market, 600 bars)', () => {
  const c = generateSyntheticMarket({ bars: 600, seed: 7 }).candles;
  const m = run(c, [
    { kind: 'realized_vol', period: 20 },
    { kind: 'return_skewness', period: 20 },
    { kind: 'return_kurtosis', period: 20 },
    { kind: 'parkinson_vol', period: 20 },
    { kind: 'garman_klass_vol', period: 20 },
    { kind: 'vol_of_vol', volPeriod: 20, period: 20 },
  ]);
  const lr = (i: number) => Math.log(c.close[i]! / c.close[i - 1]!);
  const rets = (end: number, n: number) => Array.from({ length: n }, (_, k) => lr(end - n + 1 + k));
  const rv = (end: number) => std(rets(end, 20));
  it('every row from warm-up matches', () => {
    expect(m.warmup).toBe(39);
    for (let i = m.warmup; i < m.rows; i++) {
      const r = rets(i, 20);
      expect(at(m, i, 'realized_vol_20')).toBeCloseTo(std(r), 13);
      expect(at(m, i, 'return_skewness_20')).toBeCloseTo(skewness(r), 9);
      expect(at(m, i, 'return_kurtosis_20')).toBeCloseTo(excessKurtosis(r), 9);
      let pk = 0;
      let gk = 0;
      for (let j = i - 19; j <= i; j++) {
        const hl = Math.log(c.high[j]! / c.low[j]!);
        const co = Math.log(c.close[j]! / c.open[j]!);
        pk += hl * hl;
        gk += 0.5 * hl * hl - (2 * Math.log(2) - 1) * co * co;
      }
      expect(at(m, i, 'parkinson_vol_20')).toBeCloseTo(Math.sqrt(pk / (4 * Math.log(2) * 20)), 13);
      expect(at(m, i, 'garman_klass_vol_20')).toBeCloseTo(Math.sqrt(Math.max(0, gk / 20)), 13);
      const vols = Array.from({ length: 20 }, (_, k) => rv(i - 19 + k));
      const mean = vols.reduce((a, b) => a + b, 0) / 20;
      expect(at(m, i, 'vol_of_vol_20_20')).toBeCloseTo(std(vols) / mean, 10);
    }
  });
});

describe('calendar features', () => {
  it('hour and day of week of known UTC timestamps', () => {
    // 2024-01-01 is a Monday; 06:00 is a quarter of the day.
    const t = Date.UTC(2024, 0, 1, 6);
    const m = run(toColumns([{ tsMs: t, open: 1, high: 1, low: 1, close: 1, volume: 0 }]), [{ kind: 'hour_of_day' }, { kind: 'day_of_week' }]);
    expect(at(m, 0, 'hour_sin')).toBeCloseTo(1, 15);
    expect(at(m, 0, 'hour_cos')).toBeCloseTo(0, 15);
    expect(at(m, 0, 'dow_sin')).toBeCloseTo(Math.sin((2 * Math.PI * 1) / 7), 15);
    expect(at(m, 0, 'dow_cos')).toBeCloseTo(Math.cos((2 * Math.PI * 1) / 7), 15);
  });
});

describe('degenerate inputs give the documented neutral values', () => {
  // 60 identical flat, zero-volume candles: every ratio is 0/0 somewhere.
  const flat = toColumns(Array.from({ length: 60 }, (_, i) => ({ tsMs: i * H, open: 5, high: 5, low: 5, close: 5, volume: 0 })));
  const m = run(flat, [
    { kind: 'rsi' }, { kind: 'bb_position' }, { kind: 'stochastic' }, { kind: 'williams_r' }, { kind: 'cci' }, { kind: 'mfi' },
    { kind: 'volume_ratio' }, { kind: 'vwap_dev' }, { kind: 'adx' }, { kind: 'return_skewness' }, { kind: 'return_kurtosis' },
  ]);
  it('values', () => {
    const row = 59;
    expect(at(m, row, 'rsi_14')).toBe(0.5);
    expect(at(m, row, 'bb_position_20')).toBe(0.5);
    expect(at(m, row, 'stoch_k_14')).toBe(0);
    expect(at(m, row, 'williams_r_14')).toBe(-0.5);
    expect(at(m, row, 'cci_20')).toBe(0);
    expect(at(m, row, 'mfi_14')).toBe(0.5);
    expect(at(m, row, 'volume_ratio_20')).toBe(1);
    expect(at(m, row, 'vwap_dev_20')).toBe(0);
    expect(at(m, row, 'adx_14')).toBe(0);
    expect(at(m, row, 'return_skewness_20')).toBe(0);
    expect(at(m, row, 'return_kurtosis_20')).toBe(0);
  });
});

describe('flat windows at prices that are not exact in binary', () => {
  it('Bollinger %b is exactly 0.5 and vols are ~0', () => {
    const flat = toColumns(Array.from({ length: 50 }, (_, i) => ({ tsMs: i * H, open: 0.1234, high: 0.1234, low: 0.1234, close: 0.1234, volume: 3 })));
    const m = run(flat, [{ kind: 'bb_position' }, { kind: 'realized_vol' }]);
    for (let i = 20; i < 50; i++) {
      expect(at(m, i, 'bb_position_20')).toBe(0.5);
      expect(at(m, i, 'realized_vol_20')).toBeLessThan(1e-15);
    }
  });
});
