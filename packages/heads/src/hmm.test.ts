import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, REGIMES, Rng, SEPARATED_MARKET } from '@task-agnostic/core';
import { fitGaussianHmm, hmmLogLikelihood, hmmPosteriors, viterbi, type GaussianHmm } from './hmm.js';
import { fitRegimeHmm, regimeObservations, regimeProbabilities } from './regime-hmm.js';

const model2: GaussianHmm = {
  states: 2,
  dim: 1,
  initial: [0.6, 0.4],
  transition: [[0.9, 0.1], [0.2, 0.8]],
  means: [[0], [3]],
  variances: [[1], [0.5]],
};

function normPdf(x: number, m: number, v: number): number {
  return Math.exp(-0.5 * (x - m) ** 2 / v) / Math.sqrt(2 * Math.PI * v);
}

/** Brute force over all 2^n paths: likelihood, posteriors and the best path. */
function brute(m: GaussianHmm, obs: number[]) {
  const n = obs.length;
  let total = 0;
  let best = -1;
  let bestPath: number[] = [];
  const post = new Array(n * 2).fill(0);
  for (let mask = 0; mask < 1 << n; mask++) {
    const path = Array.from({ length: n }, (_, t) => (mask >> t) & 1);
    let p = m.initial[path[0]!]! * normPdf(obs[0]!, m.means[path[0]!]![0]!, m.variances[path[0]!]![0]!);
    for (let t = 1; t < n; t++) p *= m.transition[path[t - 1]!]![path[t]!]! * normPdf(obs[t]!, m.means[path[t]!]![0]!, m.variances[path[t]!]![0]!);
    total += p;
    path.forEach((s, t) => (post[t * 2 + s] += p));
    if (p > best) {
      best = p;
      bestPath = path;
    }
  }
  return { ll: Math.log(total), post: post.map((v) => v / total), bestPath };
}

function simulate(m: GaussianHmm, n: number, seed: number): { obs: Float64Array; states: Int32Array } {
  const rng = new Rng(seed);
  const obs = new Float64Array(n);
  const states = new Int32Array(n);
  let s = rng.next() < m.initial[0]! ? 0 : 1;
  for (let t = 0; t < n; t++) {
    if (t > 0) s = rng.next() < m.transition[s]![0]! ? 0 : 1;
    states[t] = s;
    obs[t] = rng.normal(m.means[s]![0]!, Math.sqrt(m.variances[s]![0]!));
  }
  return { obs, states };
}

describe('Gaussian HMM', () => {
  const obs = [0.1, 2.5, 3.2, -0.4, 0.3, 2.9, 3.1];
  it('forward-backward likelihood and posteriors match brute-force enumeration', () => {
    const b = brute(model2, obs);
    const o = Float64Array.from(obs);
    expect(hmmLogLikelihood(model2, o, obs.length)).toBeCloseTo(b.ll, 10);
    const g = hmmPosteriors(model2, o, obs.length);
    for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(b.post[i]!, 10);
  });
  it('Viterbi returns the most probable path of the enumeration', () => {
    expect(Array.from(viterbi(model2, Float64Array.from(obs), obs.length))).toEqual(b2());
    function b2() {
      return brute(model2, obs).bestPath;
    }
  });
  it('Baum-Welch never decreases the log-likelihood and recovers the simulated parameters', () => {
    const { obs: x, states } = simulate(model2, 4000, 11);
    const fit = fitGaussianHmm(x, 4000, 1, { states: 2, seed: 3, maxIterations: 200, tolerance: 1e-10 });
    const ll = fit.logLikelihoods;
    expect(ll.length).toBeGreaterThan(3);
    for (let i = 1; i < ll.length; i++) expect(ll[i]!).toBeGreaterThanOrEqual(ll[i - 1]! - 1e-9 * Math.abs(ll[i - 1]!));
    const hi = fit.model.means[0]![0]! > fit.model.means[1]![0]! ? 0 : 1;
    const lo = 1 - hi;
    expect(fit.model.means[hi]![0]).toBeCloseTo(3, 1);
    expect(fit.model.means[lo]![0]).toBeCloseTo(0, 1);
    expect(fit.model.variances[hi]![0]).toBeCloseTo(0.5, 1);
    expect(Math.abs(fit.model.transition[lo]![hi]! - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(fit.model.transition[hi]![lo]! - 0.2)).toBeLessThan(0.04);
    const path = viterbi(fit.model, x, 4000);
    let ok = 0;
    for (let t = 0; t < 4000; t++) if ((path[t] === hi ? 1 : 0) === states[t]) ok++;
    expect(ok / 4000).toBeGreaterThan(0.95);
  });
  it('rejects non-finite observations', () => {
    expect(() => hmmLogLikelihood(model2, Float64Array.from([0, NaN]), 2)).toThrow(/observations\[1\]\[0\]/);
  });
});

describe.each([42, 2])('regime HMM on the synthetic market (seed %i)', (seed) => {
  // Observations of row t read only its forward window (t, t+h]; the window's centre is t + h/2, so
  // the decoded state of row t is compared with the true regime at t + h/2.
  const h = 64;
  // A strongly separated market (the generator's defaults before they were calibrated to real 1h
  // crypto): this tests the HMM machinery, not how separable realistic regimes are (~75-78% here
  // with the realistic defaults, whose bull/bear drifts are a few basis points per bar).
  const market = generateSyntheticMarket({ ...SEPARATED_MARKET, bars: 20_000, seed });
  const rows = market.candles.length - h;
  const obs = regimeObservations(market.candles, h, 8);
  const state = fitRegimeHmm(obs, rows, { restarts: 3, maxIterations: 100, seed: 0 });

  it('recovers the true regimes with > 85% accuracy after the (unsupervised) state mapping', () => {
    const path = viterbi(state.model, obs, rows);
    let ok = 0;
    for (let t = 0; t < rows; t++) if (state.stateToRegime[path[t]!] === market.regimes[t + h / 2]) ok++;
    const acc = ok / rows;
    console.log(`[heads] regime HMM Viterbi accuracy on synthetic seed ${seed}: ${(acc * 100).toFixed(1)}%`);
    expect(acc).toBeGreaterThan(0.85);
    expect([...state.stateToRegime].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('Baum-Welch on these 3-D return/volatility observations never decreases the log-likelihood', () => {
    if (seed !== 42) return;
    // tolerance -Infinity: run all 40 iterations, well past convergence (round-off wiggles ~1e-11 allowed).
    const fit = fitGaussianHmm(obs, rows, 3, { states: 5, seed: 1, maxIterations: 40, tolerance: -Infinity });
    const ll = fit.logLikelihoods;
    expect(ll.length).toBe(41);
    for (let i = 1; i < ll.length; i++) expect(ll[i]!).toBeGreaterThanOrEqual(ll[i - 1]! - 1e-9 * Math.abs(ll[i - 1]!));
    expect(ll[ll.length - 1]!).toBeGreaterThan(ll[0]!);
  });

  it('the per-row labeller (own observation only, no smoothing) is far above chance', () => {
    const p = new Float64Array(REGIMES.length);
    let ok = 0;
    for (let t = 0; t < rows; t++) {
      regimeProbabilities(state, obs, t, p);
      const best = p.indexOf(Math.max(...p));
      if (best === market.regimes[t + h / 2]) ok++;
    }
    console.log(`[heads] regime HMM per-row labeller accuracy (seed ${seed}): ${((ok / rows) * 100).toFixed(1)}%`);
    expect(ok / rows).toBeGreaterThan(0.6);
  });
});
