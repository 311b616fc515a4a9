import { describe, expect, it } from 'vitest';
import { deflatedSharpeRatio, expectedMaxSharpe, probabilisticSharpeRatio, sharpeMoments } from './deflated-sharpe.js';
import { normalCdf } from './distributions.js';

describe('probabilistic and deflated Sharpe ratio', () => {
  it("reproduces Bailey & Lopez de Prado's (2014) worked example", () => {
    // 100 trials whose annualised Sharpe ratios have variance 1/2; the best shows 2.5 annualised
    // over 1250 daily returns with skewness -3 and kurtosis 10. The paper: SR0 = 0.1132 (daily), DSR = 0.9004.
    const v = 0.5 / 250;
    const m = { sharpe: 2.5 / Math.sqrt(250), n: 1250, skewness: -3, kurtosis: 10 };
    const d = deflatedSharpeRatio(m, 100, v);
    expect(d.benchmark).toBeCloseTo(0.1132, 4);
    expect(d.dsr).toBeCloseTo(0.9004, 4);
    // scipy: the same formulas give SR0 = 0.11317200186513214, DSR = 0.9003968344493903.
    expect(d.benchmark).toBeCloseTo(0.11317200186513214, 8);
    expect(d.dsr).toBeCloseTo(0.9003968344493903, 7);
    expect(d.psr).toBeCloseTo(0.9999968595078976, 7);
  });
  it('PSR by hand for normal returns', () => {
    // Normal: den = 1 + SR^2 / 2.
    const m = { sharpe: 0.1, n: 101, skewness: 0, kurtosis: 3 };
    expect(probabilisticSharpeRatio(m)).toBeCloseTo(normalCdf((0.1 * 10) / Math.sqrt(1.005)), 14);
    expect(probabilisticSharpeRatio(m, 0.1)).toBeCloseTo(0.5, 14);
  });
  it('one trial deflates nothing; more trials deflate more', () => {
    expect(expectedMaxSharpe(1, 0.01)).toBe(0);
    expect(expectedMaxSharpe(10, 0.01)).toBeLessThan(expectedMaxSharpe(1000, 0.01));
    expect(() => expectedMaxSharpe(0, 0.01)).toThrow(/trials/);
  });
  it('moments of a series', () => {
    const m = sharpeMoments([1, 2, 3, 4, 5]);
    expect(m.sharpe).toBeCloseTo(3 / Math.sqrt(2.5), 14);
    expect(m.skewness).toBeCloseTo(0, 14);
    expect(m.kurtosis).toBeCloseTo(1.7, 14); // population kurtosis of 1..5: 6.8 / 2^2
  });
});
