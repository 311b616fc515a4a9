import { describe, expect, it } from 'vitest';
import { deflateSharpe, trialSet } from './deflation.js';

describe('deflated Sharpe of a fitted strategy', () => {
  it('N and V of the trials: the sample variance of their per-bar Sharpe ratios', () => {
    expect(trialSet([0, 0.1, 0.2])).toEqual({ count: 3, sharpeVariance: expect.closeTo(0.01, 15) });
    expect(trialSet([0.3])).toEqual({ count: 1, sharpeVariance: 0 });
    // a trial that never traded (NaN Sharpe) counts as 0, as in the policy's objective
    expect(trialSet([NaN, 0.2]).sharpeVariance).toBeCloseTo(0.02, 15);
    expect(() => trialSet([])).toThrow(/at least one trial/);
  });

  it('matches a hand computation (Python statistics.NormalDist, the paper formulas)', () => {
    // 40 returns, 3 trials with per-bar Sharpe 0, 0.1, 0.2 (V = 0.01). By hand:
    // SR = mean / sample sd = 0.09545757975514717; skew 0.24394285237600813, kurtosis 1.7445191719800843
    // SR0 = 0.1 * ((1 - g) Phi^-1(2/3) + g Phi^-1(1 - 1/(3e))) = 0.08528044961506948
    // PSR(0) = Phi(SR sqrt(39) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2)) = 0.7266371441983779
    // DSR = PSR(SR0) = 0.5256158363275467
    const r = Array.from({ length: 10 }, () => [0.02, -0.015, 0.005, -0.005]).flat();
    const d = deflateSharpe(r, trialSet([0, 0.1, 0.2]), 8760, 12);
    expect(d.sharpe).toBeCloseTo(0.09545757975514717, 12);
    expect(d.sr0).toBeCloseTo(0.08528044961506948, 10);
    expect(d.psr).toBeCloseTo(0.7266371441983779, 10);
    expect(d.dsr).toBeCloseTo(0.5256158363275467, 10);
    expect(d.sharpeAnnualised).toBeCloseTo(8.934339925620812, 9);
    expect(d.sr0Annualised).toBeCloseTo(7.981812736350309, 8);
    expect(d.trials).toBe(3);
    expect(d.text).toBe('DSR 0.53 (P[true Sharpe > 7.98, the best of 3 unskilled trials by luck]); PSR 0.73; Sharpe 8.93, 40 bars, 12 trades');
  });

  it('one trial deflates nothing; more trials or more spread deflate more; small samples say so', () => {
    const r = Array.from({ length: 10 }, () => [0.02, -0.015, 0.005, -0.005]).flat();
    const one = deflateSharpe(r, { count: 1, sharpeVariance: 0 }, 8760);
    expect(one.dsr).toBe(one.psr);
    expect(one.text).toMatch(/one configuration, nothing deflated/);
    const few = deflateSharpe(r, { count: 10, sharpeVariance: 0.01 }, 8760);
    const many = deflateSharpe(r, { count: 1000, sharpeVariance: 0.01 }, 8760);
    const wide = deflateSharpe(r, { count: 10, sharpeVariance: 0.04 }, 8760);
    expect(many.dsr).toBeLessThan(few.dsr);
    expect(wide.dsr).toBeLessThan(few.dsr);
    expect(deflateSharpe(r, { count: 10, sharpeVariance: 0.01 }, 8760, 3).text).toMatch(/too few to judge$/);
    expect(deflateSharpe(r.slice(0, 20), { count: 10, sharpeVariance: 0.01 }, 8760).text).toMatch(/too few to judge$/);
  });
});
