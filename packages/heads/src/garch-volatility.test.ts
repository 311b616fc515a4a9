import { describe, expect, it } from 'vitest';
import { createRng } from '@task-agnostic/core';
import { garchFilter, garchMeanForecastVariance, simulateGarch11 } from './garch.js';
import { GarchVolatilityStream, garchVolatilitySeries } from './garch-volatility.js';

const m = { omega: 2e-6, alpha: 0.08, beta: 0.9, mu: 1e-5, initialVariance: 1e-4 };

describe('garchVolatilitySeries / GarchVolatilityStream', () => {
  it('equal the batch filter over the same closes (the trainer and the trader read one forecast)', () => {
    const rng = createRng(3);
    const r = simulateGarch11(m, 500, () => rng.normal());
    const close = new Float64Array(501);
    close[0] = 100;
    for (let i = 1; i <= 500; i++) close[i] = close[i - 1]! * Math.exp(r[i - 1]!);
    const rets = Array.from({ length: 500 }, (_, j) => Math.log(close[j + 1]! / close[j]!));
    const v = garchFilter(m, rets, m.initialVariance);
    const series = garchVolatilitySeries(m, close, 24);
    const s = new GarchVolatilityStream(m, 24);
    for (let t = 0; t <= 500; t++) {
      const want = Math.sqrt(garchMeanForecastVariance(m, v[t]!, 24));
      expect(series[t]).toBe(want);
      expect(s.next(close[t]!)).toBe(want);
    }
    // by hand at the first two closes: the starting variance, then one update
    const a = new GarchVolatilityStream(m, 1);
    expect(a.next(100)).toBe(Math.sqrt(m.initialVariance)); // horizon 1: the next return's variance itself
    const e = Math.log(1.01) - m.mu;
    const v1 = m.omega + m.alpha * e * e + m.beta * m.initialVariance;
    expect(a.next(101)).toBeCloseTo(Math.sqrt(v1), 15);
  });
  it('bad parameters and closes are named', () => {
    expect(() => new GarchVolatilityStream({ ...m, omega: Number.NaN }, 24)).toThrow(/GARCH omega must be a finite number/);
    expect(() => new GarchVolatilityStream(m, 0)).toThrow(/horizon must be an integer >= 1/);
    expect(() => new GarchVolatilityStream(m, 24).next(0)).toThrow(/close must be a finite number > 0/);
  });
});
