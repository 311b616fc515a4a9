import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { ewmaVariance, fitGarch11, garchFilter, garchLogLikelihood, garchMeanForecastVariance, simulateGarch11 } from './garch.js';
import { nelderMead } from './optimize.js';

describe('Nelder-Mead', () => {
  it('finds the Rosenbrock minimum (1, 1)', () => {
    const r = nelderMead((x) => 100 * (x[1]! - x[0]! ** 2) ** 2 + (1 - x[0]!) ** 2, [-1.2, 1], { maxIterations: 5000, fTolerance: 1e-14, xTolerance: 1e-10 });
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
    expect(r.converged).toBe(true);
  });
});

describe('GARCH(1,1)', () => {
  it('computes the Gaussian log-likelihood of the recursion by hand on three returns', () => {
    const p = { omega: 0.1, alpha: 0.2, beta: 0.5, mu: 0 };
    const r = [1, -2, 0.5];
    // sample variance (population) of r: mean -1/6
    const m = -1 / 6;
    const v0 = ((1 - m) ** 2 + (-2 - m) ** 2 + (0.5 - m) ** 2) / 3;
    const s1 = v0;
    const s2 = 0.1 + 0.2 * 1 + 0.5 * s1;
    const s3 = 0.1 + 0.2 * 4 + 0.5 * s2;
    const ll = -0.5 * [[s1, 1], [s2, -2], [s3, 0.5]].reduce((a, [s, e]) => a + Math.log(2 * Math.PI) + Math.log(s!) + (e! * e!) / s!, 0);
    expect(garchLogLikelihood(p, r)).toBeCloseTo(ll, 12);
    const f = garchFilter(p, r, v0);
    expect(Array.from(f)).toEqual([s1, s2, s3, 0.1 + 0.2 * 0.25 + 0.5 * s3]);
  });

  it('mean h-step forecast equals the mean of the iterated forecasts', () => {
    const p = { omega: 1e-6, alpha: 0.1, beta: 0.85, mu: 0 };
    const next = 5e-5;
    const longRun = p.omega / (1 - p.alpha - p.beta);
    let s = next;
    let sum = 0;
    for (let k = 1; k <= 10; k++) {
      sum += s;
      s = longRun + (p.alpha + p.beta) * (s - longRun);
    }
    expect(garchMeanForecastVariance(p, next, 10)).toBeCloseTo(sum / 10, 15);
  });

  it('EWMA variance follows lambda s2 + (1 - lambda) r^2', () => {
    const v = ewmaVariance([0.1, -0.2], 0.9, 0.01);
    expect(v[1]).toBeCloseTo(0.9 * 0.01 + 0.1 * 0.01, 15);
    expect(v[2]).toBeCloseTo(0.9 * v[1]! + 0.1 * 0.04, 15);
  });

  // Tolerance stated: on 20,000 simulated returns, alpha within 0.02, beta within 0.03, persistence
  // within 0.01 and the long-run variance within 15% (asymptotic std errors are ~0.006, ~0.01).
  it.each([1, 2, 3])('recovers known parameters on simulated data (seed %i)', (seed) => {
    const rng = new Rng(seed);
    const truth = { omega: 2e-6, alpha: 0.08, beta: 0.9, mu: 0 };
    const r = simulateGarch11(truth, 20_000, () => rng.normal());
    const fit = fitGarch11(r);
    expect(Math.abs(fit.alpha - truth.alpha)).toBeLessThan(0.02);
    expect(Math.abs(fit.beta - truth.beta)).toBeLessThan(0.03);
    expect(Math.abs(fit.alpha + fit.beta - 0.98)).toBeLessThan(0.01);
    const lr = fit.omega / (1 - fit.alpha - fit.beta);
    expect(Math.abs(lr / 1e-4 - 1)).toBeLessThan(0.15);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(garchLogLikelihood(truth, r) - 1e-6);
  });

  it('rejects too few or non-finite returns', () => {
    expect(() => fitGarch11([0.1, 0.2])).toThrow(/at least 20/);
    expect(() => fitGarch11(Array.from({ length: 30 }, (_, i) => (i === 5 ? NaN : 0.01 * Math.sin(i))))).toThrow(/returns\[5\]/);
  });
});
