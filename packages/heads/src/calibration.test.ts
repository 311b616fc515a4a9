import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import {
  applyCalibration,
  calibrationFormOf,
  classProbabilities,
  fitAffine,
  fitCalibration,
  fitGaussianShrink,
  fitGaussianSpread,
  fitSigmoidCalibration,
  fitSoftmaxCalibration,
  identityCalibration,
  reliability,
} from './calibration.js';
import { getTask } from './registry.js';

/** Draws a class from probabilities. */
function draw(rng: Rng, p: ArrayLike<number>): number {
  let u = rng.next();
  for (let k = 0; k < p.length; k++) {
    u -= p[k]!;
    if (u < 0) return k;
  }
  return p.length - 1;
}

function softmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** n rows of true logits (normal, std 1), labels drawn from softmax(true + bias), and the model's logits = factor x true. */
function overconfident(n: number, K: number, factor: number, bias: readonly number[], seed: number): { z: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const z = new Float32Array(n * K);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = Array.from({ length: K }, () => rng.normal());
    y[i] = draw(rng, softmax(t.map((v, k) => v + bias[k]!)));
    for (let k = 0; k < K; k++) z[i * K + k] = factor * t[k]!;
  }
  return { z, y };
}

describe('temperature scaling', () => {
  it('recovers the temperature of logits made 3x too confident', () => {
    const { z, y } = overconfident(20_000, 3, 3, [0, 0, 0], 1);
    const fit = fitSoftmaxCalibration(z, y, 20_000, 3, { softmax: 'temperature' });
    expect(fit.method).toBe('temperature');
    // scale = 1/T; the true logits are z / 3.
    expect(fit.scale[0]!).toBeGreaterThan(0.3);
    expect(fit.scale[0]!).toBeLessThan(0.37);
    expect(fit.scale.every((s) => s === fit.scale[0])).toBe(true);
    expect(fit.shift).toEqual([0, 0, 0]);
    expect(fit.after).toBeLessThan(fit.before);
    // ECE falls once calibrated.
    const before = reliability(classProbabilities('softmax', z, 20_000, 3), y, 20_000, 3);
    const after = reliability(classProbabilities('softmax', applyCalibration(z, 20_000, fit), 20_000, 3), y, 20_000, 3);
    expect(before.ece).toBeGreaterThan(0.1);
    expect(after.ece).toBeLessThan(0.02);
    expect(after.brier).toBeLessThan(before.brier);
  });

  it('sigmoid: recovers 1/T of a 2x overconfident logit', () => {
    const rng = new Rng(5);
    const n = 20_000;
    const z = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = rng.normal(0, 1.5);
      y[i] = rng.next() < 1 / (1 + Math.exp(-t)) ? 1 : 0;
      z[i] = 2 * t;
    }
    const fit = fitSigmoidCalibration(z, y, n);
    expect(fit.method).toBe('temperature');
    expect(fit.scale[0]!).toBeGreaterThan(0.45);
    expect(fit.scale[0]!).toBeLessThan(0.55);
  });
});

describe('vector scaling', () => {
  it('recovers a class-prior shift that temperature scaling cannot', () => {
    const bias = [0.8, 0, -0.8];
    const { z, y } = overconfident(30_000, 3, 1, bias, 2);
    const v = fitSoftmaxCalibration(z, y, 30_000, 3, { softmax: 'vector' });
    expect(v.method).toBe('vector');
    // Biases are identified up to a constant: compare differences.
    expect(v.shift[0]! - v.shift[1]!).toBeCloseTo(0.8, 1);
    expect(v.shift[1]! - v.shift[2]!).toBeCloseTo(0.8, 1);
    for (const w of v.scale) expect(w).toBeCloseTo(1, 1);
    const t = fitSoftmaxCalibration(z, y, 30_000, 3, { softmax: 'temperature' });
    expect(v.after).toBeLessThan(t.after);
    // auto picks vector here (it wins on the held-out last third of the rows)...
    expect(fitSoftmaxCalibration(z, y, 30_000, 3).method).toBe('vector');
    // ...and temperature when there is no prior shift to find.
    const plain = overconfident(30_000, 3, 2, [0, 0, 0], 3);
    expect(fitSoftmaxCalibration(plain.z, plain.y, 30_000, 3).method).toBe('temperature');
  });
});

