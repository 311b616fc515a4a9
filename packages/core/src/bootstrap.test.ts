import { describe, expect, it } from 'vitest';
import {
  bootstrapMean,
  bootstrapPairedMeanDifference,
  bootstrapPairedStatistic,
  bootstrapStatistic,
  politisWhiteBlockLength,
  stationaryBootstrapIndices,
} from './bootstrap.js';
import { Rng } from './rng.js';

function ar1(n: number, rho: number, rng: Rng, mu = 0): Float64Array {
  const x = new Float64Array(n);
  let prev = rng.normal() / Math.sqrt(1 - rho * rho);
  for (let i = 0; i < n; i++) {
    prev = rho * prev + rng.normal();
    x[i] = mu + prev;
  }
  return x;
}

describe('stationary bootstrap indices', () => {
  it('draws geometric blocks of the requested mean length, uniform over the sample', () => {
    const n = 200_000;
    const idx = stationaryBootstrapIndices(new Int32Array(n), 8, new Rng(1));
    let breaks = 0;
    const counts = new Float64Array(10);
    for (let i = 0; i < n; i++) {
      if (i > 0 && idx[i] !== (idx[i - 1]! + 1) % n) breaks++;
      const bin = Math.floor((idx[i]! / n) * 10);
      counts[bin] = counts[bin]! + 1;
    }
    // A new block starts with probability 1/8 (a fresh start equal to prev + 1 is rare: 1/n).
    expect(n / (breaks + 1)).toBeGreaterThan(7.8);
    expect(n / (breaks + 1)).toBeLessThan(8.2);
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(0.01);
  });
  it('block length 1 is the i.i.d. bootstrap', () => {
    const n = 100_000;
    const idx = stationaryBootstrapIndices(new Int32Array(n), 1, new Rng(2));
    let runs = 0;
    for (let i = 1; i < n; i++) if (idx[i] === idx[i - 1]! + 1) runs++;
    expect(runs).toBeLessThan(10);
  });
});

describe('Politis-White block length', () => {
  it('matches the theoretical optimum (2 rho / (1 - rho^2))^(2/3) n^(1/3) on a long AR(1)', () => {
    // For AR(1): G = sum |k| R(k) = 2 s2 rho / (1 - rho)^2, g(0) = s2 (1 + rho) / (1 - rho),
    // D_SB = 2 g(0)^2, so b = (2 G^2 / D_SB)^(1/3) n^(1/3) = (2 rho / (1 - rho^2))^(2/3) n^(1/3).
    const n = 20_000;
    for (const rho of [0.3, 0.6]) {
      const theory = Math.pow((2 * rho) / (1 - rho * rho), 2 / 3) * Math.cbrt(n);
      const est = politisWhiteBlockLength(ar1(n, rho, new Rng(`pw${rho}`)));
      expect(est / theory).toBeGreaterThan(0.75);
      expect(est / theory).toBeLessThan(1.3);
    }
  });
  it('is about 1 for white noise and capped for a near unit root', () => {
    const rng = new Rng(3);
    const w = Float64Array.from({ length: 5000 }, () => rng.normal());
    expect(politisWhiteBlockLength(w)).toBeLessThan(3);
    const walk = ar1(900, 0.9999, rng);
    expect(politisWhiteBlockLength(walk)).toBeLessThanOrEqual(Math.ceil(Math.min(3 * 30, 300)));
    expect(politisWhiteBlockLength([1, 2, 3])).toBe(1);
    expect(politisWhiteBlockLength(new Float64Array(100).fill(5))).toBe(1);
  });
});

