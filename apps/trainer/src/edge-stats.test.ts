import { describe, expect, it } from 'vitest';
import { createRng } from '@task-agnostic/core';
import { annualSharpe, sharpeDifferenceInterval, sharpeInterval } from './edge-stats.js';

function series(n: number, mu: number, sd: number, seed: number): Float64Array {
  const r = createRng(seed);
  return Float64Array.from({ length: n }, () => mu + sd * r.normal());
}

describe('Sharpe intervals', () => {
  it('annualSharpe by hand: [1%, 3%, -1%] -> mean 1%, sd 2%, x sqrt(4)', () => {
    expect(annualSharpe([0.01, 0.03, -0.01], null, 4)).toBeCloseTo((0.01 / 0.02) * 2, 12);
    expect(annualSharpe([0.01, 0.01, 0.01], null, 4)).toBe(0);
  });
  it('covers the true Sharpe about as often as the level says (iid normal returns)', () => {
    // true per-bar Sharpe 0.05, annualised with 100 bars/year: 0.5
    let covered = 0;
    const trials = 60;
    for (let k = 0; k < trials; k++) {
      const ci = sharpeInterval(series(800, 0.05, 1, 100 + k), 100, { resamples: 300, seed: k, level: 0.9 });
      if (ci.lo <= 0.5 && 0.5 <= ci.hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.75);
    expect(covered / trials).toBeLessThan(0.99);
  });
  it('the width matches the iid standard error sqrt((1 + SR^2/2) / n) (Lo 2002)', () => {
    const r = series(2000, 0.02, 1, 7);
    const ci = sharpeInterval(r, 1, { resamples: 1000, blockLength: 1, level: 0.9 });
    const se = Math.sqrt((1 + 0.02 ** 2 / 2) / 2000);
    expect((ci.hi - ci.lo) / (2 * 1.645 * se)).toBeGreaterThan(0.85);
    expect((ci.hi - ci.lo) / (2 * 1.645 * se)).toBeLessThan(1.15);
  });
  it('a paired difference cancels the shared part: a strategy = b + a real edge is judged better', () => {
    const common = series(3000, 0, 0.01, 3);
    const edge = series(3000, 0.0008, 0.002, 4);
    const a = common.map((x, i) => x + edge[i]!);
    const d = sharpeDifferenceInterval(a, common, 8760, { seed: 2 });
    expect(d.lo).toBeGreaterThan(0);
    const same = sharpeDifferenceInterval(common, common, 8760);
    expect([same.estimate, same.lo, same.hi]).toEqual([0, 0, 0]);
  });
  it('is deterministic for a seed; too short a series gives an unbounded interval', () => {
    const r = series(500, 0.01, 1, 9);
    expect(sharpeInterval(r, 8760, { seed: 5 })).toEqual(sharpeInterval(r, 8760, { seed: 5 }));
    expect(sharpeInterval(r.subarray(0, 20), 8760).lo).toBe(-Infinity);
    expect(() => sharpeDifferenceInterval(r, r.subarray(1), 8760)).toThrow(/differ in length/);
  });
});
