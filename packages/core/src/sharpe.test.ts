import { describe, expect, it } from 'vitest';
import { formatSharpe, loEta, neweyWestLags, sharpeRatio, sharpeStandardError, sharpeStandardErrorIid, sharpeWithInterval } from './sharpe.js';
import { Rng } from './rng.js';
import { std } from './stats.js';

const series = Float64Array.from({ length: 50 }, (_, t) => 0.01 * Math.sin(t) + 0.002 * Math.cos(3 * t) + 0.001);

describe('Sharpe ratio and its standard error', () => {
  it('Lo (2002) eq. 10 by hand', () => {
    expect(sharpeStandardErrorIid(1, 100)).toBeCloseTo(Math.sqrt(1.5 / 100), 15);
    expect(sharpeStandardErrorIid(0, 400)).toBeCloseTo(0.05, 15);
  });
  it('matches an independent numpy implementation of the GMM / Newey-West form', () => {
    // numpy: psi = [r - mu, (r - mu)^2 - s2]; Omega = G0 + sum w_j (Gj + Gj'); grad = [1/s, -mu/(2 s^3)].
    expect(sharpeRatio(series)).toBeCloseTo(0.14209291289815484, 12);
    expect(sharpeStandardError(series, 0)).toBeCloseTo(0.14179945334838975, 12);
    expect(sharpeStandardError(series, 3)).toBeCloseTo(0.1363745166456154, 12);
  });
  it('has the spread of the Sharpe ratio across simulated AR(1) paths (the i.i.d. formula does not)', () => {
    const rng = new Rng(11);
    const rho = 0.4;
    const n = 1000;
    const srs: number[] = [];
    let seSum = 0;
    let seIidSum = 0;
    for (let rep = 0; rep < 300; rep++) {
      const r = new Float64Array(n);
      let e = rng.normal() / Math.sqrt(1 - rho * rho);
      for (let i = 0; i < n; i++) {
        e = rho * e + rng.normal();
        r[i] = 0.05 * Math.sqrt(1 / (1 - rho * rho)) + e;
      }
      srs.push(sharpeRatio(r));
      seSum += sharpeStandardError(r, 10);
      seIidSum += sharpeStandardErrorIid(sharpeRatio(r), n);
    }
    const trueSd = std(srs);
    expect((seSum / 300) / trueSd).toBeGreaterThan(0.85);
    expect((seSum / 300) / trueSd).toBeLessThan(1.15);
    expect((seIidSum / 300) / trueSd).toBeLessThan(0.75); // sqrt((1 - rho) / (1 + rho)) = 0.65
  });
  it("Lo's eta(q) by hand", () => {
    expect(loEta([], 12)).toBeCloseTo(Math.sqrt(12), 14);
    expect(loEta([0.5], 2)).toBeCloseTo(2 / Math.sqrt(3), 14);
    expect(loEta([0.2, 0.1], 3)).toBeCloseTo(1.5, 14); // 3 / sqrt(3 + 2 (2 * 0.2 + 1 * 0.1))
    expect(loEta([0.2, 0.1, 0.9], 3)).toBeCloseTo(1.5, 14); // lags >= q do not enter
  });
  it('annualises with an interval and reports the trades', () => {
    const rng = new Rng(12);
    const r = Float64Array.from({ length: 8760 }, () => rng.normal(0.0002, 0.01));
    const s = sharpeWithInterval(r, { periodsPerYear: 8760, trades: 154, autocorrelationAdjusted: false });
    expect(s.annualised).toBeCloseTo(s.sharpe * Math.sqrt(8760), 12);
    expect(s.hi - s.lo).toBeCloseTo(2 * 1.959963984540054 * s.se * Math.sqrt(8760), 9);
    expect(s.lags).toBe(neweyWestLags(8760));
    expect(formatSharpe(s)).toMatch(/^Sharpe -?\d+\.\d\d \[95% CI -?\d+\.\d\d, -?\d+\.\d\d\], 154 trades, 8760 bars$/);
    expect(formatSharpe({ ...s, trades: 4 })).toMatch(/too few to judge/);
    const adj = sharpeWithInterval(r, { periodsPerYear: 8760 });
    expect(adj.eta / Math.sqrt(8760)).toBeGreaterThan(0.8); // white noise: eta close to sqrt(q)
    expect(adj.eta / Math.sqrt(8760)).toBeLessThan(1.25);
    expect(() => sharpeWithInterval(r, { periodsPerYear: 0 })).toThrow(/periodsPerYear/);
  });
});