describe('bias-temperature and the cross-fitted choice', () => {
  it('bias-temperature recovers one temperature and a class-prior shift (shared scale, K biases)', () => {
    // logits 2x too confident, and the labels' class priors shifted by +0.8 / 0 / -0.8 on the true logits
    const { z, y } = overconfident(30_000, 3, 2, [0.8, 0, -0.8], 6);
    const f = fitSoftmaxCalibration(z, y, 30_000, 3, { softmax: 'bias-temperature' });
    expect(f.method).toBe('bias-temperature');
    expect(f.scale.every((s) => s === f.scale[0])).toBe(true);
    // true logits = z / 2, then + bias: scale 0.5, bias differences 0.8
    expect(f.scale[0]!).toBeCloseTo(0.5, 1);
    expect(f.shift[0]).toBe(0); // pinned: softmax ignores a common shift
    expect(f.shift[0]! - f.shift[1]!).toBeCloseTo(0.8, 1);
    expect(f.shift[1]! - f.shift[2]!).toBeCloseTo(0.8, 1);
    const t = fitSoftmaxCalibration(z, y, 30_000, 3, { softmax: 'temperature' });
    expect(f.after).toBeLessThan(t.after);
  });

  it("'crossfit' picks the method with the lowest held-out NLL, and says what each scored", () => {
    const shifted = overconfident(6_000, 3, 2, [0.8, 0, -0.8], 7);
    const a = fitSoftmaxCalibration(shifted.z, shifted.y, 6_000, 3, { softmax: 'crossfit' });
    expect(a.selection!.folds).toBe(5);
    const nll = a.selection!.heldOutNll;
    // a prior shift: a method with biases wins out of sample, and the raw logits are worst
    expect(Math.min(nll['bias-temperature'], nll.vector)).toBeLessThan(nll.temperature);
    expect(nll.temperature).toBeLessThan(a.selection!.identityNll);
    const best = (['temperature', 'bias-temperature', 'vector'] as const).reduce((m, k) => (nll[k] < nll[m] ? k : m), 'temperature' as 'temperature' | 'bias-temperature' | 'vector');
    expect(a.method).toBe(best);
    // No shift, only overconfidence: the extra parameters buy nothing held out, so the simplest wins or ties.
    const plain = overconfident(6_000, 3, 2, [0, 0, 0], 8);
    const b = fitSoftmaxCalibration(plain.z, plain.y, 6_000, 3, { softmax: 'crossfit' });
    const pn = b.selection!.heldOutNll;
    expect(pn.temperature).toBeLessThan(pn.vector + 1e-3);
    expect(Math.abs(pn.temperature - pn['bias-temperature'])).toBeLessThan(2e-3);
    // Given folds are used as given: the held-out figures change with them.
    const folds = Int32Array.from({ length: 6_000 }, (_, i) => i % 3);
    const c = fitSoftmaxCalibration(shifted.z, shifted.y, 6_000, 3, { softmax: 'crossfit', folds });
    expect(c.selection!.folds).toBe(3);
    expect(() => fitSoftmaxCalibration(shifted.z, shifted.y, 6_000, 3, { softmax: 'crossfit', folds: new Int32Array(5) })).toThrow(/5 fold ids for 6000 rows/);
  });

  it('held-out NLL by hand: two folds, temperature only moves what the other fold says', () => {
    // Fold 0 rows always label 0 with logits [1, 0]; fold 1 rows the same: fitting on one fold pushes
    // the temperature towards certainty, so the held-out NLL is below the raw one, ln(1 + e^-1).
    const n = 60;
    const z = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      z[2 * i] = 1;
      y[i] = i % 10 === 0 ? 1 : 0;
    }
    const folds = Int32Array.from({ length: n }, (_, i) => (i < 30 ? 0 : 1));
    const f = fitSoftmaxCalibration(z, y, n, 2, { softmax: 'crossfit', folds });
    // raw NLL: 0.9 x ln(1 + e^-1) + 0.1 x ln(1 + e^1), the same on each fold
    const raw = 0.9 * Math.log(1 + Math.exp(-1)) + 0.1 * Math.log(1 + Math.exp(1));
    expect(f.selection!.identityNll).toBeCloseTo(raw, 6);
    // temperature fitted on 30 rows with 10% ones: p(1) = 0.1 -> scale a with 1 / (1 + e^a) = 0.1, a = ln 9
    const a = Math.log(9);
    const heldOut = 0.9 * Math.log(1 + Math.exp(-a)) + 0.1 * Math.log(1 + Math.exp(a));
    expect(f.selection!.heldOutNll.temperature).toBeCloseTo(heldOut, 4);
  });
});

