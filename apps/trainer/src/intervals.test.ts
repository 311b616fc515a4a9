import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { annualisedNote, barReturns, compareOnWindows, compareSharpe, sharpeReport, type MetricSource } from './intervals.js';

// A regression "task" whose metric is the mean squared error of one output column.
const mseTask: MetricSource = {
  kind: 'regression',
  outputDim: 1,
  targetDim: 1,
  metrics(o, y, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (o[i]! - y[i]!) ** 2;
    return { mse: s / n };
  },
};

describe('trainer intervals', () => {
  it('compares two forecasters on the same windows', () => {
    const rng = new Rng(1);
    const y = Float32Array.from({ length: 400 }, () => rng.normal());
    const exact = Float32Array.from(y);
    const off = Float32Array.from(y, (v) => v + 1);
    const c = compareOnWindows(mseTask, 'mse', false, exact, off, y, 400);
    expect(c.model).toEqual({ estimate: 0, lo: 0, hi: 0 });
    expect(c.other.estimate).toBeCloseTo(1, 6);
    expect(c.diff.lo).toBeCloseTo(-1, 6); // a constant gap: no spread at all
    expect(c.verdictText).toBe('better (95% CI excludes 0)');
    expect(compareOnWindows(mseTask, 'mse', false, off, exact, y, 400).verdictText).toBe('worse');
    expect(compareOnWindows(mseTask, 'mse', false, exact, off, y.subarray(0, 20), 20).verdictText).toBe('too few to judge (20 windows < 30)');
    const noisy = Float32Array.from(y, (v) => v + 0.3 * rng.normal());
    const noisy2 = Float32Array.from(y, (v) => v + 0.3 * rng.normal());
    expect(compareOnWindows(mseTask, 'mse', false, noisy, noisy2, y, 400).verdictText).toBe('no significant difference');
  });

  it('Sharpe ratios with intervals and the strategy - benchmark difference', () => {
    expect(Array.from(barReturns([110, 99], 100))).toEqual([0.10000000000000009, -0.09999999999999998]);
    const rng = new Rng(2);
    const b = Float64Array.from({ length: 2000 }, () => rng.normal(0.0005, 0.01));
    const s = Float64Array.from(b, (v) => v + 0.002);
    const r = sharpeReport(s, 8760, 50);
    let m = 0;
    for (const v of s) m += v;
    m /= s.length;
    let v2 = 0;
    for (const v of s) v2 += (v - m) ** 2;
    expect(r.sharpe).toBeCloseTo((m / Math.sqrt(v2 / (s.length - 1))) * Math.sqrt(8760), 9);
    expect(r.lo).toBeLessThan(r.sharpe);
    expect(r.text).toMatch(/, 50 trades, 2000 bars$/);
    expect(r.psr).toBeGreaterThan(0.99);
    const d = compareSharpe(s, b, 8760, 50);
    expect(d.diff.lo).toBeGreaterThan(0);
    expect(d.verdictText).toBe('better (95% CI excludes 0)');
    expect(compareSharpe(s, b, 8760, 3).verdictText).toBe('too few to judge (3 trades < 10)');
  });

  it('flags annualised returns of runs shorter than a year', () => {
    expect(annualisedNote(2.5, 2190, 8760)).toBe('250.00% (extrapolated from 91 days; not a forecast)');
    expect(annualisedNote(0.1, 8760, 8760)).toBe('10.00%');
  });
});
