import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { reliability } from './calibration.js';
import { eceInterval } from './ece-interval.js';

describe('eceInterval', () => {
  it('its estimate is the ECE of reliability(), by hand on four rows', () => {
    // top-label confidences 0.9, 0.9, 0.6, 0.6 (bins 13 and 9 of 15); hits 1, 0, 1, 1
    // ECE = 2/4 |0.5 - 0.9| + 2/4 |1 - 0.6| = 0.2 + 0.2 = 0.4
    const p = new Float64Array([0.9, 0.1, 0.9, 0.1, 0.4, 0.6, 0.4, 0.6]);
    const y = new Float64Array([0, 1, 1, 1]);
    expect(reliability(p, y, 4, 2).ece).toBeCloseTo(0.4, 12);
    const ci = eceInterval(p, y, 4, 2, { resamples: 50 });
    expect(ci.estimate).toBeCloseTo(0.4, 12);
    expect(ci.lo).toBeLessThanOrEqual(ci.hi);
  });

  it('a calibrated sample: the interval is narrow, near 0, and holds the estimate; a miscalibrated one sits away from 0', () => {
    const rng = new Rng(11);
    const n = 20_000;
    const p = new Float64Array(n * 2);
    const y = new Float64Array(n);
    const pBad = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const q = 0.5 + 0.45 * rng.next();
      p[2 * i] = q;
      p[2 * i + 1] = 1 - q;
      y[i] = rng.next() < q ? 0 : 1;
      // claims 10 points more confidence than it has
      const qb = Math.min(0.999, q + 0.1);
      pBad[2 * i] = qb;
      pBad[2 * i + 1] = 1 - qb;
    }
    const good = eceInterval(p, y, n, 2, { seed: 1 });
    expect(good.lo).toBeLessThanOrEqual(good.estimate);
    expect(good.hi).toBeGreaterThanOrEqual(good.estimate);
    expect(good.hi).toBeLessThan(0.03);
    expect(good.confidence).toBe(0.9);
    const bad = eceInterval(pBad, y, n, 2, { seed: 1 });
    expect(bad.lo).toBeGreaterThan(0.08);
    expect(bad.hi).toBeLessThan(0.12);
    // seeded: the same interval again
    expect(eceInterval(p, y, n, 2, { seed: 1 })).toEqual(good);
  });

  it('names a shape mismatch', () => {
    expect(() => eceInterval(new Float64Array(5), new Float64Array(2), 2, 3)).toThrow(/5 probabilities for 2 rows of 3 classes/);
  });
});