describe('regression spread', () => {
  it('gaussian: s = sqrt(mean(z^2)), by hand', () => {
    // mu 0, log-std 0 (std 1); targets 2, -2, 4, -4: mean z^2 = (4 + 4 + 16 + 16) / 4 = 10.
    const out = new Float32Array(80);
    const y = new Float32Array(Array.from({ length: 40 }, (_, i) => [2, -2, 4, -4][i % 4]!));
    const fit = fitGaussianSpread(out, y, 40);
    expect(fit.method).toBe('gaussian-spread');
    expect(fit.shift[1]!).toBeCloseTo(Math.log(Math.sqrt(10)), 6);
    expect(fit.scale).toEqual([1, 1]);
    expect(fit.after).toBeLessThan(fit.before);
    // applied: the log-std column moves by ln s, the mean column not at all.
    const cal = applyCalibration(new Float32Array([0.5, -1]), 1, fit);
    expect(cal[0]).toBeCloseTo(0.5, 6);
    expect(cal[1]).toBeCloseTo(-1 + Math.log(Math.sqrt(10)), 5);
  });

  it('gaussian shrink: k = sum(y mu) / sum(mu^2) clipped to [0, 1], by hand; then the spread on the shrunk mean', () => {
    // mu = 1, -1, 2, -2 (log-std 0); y = 0.5 mu + e with e = 1, 1, -1, -1 (sum e mu = 1 - 1 - 2 + 2 = 0): k = 0.5 exactly
    const mu = [1, -1, 2, -2];
    const e = [1, 1, -1, -1];
    const n = 40;
    const out = new Float32Array(2 * n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[2 * i] = mu[i % 4]!;
      y[i] = 0.5 * mu[i % 4]! + e[i % 4]!;
    }
    const fit = fitGaussianShrink(out, y, n);
    expect(fit.method).toBe('gaussian-shrink');
    expect(fit.scale[0]).toBeCloseTo(0.5, 12);
    // residuals after shrinking are e (all +-1): s = 1, ln s = 0
    expect(fit.shift).toEqual([0, 0]);
    // mean MSE before: errors y - mu = -0.5 mu + e = 0.5, 1.5, -2, 0 -> (0.25 + 2.25 + 4 + 0) / 4; after: e^2 = 1
    expect(fit.meanMse!.before).toBeCloseTo((0.25 + 2.25 + 4 + 0) / 4, 6);
    expect(fit.meanMse!.after).toBeCloseTo(1, 6);
    const cal = applyCalibration(new Float32Array([0.8, -1]), 1, fit);
    expect(cal[0]).toBeCloseTo(0.4, 6);
    expect(cal[1]).toBeCloseTo(-1, 6);
  });

  it('gaussian shrink: a head anti-correlated with the targets becomes the zero forecast (k = 0); one too timid is not stretched (k = 1)', () => {
    const n = 40;
    const out = new Float32Array(2 * n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[2 * i] = (i % 5) - 2;
      y[i] = -out[2 * i]!;
    }
    expect(fitGaussianShrink(out, y, n).scale[0]).toBe(0);
    for (let i = 0; i < n; i++) y[i] = 3 * out[2 * i]!;
    expect(fitGaussianShrink(out, y, n).scale[0]).toBe(1);
    // the default of the gaussian form is the shrink; 'spread' keeps the mean
    expect(fitCalibration('gaussian', out, y, n, 2).method).toBe('gaussian-shrink');
    expect(fitCalibration('gaussian', out, y, n, 2, { gaussian: 'spread' }).method).toBe('gaussian-spread');
    expect(fitGaussianShrink(out, y, 10).method).toBe('identity');
  });

  it('affine: y = 1 + 0.5 x exactly', () => {
    const x = new Float32Array(Array.from({ length: 40 }, (_, i) => i / 10));
    const y = new Float32Array(Array.from(x, (v) => 1 + 0.5 * v));
    const fit = fitAffine(x, y, 40);
    expect(fit.scale[0]!).toBeCloseTo(0.5, 5);
    expect(fit.shift[0]!).toBeCloseTo(1, 5);
    expect(fit.after).toBeCloseTo(0, 8);
  });

  it('affine: a negative slope keeps the identity with a warning', () => {
    const x = new Float32Array(Array.from({ length: 40 }, (_, i) => i));
    const y = new Float32Array(Array.from(x, (v) => -v));
    const fit = fitAffine(x, y, 40);
    expect(fit.method).toBe('identity');
    expect(fit.warning).toMatch(/slope/);
  });
});

