import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { applyRiskFusion, fitRiskFusion, riskFusionFeatures, RISK_FUSION_FEATURES } from './risk-vol-fusion.js';
import { classificationMetrics } from './metrics.js';
import { softmaxRows } from './metrics.js';

const macroF1 = (o: Float32Array, y: Float32Array, n: number): number => classificationMetrics(softmaxRows(o, n, 3), y, n, ['low', 'medium', 'high']).macroF1!;

describe('riskFusionFeatures', () => {
  it('computes each feature by hand', () => {
    const X = riskFusionFeatures(
      { riskLogits: [1, 2, 4], persistence: [-3, -3, 0], volForecast: [0.5], trailingVol: [-0.25], volCentre: -4, volCuts: [Math.exp(-4.2), Math.exp(-3.5)] },
      1,
    );
    // ln c0 - centre = -0.2, ln c1 - centre = 0.5
    const want = [1, 3, 0.7, 0, -0.05, -0.75, 0, 1];
    expect(X.length).toBe(RISK_FUSION_FEATURES.length);
    want.forEach((v, j) => expect(X[j]!).toBeCloseTo(v, 12));
  });

  it('rejects bad shapes and cuts with one line', () => {
    const ok = { riskLogits: [0, 0, 0], persistence: [0, -3, -3], volForecast: [0], trailingVol: [0], volCentre: 0, volCuts: [1, 2] as [number, number] };
    expect(() => riskFusionFeatures({ ...ok, volForecast: [0, 1] }, 1)).toThrow(/2 vol forecasts .* for 1 rows/);
    expect(() => riskFusionFeatures({ ...ok, volCuts: [0, 2] }, 1)).toThrow(/vol cuts 0, 2 must be positive/);
  });
});

describe('applyRiskFusion', () => {
  it('is the intercepts plus the slopes times the features, plus the offsets', () => {
    const F = RISK_FUSION_FEATURES.length;
    const weights = new Array((F + 1) * 3).fill(0);
    weights[1] = 0.5; // intercept of medium
    weights[(1 + 2) * 3 + 2] = 2; // feature 2 (volHead - ln c0) on high
    const x = [0, 0, 1.5, 0, 0, 0, 0, 0];
    const z = applyRiskFusion({ weights, offsets: [0, 0.1, -0.2] }, x, 1);
    expect(Array.from(z)).toEqual([0, Math.fround(0.6), Math.fround(2.8)]);
  });
});

describe('fitRiskFusion', () => {
  // the risk class is the grade of a latent log vol against two cuts; the vol head sees it with
  // noise, the risk head's logits are uninformative noise, persistence is the grade one step back
  function market(n: number, seed: number) {
    const rng = new Rng(seed);
    const riskLogits = new Float32Array(n * 3);
    const persistence = new Float32Array(n * 3).fill(-3);
    const volForecast = new Float32Array(n);
    const trailingVol = new Float32Array(n);
    const y = new Float32Array(n);
    let v = 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      v = 0.95 * v + 0.3 * rng.normal();
      y[i] = v > 0.6 ? 2 : v > 0 ? 1 : 0;
      volForecast[i] = v + 0.2 * rng.normal();
      trailingVol[i] = v + 0.5 * rng.normal();
      for (let k = 0; k < 3; k++) riskLogits[i * 3 + k] = rng.normal();
      persistence[i * 3 + prev] = 0;
      prev = y[i]!;
    }
    const X = riskFusionFeatures({ riskLogits, persistence, volForecast, trailingVol, volCentre: 0, volCuts: [1, Math.exp(0.6)] }, n);
    return { X, y, riskLogits };
  }

  it('learns the risk classes from the vol forecast where the risk head knows nothing', () => {
    const { X, y, riskLogits } = market(3000, 3);
    const fit = fitRiskFusion(X, y, riskLogits, 3000, macroF1);
    expect(fit.folds).toBe(5);
    expect(fit.heldOut.model).toBeLessThan(0.4);
    expect(fit.heldOut.fusion).toBeGreaterThan(0.75);
    // the weight on (volHead - ln c1) for high is large and positive; the noise logits' small
    const K = 3;
    expect(fit.fusion!.weights[(1 + 3) * K + 2]!).toBeGreaterThan(2);
    expect(Math.abs(fit.fusion!.weights[(1 + 0) * K + 1]!)).toBeLessThan(0.3);
    // applied to fresh rows of the same market it keeps its score
    const fresh = market(3000, 4);
    expect(macroF1(applyRiskFusion(fit.fusion!, fresh.X, 3000), fresh.y, 3000)).toBeGreaterThan(0.75);
  });

  it('declines with a reason when rows are few or a class is missing', () => {
    const { X, y, riskLogits } = market(3000, 5);
    expect(fitRiskFusion(X.subarray(0, 50 * 8), y.subarray(0, 50), riskLogits.subarray(0, 150), 50, macroF1).warning).toMatch(/50 validation rows/);
    const flat = new Float32Array(3000).fill(1);
    const r = fitRiskFusion(X, flat, riskLogits, 3000, macroF1);
    expect(r.fusion).toBeNull();
    expect(r.warning).toMatch(/1 of the 3 risk classes/);
  });
});
