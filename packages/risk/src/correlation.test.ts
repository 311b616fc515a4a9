import { describe, expect, it } from 'vitest';
import { correlation, createRng } from '@task-agnostic/core';
import { CorrelationCache, rollingCorrelation } from './correlation.js';

describe('rollingCorrelation', () => {
  it('equals core.correlation over the last `window` aligned values', () => {
    const rng = createRng(11);
    const a = Array.from({ length: 300 }, () => rng.normal(0, 0.01));
    const b = a.map((x) => 0.6 * x + rng.normal(0, 0.008));
    const c = b.slice(50); // shorter: aligned at the end
    const want = correlation(a.slice(-100), b.slice(-100));
    expect(rollingCorrelation(a, b, 100).correlation).toBeCloseTo(want, 12);
    expect(rollingCorrelation(a, c, 100).correlation).toBeCloseTo(want, 12);
    expect(rollingCorrelation(a, c, 1000).samples).toBe(250);
    expect(rollingCorrelation(a, a, 50).correlation).toBeCloseTo(1, 12);
    expect(rollingCorrelation(a, a.map((x) => -2 * x), 50).correlation).toBeCloseTo(-1, 12);
    expect(rollingCorrelation(a, new Array(300).fill(0.001), 50).correlation).toBe(0);
  });
});

describe('CorrelationCache', () => {
  it('slides incrementally and matches a full recompute at every step', () => {
    const rng = createRng(5);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 120; i++) {
      const x = rng.normal(0, 0.01);
      a.push(x);
      b.push(0.5 * x + rng.normal(0, 0.01));
    }
    const cache = new CorrelationCache();
    for (let step = 0; step < 400; step++) {
      const k = 1 + (step % 3);
      for (let j = 0; j < k; j++) {
        const x = rng.normal(0, 0.01);
        a.push(x);
        b.push((step > 200 ? -0.8 : 0.5) * x + rng.normal(0, 0.01)); // the relation flips half-way
      }
      const got = cache.correlation('A|B', a, b, 50);
      expect(got.correlation).toBeCloseTo(correlation(a.slice(-50), b.slice(-50)), 9);
      expect(cache.correlation('A|B', a, b, 50).correlation).toBe(got.correlation); // a hit
    }
    expect(cache.stats.slid).toBeGreaterThan(300);
    expect(cache.stats.full).toBeLessThan(60); // periodic recompute against drift only
    expect(cache.stats.hits).toBe(400);
  });
  it('recomputes when given a different array object', () => {
    const cache = new CorrelationCache();
    const a = [0.01, -0.02, 0.03, 0.01, -0.01];
    cache.correlation('k', a, a, 5);
    const b = [...a].reverse();
    expect(cache.correlation('k', a, b, 5).correlation).toBeCloseTo(correlation(a, b), 12);
    expect(cache.stats.full).toBe(2);
    cache.prune(new Set());
    expect(cache.size).toBe(0);
  });
});