describe('failures fall back to identity, never NaN', () => {
  it('NaN outputs, too few rows, bad labels, an optimiser out of iterations', () => {
    const { z, y } = overconfident(300, 3, 3, [0, 0, 0], 4);
    const bad = Float32Array.from(z);
    bad[7] = Number.NaN;
    const cases = [
      fitSoftmaxCalibration(bad, y, 300, 3),
      fitSoftmaxCalibration(z, y, 10, 3),
      fitSoftmaxCalibration(z, new Float32Array(300).fill(5), 300, 3),
      fitSoftmaxCalibration(z, y, 300, 3, { softmax: 'temperature', maxIterations: 2 }),
      fitSigmoidCalibration(new Float32Array(300).fill(Number.NaN), new Float32Array(300), 300),
      fitGaussianSpread(new Float32Array(600).fill(Number.POSITIVE_INFINITY), new Float32Array(300), 300),
      fitAffine(new Float32Array(300).fill(1), new Float32Array(300), 300),
    ];
    for (const c of cases) {
      expect(c.method).toBe('identity');
      expect(c.warning).toMatch(/identity/);
      expect(c.scale.every((s) => s === 1)).toBe(true);
      expect(c.shift.every((s) => s === 0)).toBe(true);
    }
    expect(cases[3]!.warning).toMatch(/did not converge/);
  });
});

describe('reliability', () => {
  it('ECE and Brier by hand', () => {
    // Four rows, two classes. Top-label confidences 0.9, 0.9, 0.6, 0.6; right, wrong, right, right.
    const p = new Float64Array([0.9, 0.1, 0.1, 0.9, 0.6, 0.4, 0.4, 0.6]);
    const y = new Float64Array([0, 0, 0, 1]);
    const r = reliability(p, y, 4, 2, 10);
    // bin [0.9, 1): conf 0.9, acc 0.5 -> 0.5 x 0.4; bin [0.6, 0.7): conf 0.6, acc 1 -> 0.5 x 0.4.
    expect(r.ece).toBeCloseTo(0.4, 10);
    // Brier: (0.01 + 0.01) + (0.81 + 0.81) + (0.16 + 0.16) + (0.16 + 0.16) = 2.28 / 4.
    expect(r.brier).toBeCloseTo(0.57, 10);
    expect(r.bins[9]!.count).toBe(2);
    expect(r.bins[6]!.accuracy).toBe(1);
  });
});

describe('forms', () => {
  it('every built-in task has a calibration form', () => {
    expect(calibrationFormOf(getTask('direction'))).toBe('softmax');
    expect(calibrationFormOf(getTask('regime'))).toBe('softmax');
    expect(calibrationFormOf(getTask('risk'))).toBe('softmax');
    expect(calibrationFormOf(getTask('anomaly'))).toBe('sigmoid');
    expect(calibrationFormOf(getTask('timing'))).toBe('sigmoid');
    expect(calibrationFormOf(getTask('return'))).toBe('gaussian');
    expect(calibrationFormOf(getTask('volatility'))).toBe('affine');
    expect(fitCalibration('affine', new Float32Array(40).map((_, i) => i), new Float32Array(40).map((_, i) => 2 * i), 40, 1).scale[0]).toBeCloseTo(2, 6);
    expect(applyCalibration(new Float32Array([1, 2]), 1, identityCalibration(2))).toEqual(new Float32Array([1, 2]));
  });
});
