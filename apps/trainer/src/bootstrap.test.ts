import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { blockBootstrap, pooledDifference, type PooledSeries } from './bootstrap.js';

const o = { resamples: 300, blockLength: 4, level: 0.95, seed: 7 };
const meanOf = (x: Float64Array) => (rows: Int32Array) => {
  let s = 0;
  for (let i = 0; i < rows.length; i++) s += x[rows[i]!]!;
  return s / rows.length;
};
const noise = (n: number, seed: number, shift = 0) => {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => shift + rng.normal());
};
const series = (ts: ArrayLike<number>, x: Float64Array): PooledSeries => ({ ts, value: meanOf(x)(Int32Array.from(x, (_, i) => i)), diff: meanOf(x) });
const hours = (n: number, from = 0) => Float64Array.from({ length: n }, (_, i) => (from + i) * 3_600_000);

describe('pooledDifference', () => {
  it('one series: the same interval as its own block bootstrap (same seed, same draws)', () => {
    const x = noise(400, 1, 0.1);
    const p = pooledDifference([series(hours(400), x)], o);
    const b = blockBootstrap(400, meanOf(x), o);
    expect(p.lo).toBe(b.lo);
    expect(p.hi).toBe(b.hi);
    expect(p.value).toBe(meanOf(x)(Int32Array.from({ length: 400 }, (_, i) => i)));
  });

  it('the point estimate is the mean of the series differences (equal weights, whatever their lengths)', () => {
    const a = noise(300, 2, 0.5);
    const b = noise(100, 3, -0.2);
    const p = pooledDifference([series(hours(300), a), series(hours(100, 50), b)], o);
    const full = (x: Float64Array) => meanOf(x)(Int32Array.from(x, (_, i) => i));
    expect(p.value).toBeCloseTo((full(a) + full(b)) / 2, 12);
  });

  it('series that move together are resampled together: two identical series give the interval of one, not a narrower one', () => {
    const x = noise(500, 4);
    const one = pooledDifference([series(hours(500), x)], o);
    const two = pooledDifference([series(hours(500), x), series(hours(500), x)], o);
    expect(two.lo).toBeCloseTo(one.lo, 12);
    expect(two.hi).toBeCloseTo(one.hi, 12);
  });

  it('independent series pool to a narrower interval than one of them, and a shared edge becomes significant', () => {
    const xs = [5, 6, 7, 8].map((s) => noise(300, s, 0.09));
    const single = xs.map((x) => pooledDifference([series(hours(300), x)], o));
    const pooled = pooledDifference(xs.map((x) => series(hours(300), x)), o);
    const widest = Math.min(...single.map((s) => s.hi - s.lo));
    expect(pooled.hi - pooled.lo).toBeLessThan(0.75 * widest);
    expect(single.filter((s) => s.verdict === 'better').length).toBeLessThan(4);
    expect(pooled.verdict).toBe('better');
  });

  it('disjoint periods: every resample scores each series on its own rows only', () => {
    const seen: number[] = [];
    const a: PooledSeries = { ts: hours(50), value: 1, diff: (r) => (seen.push(Math.max(...r)), 1) };
    const b: PooledSeries = { ts: hours(50, 1000), value: 3, diff: (r) => (seen.push(Math.max(...r)), 3) };
    const p = pooledDifference([a, b], { ...o, resamples: 50 });
    expect(p.value).toBe(2);
    expect(Math.max(...seen)).toBeLessThan(50);
    // a resample that misses one series entirely averages the other alone, so values stay within [1, 3]
    expect(p.lo).toBeGreaterThanOrEqual(1);
    expect(p.hi).toBeLessThanOrEqual(3);
  });

  it('unsorted timestamps and no series are clear errors', () => {
    expect(() => pooledDifference([], o)).toThrow(/at least one series/);
    expect(() => pooledDifference([series([0, 2, 1], noise(3, 9))], o)).toThrow(/not strictly ascending at row 2/);
  });
});