describe('bootstrap intervals', () => {
  it('the mean fast path equals the generic statistic path on the same seed', () => {
    const rng = new Rng(4);
    const x = ar1(777, 0.5, rng);
    const opts = { seed: 9, blockLength: 6.5, resamples: 300 };
    const fast = bootstrapMean(x, opts);
    const slow = bootstrapStatistic(
      x.length,
      (idx) => {
        let s = 0;
        for (let i = 0; i < idx.length; i++) s += x[idx[i]!]!;
        return s / idx.length;
      },
      opts,
    );
    expect(fast.estimate).toBeCloseTo(slow.estimate, 12);
    expect(fast.lo).toBeCloseTo(slow.lo, 12);
    expect(fast.hi).toBeCloseTo(slow.hi, 12);
    expect(fast.se).toBeCloseTo(slow.se, 12);
  });
  it('gives the textbook standard error sd / sqrt(n) for i.i.d. data', () => {
    const rng = new Rng(5);
    const x = Float64Array.from({ length: 4000 }, () => rng.normal(1, 2));
    const b = bootstrapMean(x, { seed: 1, resamples: 2000, blockLength: 1 });
    expect(b.se / (2 / Math.sqrt(4000))).toBeGreaterThan(0.93);
    expect(b.se / (2 / Math.sqrt(4000))).toBeLessThan(1.07);
    expect(b.lo).toBeLessThan(1);
    expect(b.hi).toBeGreaterThan(1);
  });
  it('covers the true mean of an autocorrelated series about 95% of the time (i.i.d. does not)', () => {
    const rng = new Rng(6);
    let coveredBlock = 0;
    let coveredIid = 0;
    const reps = 150;
    for (let r = 0; r < reps; r++) {
      const x = ar1(500, 0.6, rng);
      const b = bootstrapMean(x, { seed: r, resamples: 300 });
      const i = bootstrapMean(x, { seed: r, blockLength: 1, resamples: 300 });
      if (b.lo <= 0 && b.hi >= 0) coveredBlock++;
      if (i.lo <= 0 && i.hi >= 0) coveredIid++;
    }
    // Long-run sd of AR(1) mean is (1 + rho) / (1 - rho) = 4x the variance: i.i.d. covers ~68%.
    expect(coveredBlock / reps).toBeGreaterThan(0.86);
    expect(coveredIid / reps).toBeLessThan(0.8);
  });
  it('is deterministic by seed', () => {
    const x = ar1(300, 0.3, new Rng(7));
    expect(bootstrapMean(x, { seed: 'a' })).toEqual(bootstrapMean(x, { seed: 'a' }));
    expect(bootstrapMean(x, { seed: 'a' }).lo).not.toBe(bootstrapMean(x, { seed: 'b' }).lo);
  });
  it('paired differences cancel the shared noise', () => {
    const rng = new Rng(8);
    const noise = ar1(1000, 0.5, rng);
    const a = Float64Array.from(noise, (v) => v + 0.1 + 0.05 * rng.normal());
    const b = noise;
    const d = bootstrapPairedMeanDifference(a, b, { seed: 1 });
    expect(d.estimate).toBeCloseTo(0.1, 2);
    expect(d.lo).toBeGreaterThan(0.09);
    expect(d.hi).toBeLessThan(0.11);
    // A constant shift has a zero-width interval.
    const c = bootstrapPairedMeanDifference(Float64Array.from(b, (v) => v + 2), b, { seed: 1 });
    expect(c.lo).toBeCloseTo(2, 12);
    expect(c.hi).toBeCloseTo(2, 12);
    // Unpaired, the same effect is lost in the noise.
    expect(bootstrapMean(a, { seed: 1 }).lo).toBeLessThan(bootstrapMean(b, { seed: 1 }).hi);
    expect(() => bootstrapPairedMeanDifference([1, 2], [1], {})).toThrow(/differ in length/);
  });
  it('paired statistics resample the same windows for both sides', () => {
    const rng = new Rng(9);
    const y = Int32Array.from({ length: 600 }, () => rng.int(3));
    const pa = Int32Array.from(y, (v) => (rng.next() < 0.6 ? v : rng.int(3)));
    const pb = Int32Array.from(y, (v) => (rng.next() < 0.3 ? v : rng.int(3)));
    const acc = (p: Int32Array) => (idx: Int32Array) => {
      let k = 0;
      for (let i = 0; i < idx.length; i++) if (p[idx[i]!] === y[idx[i]!]) k++;
      return k / idx.length;
    };
    const r = bootstrapPairedStatistic(600, acc(pa), acc(pb), { seed: 3, blockLength: 1 });
    expect(r.diff.estimate).toBeCloseTo(r.a.estimate - r.b.estimate, 12);
    // Accuracies 0.6 + 0.4/3 and 0.3 + 0.7/3: a difference of 0.2.
    expect(r.diff.lo).toBeGreaterThan(0.05);
    expect(r.diff.hi).toBeLessThan(0.3);
    // The two sides err independently, so the difference's se is about sqrt(se_a^2 + se_b^2).
    expect(r.diff.se / Math.hypot(r.a.se, r.b.se)).toBeGreaterThan(0.85);
    expect(r.diff.se / Math.hypot(r.a.se, r.b.se)).toBeLessThan(1.15);
    expect(r.a.lo).toBeLessThan(r.a.estimate);
    expect(r.a.hi).toBeGreaterThan(r.a.estimate);
  });
  it('rejects bad options with a clear error', () => {
    expect(() => bootstrapMean([], {})).toThrow(/empty/);
    expect(() => bootstrapMean([1, 2], { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapMean([1, 2], { confidence: 1.5 })).toThrow(/confidence/);
    expect(() => bootstrapMean([1, NaN], {})).toThrow(/not|NaN/);
  });
});
