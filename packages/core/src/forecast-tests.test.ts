import { describe, expect, it } from 'vitest';
import { dieboldMariano } from './forecast-tests.js';
import { Rng } from './rng.js';

describe('Diebold-Mariano', () => {
  const d = [1, -0.5, 2, 0.5, 1.5, -1, 0.5, 1];
  const zeros = new Array(8).fill(0);
  it('h = 1 by hand (gamma0 = 0.859375), HLN and p-values from scipy', () => {
    const plain = dieboldMariano(d, zeros, { hln: false });
    expect(plain.statistic).toBeCloseTo(0.625 / Math.sqrt(0.859375 / 8), 12);
    expect(plain.pValue).toBeCloseTo(0.05653027716740420, 9); // 2 * norm.cdf(-1.90692...)
    const hln = dieboldMariano(d, zeros);
    expect(hln.statistic).toBeCloseTo(1.7837651700316894, 12); // x sqrt(7/8)
    expect(hln.pValue).toBeCloseTo(0.11764555596144675, 8); // 2 * t.cdf(-1.78376, 7)
    expect(hln.meanDifference).toBe(0.625);
  });
  it('h = 2 falls back to Bartlett weights when the truncated variance is negative', () => {
    // gamma1 = -0.439453125, so gamma0 + 2 gamma1 < 0; Bartlett: gamma0 + gamma1 = 0.419921875.
    const r = dieboldMariano(d, zeros, { horizon: 2 });
    expect(r.longRunVariance).toBeCloseTo(0.419921875, 14);
    expect(r.statistic).toBeCloseTo(2.209914235945042, 12);
    expect(r.pValue).toBeCloseTo(0.06280519102793507, 8);
  });
  it('the sign says which forecast is better, and the size is right under the null', () => {
    const rng = new Rng(21);
    let rejections = 0;
    const reps = 400;
    for (let k = 0; k < reps; k++) {
      const a = Float64Array.from({ length: 60 }, () => rng.normal() ** 2);
      const b = Float64Array.from({ length: 60 }, () => rng.normal() ** 2);
      if (dieboldMariano(a, b).pValue < 0.05) rejections++;
    }
    expect(rejections / reps).toBeGreaterThan(0.02);
    expect(rejections / reps).toBeLessThan(0.09);
    const good = Float64Array.from({ length: 200 }, () => 0.5 * rng.normal() ** 2);
    const bad = Float64Array.from({ length: 200 }, () => 2 * rng.normal() ** 2);
    const r = dieboldMariano(good, bad);
    expect(r.statistic).toBeLessThan(0);
    expect(r.pValue).toBeLessThan(0.001);
  });
  it('rejects bad input', () => {
    expect(() => dieboldMariano([1, 2], [1])).toThrow(/differ in length/);
    expect(() => dieboldMariano([1, 2, 3], [1, 2, 3], { horizon: 0 })).toThrow(/horizon/);
    expect(() => dieboldMariano([1], [1])).toThrow(/needs more/);
    expect(() => dieboldMariano([1, NaN, 3], [1, 2, 3])).toThrow(/not finite/);
  });
});
