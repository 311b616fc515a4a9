import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { mean, std, excessKurtosis } from './stats.js';

describe('Rng', () => {
  it('repeats a sequence for the same seed, numeric or string', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(new Rng('alpha').nextU32()).toBe(new Rng('alpha').nextU32());
    expect(new Rng('alpha').nextU32()).not.toBe(new Rng('beta').nextU32());
    expect(new Rng(1).next()).not.toBe(new Rng(2).next());
  });

  it('draws uniforms in [0, 1) with the right mean and variance', () => {
    const r = new Rng(5);
    const xs = Float64Array.from({ length: 200_000 }, () => r.next());
    expect(xs.reduce((a, b) => Math.min(a, b), 1)).toBeGreaterThanOrEqual(0);
    expect(xs.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 2);
    expect(std(xs) ** 2).toBeCloseTo(1 / 12, 3);
  });

  it('draws normals and unit-variance Student-t', () => {
    const r = new Rng(9);
    const n = Float64Array.from({ length: 200_000 }, () => r.normal());
    expect(mean(n)).toBeCloseTo(0, 2);
    expect(std(n)).toBeCloseTo(1, 2);
    expect(Math.abs(excessKurtosis(n))).toBeLessThan(0.1);
    const t = Float64Array.from({ length: 200_000 }, () => r.studentT(5));
    expect(std(t)).toBeCloseTo(1, 1);
    expect(excessKurtosis(t)).toBeGreaterThan(2); // theoretical 6 for nu=5
  });

  it('splits into independent, reproducible child streams', () => {
    const p1 = new Rng(42);
    const p2 = new Rng(42);
    const c1 = p1.split('data');
    const c2 = p2.split('data');
    expect(c1.next()).toBe(c2.next());
    const other = new Rng(42).split('model');
    expect(other.next()).not.toBe(new Rng(42).split('data').next());
  });

  it('int covers [0, n) and permutation is a permutation', () => {
    const r = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const p = Array.from(r.permutation(50)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => r.int(0)).toThrow(RangeError);
  });
});
