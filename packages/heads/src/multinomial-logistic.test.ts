import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { fitMultinomialLogistic, multinomialLogits } from './multinomial-logistic.js';

/** Draws labels from a known softmax model on standard normal features. */
function simulate(W: readonly number[], n: number, F: number, K: number, seed: number): { X: Float64Array; y: Float32Array } {
  const rng = new Rng(seed);
  const X = new Float64Array(n * F);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal();
  const z = multinomialLogits(W, X, n, F, K);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[i * K + k]!);
    let u = rng.next() * s;
    let k = 0;
    while (k < K - 1 && (u -= Math.exp(z[i * K + k]!)) > 0) k++;
    y[i] = k;
  }
  return { X, y };
}

describe('fitMultinomialLogistic', () => {
  it('recovers the weights of a known softmax mixture', () => {
    // rows: intercepts, feature 0, feature 1; column 0 is the reference class
    const W = [0, -1, -2, 0, 1.5, 0.5, 0, -0.5, 2];
    const { X, y } = simulate(W, 20_000, 2, 3, 7);
    const fit = fitMultinomialLogistic(X, y, 20_000, 2, 3, { l2: 0 });
    // within sampling error of the truth (n = 20,000)
    expect(Math.max(...Array.from(fit.weights, (w, j) => Math.abs(w - W[j]!)))).toBeLessThan(0.1);
    // and the maximum-likelihood optimum: the score equations sum_i x_ia (p_ik - [y_i = k]) = 0 hold
    const z = multinomialLogits(fit.weights, X, 20_000, 2, 3);
    const g = new Float64Array(9);
    for (let i = 0; i < 20_000; i++) {
      const e = [0, 1, 2].map((k) => Math.exp(z[i * 3 + k]!));
      const s = e[0]! + e[1]! + e[2]!;
      const x = [1, X[i * 2]!, X[i * 2 + 1]!];
      for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) g[a * 3 + k]! += (x[a]! * (e[k]! / s - (y[i] === k ? 1 : 0))) / 20_000;
    }
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-6);
  });

  it('gives a doubled row the same fit as weight 2', () => {
    const X = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2];
    const y = [0, 1, 2, 1, 0, 2, 1];
    const Xd = [...X, X[3]!];
    const yd = [...y, y[3]!];
    const a = fitMultinomialLogistic(Xd, yd, 8, 1, 3, { l2: 0.01 });
    const b = fitMultinomialLogistic(X, y, 7, 1, 3, { l2: 0.01, weights: [1, 1, 1, 2, 1, 1, 1].map((v) => (v * 7) / 8) });
    // same weighted mean loss up to the normalisation of the weights (sum 8 vs 7 x 8/8): compare slopes
    a.weights.forEach((w, j) => expect(w).toBeCloseTo(b.weights[j]!, 6));
  });

  it('stays finite on separable data (the ridge) and rejects bad labels and shapes', () => {
    const fit = fitMultinomialLogistic([-2, -1, 1, 2], [0, 0, 1, 1], 4, 1, 2);
    expect(Array.from(fit.weights).every(Number.isFinite)).toBe(true);
    expect(fit.weights[3]!).toBeGreaterThan(1);
    expect(() => fitMultinomialLogistic([1, 2], [0, 3], 2, 1, 3)).toThrow(/label 3 at row 1/);
    expect(() => fitMultinomialLogistic([1, 2, 3], [0, 1], 2, 1, 3)).toThrow(/3 feature values/);
  });
});
