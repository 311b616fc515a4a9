import { describe, expect, it } from 'vitest';
import { classCounts, classRowWeights, isUnitWeights, priorShiftWeights, weightedMacroF1 } from './prior-shift.js';
import { classificationMetrics, softmaxRows } from './metrics.js';
import { fitSigmoidCalibration, fitSoftmaxCalibration } from './calibration.js';
import { tuneClassOffsets } from './class-offsets.js';
import { fitMultinomialLogistic } from './multinomial-logistic.js';
import { fitHeadFusion } from './head-fusion.js';

/** mulberry32: a small seeded generator, so the label-shift samples are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * n rows of two classes drawn with prior [1 - p1, p1], x | k ~ N(mu_k, 1) with mu = -1, +1, and the
 * logits of the Bayes classifier under the equal training prior: z_k = -(x - mu_k)^2 / 2.
 */
function shiftedSample(n: number, p1: number, seed: number): { z: Float64Array; y: Float64Array; x: Float64Array } {
  const r = rng(seed);
  const z = new Float64Array(2 * n);
  const y = new Float64Array(n);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = r() < p1 ? 1 : 0;
    const v = (k === 1 ? 1 : -1) + gauss(r);
    y[i] = k;
    x[i] = v;
    z[2 * i] = -((v + 1) ** 2) / 2;
    z[2 * i + 1] = -((v - 1) ** 2) / 2;
  }
  return { z, y, x };
}

describe('priorShiftWeights', () => {
  it('is p_train(k) / p_val(k), by hand', () => {
    // training 30 / 50 / 20 of 100, validation 60 / 30 / 10 of 100
    const w = priorShiftWeights([30, 50, 20], [60, 30, 10]);
    expect(w[0]).toBeCloseTo(0.5, 15);
    expect(w[1]).toBeCloseTo(5 / 3, 15);
    expect(w[2]).toBeCloseTo(2, 15);
    // different row counts: training 3 / 1 of 4 (0.75 / 0.25), validation 1 / 1 of 2 (0.5 / 0.5)
    expect(priorShiftWeights([3, 1], [1, 1])).toEqual([1.5, 0.5]);
    // a class validation lacks weighs 1 (no row to weigh), one training lacks weighs 0
    expect(priorShiftWeights([2, 2, 0], [0, 1, 1])).toEqual([1, 2 * 0.5 / 0.5 / 2, 0]);
    // the weighted validation rows total the validation rows (mean weight 1)
    const v = [60, 30, 10];
    expect(v.reduce((s, c, k) => s + c * w[k]!, 0)).toBeCloseTo(100, 12);
  });

  it('equal mixes give weights of exactly 1, whatever the row counts', () => {
    const w = priorShiftWeights([2, 4, 6], [1, 2, 3]);
    expect(w).toEqual([1, 1, 1]);
    expect(isUnitWeights(w)).toBe(true);
    expect(isUnitWeights([1, 1.0000001])).toBe(false);
  });

  it('rejects empty splits and class counts that do not match, in one line', () => {
    expect(() => priorShiftWeights([0, 0], [1, 1])).toThrow(/0 training and 2 validation rows/);
    expect(() => priorShiftWeights([1, 1], [1, 1, 1])).toThrow(/2 training classes against 3 validation classes/);
    expect(() => classCounts([0, 3], 2, 3)).toThrow(/label 3 at row 1/);
    expect(() => classRowWeights([0, 2], 2, [1, 1])).toThrow(/label 2 at row 1 has no class weight/);
  });
});

describe('weightedMacroF1', () => {
  it('is the macro-F1 of the class-weighted confusion matrix, by hand', () => {
    // labels 0 0 0 1, argmax 0 0 1 1; weights [1, 3]
    const logits = [2, 0, 2, 0, 0, 2, 0, 2];
    const y = [0, 0, 0, 1];
    // weighted confusion: [[2, 1], [0, 3]] -> F1_0 = 2*2 / (3 + 2) = 0.8, F1_1 = 2*3 / (3 + 4) = 6/7
    expect(weightedMacroF1(logits, y, 4, 2, [1, 3])).toBeCloseTo((0.8 + 6 / 7) / 2, 15);
    // unweighted: F1_0 = 0.8, F1_1 = 2*1 / (1 + 2) = 2/3
    expect(weightedMacroF1(logits, y, 4, 2, [1, 1])).toBeCloseTo((0.8 + 2 / 3) / 2, 15);
  });

  it('with every weight 1 it is classificationMetrics macroF1, bit for bit', () => {
    const r = rng(5);
    const n = 997;
    const K = 3;
    const z = Float32Array.from({ length: n * K }, () => gauss(r));
    const y = Float32Array.from({ length: n }, () => Math.floor(r() * K));
    expect(weightedMacroF1(z, y, n, K, [1, 1, 1])).toBe(classificationMetrics(softmaxRows(z, n, K), y, n, ['a', 'b', 'c']).macroF1);
  });

  it('integer weights = the rows repeated', () => {
    const r = rng(8);
    const n = 300;
    const z = Float32Array.from({ length: n * 3 }, () => gauss(r));
    const y = Float32Array.from({ length: n }, () => Math.floor(r() * 3));
    const w = [1, 2, 3];
    const rz: number[] = [];
    const ry: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < w[y[i]!]!; k++) {
      rz.push(z[3 * i]!, z[3 * i + 1]!, z[3 * i + 2]!);
      ry.push(y[i]!);
    }
    expect(weightedMacroF1(z, y, n, 3, w)).toBeCloseTo(weightedMacroF1(rz, ry, ry.length, 3, [1, 1, 1]), 12);
  });
});

describe('prior-shift correction of the validation-fitted layers', () => {
  // the Bayes classifier of the equal training prior, validated on rows of prior 0.9 / 0.1
  const val = shiftedSample(20_000, 0.1, 11);
  const counts = classCounts(val.y, val.y.length, 2);
  const w = priorShiftWeights([10_000, 10_000], counts);

  it('calibration: the reweighted bias-temperature fit recovers the training-prior optimum (T = 1, no bias); the unweighted one learns the validation prior', () => {
    const n = val.y.length;
    const plain = fitSoftmaxCalibration(val.z, val.y, n, 2, { softmax: 'bias-temperature' });
    const weighted = fitSoftmaxCalibration(val.z, val.y, n, 2, { softmax: 'bias-temperature', classWeights: w });
    // the logits are exact for the training prior: the training-mix optimum is scale 1 and bias 0
    expect(weighted.scale[0]!).toBeCloseTo(1, 1);
    expect(Math.abs(weighted.shift[1]! - weighted.shift[0]!)).toBeLessThan(0.08);
    // unweighted: the bias moves the prior to validation's, ln(p1 / p0) of the sample (about ln(1/9) = -2.2)
    const shift = Math.log(counts[1]! / counts[0]!);
    expect(plain.shift[1]! - plain.shift[0]!).toBeCloseTo(shift, 0);
    expect(Math.abs(plain.shift[1]! - plain.shift[0]! - shift)).toBeLessThan(0.15);
  });

  it('calibration: weights equal to 1 are the unweighted fit bit for bit; integer weights = the rows repeated', () => {
    const n = 2000;
    const z = val.z.subarray(0, 2 * n);
    const y = val.y.subarray(0, n);
    for (const softmax of ['temperature', 'bias-temperature', 'vector', 'crossfit', 'auto'] as const) {
      expect(fitSoftmaxCalibration(z, y, n, 2, { softmax, classWeights: [1, 1] })).toEqual(fitSoftmaxCalibration(z, y, n, 2, { softmax }));
    }
    const rz: number[] = [];
    const ry: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < (y[i] === 1 ? 3 : 1); k++) {
      rz.push(z[2 * i]!, z[2 * i + 1]!);
      ry.push(y[i]!);
    }
    const a = fitSoftmaxCalibration(z, y, n, 2, { softmax: 'bias-temperature', classWeights: [1, 3] });
    const b = fitSoftmaxCalibration(rz, ry, ry.length, 2, { softmax: 'bias-temperature' });
    expect(a.scale[0]!).toBeCloseTo(b.scale[0]!, 4);
    expect(a.shift[1]!).toBeCloseTo(b.shift[1]!, 4);
    expect(a.before).toBeCloseTo(b.before, 10);
    expect(() => fitSoftmaxCalibration(z, y, n, 2, { classWeights: [1, -1] })).toThrow(/must be 2 finite non-negative numbers/);
  });

  it('sigmoid calibration: class weights = the rows repeated; weights of 1 = the unweighted fit', () => {
    const n = 2000;
    const logit = Float64Array.from({ length: n }, (_, i) => 2 * (val.z[2 * i + 1]! - val.z[2 * i]!));
    const y = val.y.subarray(0, n);
    expect(fitSigmoidCalibration(logit, y, n, { classWeights: [1, 1] })).toEqual(fitSigmoidCalibration(logit, y, n));
    const rl: number[] = [];
    const ry: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < (y[i] === 1 ? 4 : 1); k++) {
      rl.push(logit[i]!);
      ry.push(y[i]!);
    }
    const a = fitSigmoidCalibration(logit, y, n, { classWeights: [1, 4] });
    expect(a.scale[0]!).toBeCloseTo(fitSigmoidCalibration(rl, ry, ry.length).scale[0]!, 5);
    expect(a.scale[0]!).not.toBeCloseTo(fitSigmoidCalibration(logit, y, n).scale[0]!, 2);
    expect(() => fitSigmoidCalibration(logit, Float64Array.from(y, (v) => v * 0.5), n, { classWeights: [1, 4] })).toThrow(/is not 0 or 1/);
  });

  it('offsets tuned for macro-F1: on the weighted confusion matrix they land where a training-mix sample puts them, unweighted they do not', () => {
    const train = shiftedSample(20_000, 0.5, 12);
    const tn = train.y.length;
    const n = val.y.length;
    const f1 = (o: Float32Array, t: Float32Array, m: number) => weightedMacroF1(o, t, m, 2, [1, 1]);
    const wf1 = (o: Float32Array, t: Float32Array, m: number) => weightedMacroF1(o, t, m, 2, w);
    const onTrain = tuneClassOffsets(train.z, Float32Array.from(train.y), tn, 2, f1)[1]!;
    const weighted = tuneClassOffsets(val.z, Float32Array.from(val.y), n, 2, wf1)[1]!;
    const plain = tuneClassOffsets(val.z, Float32Array.from(val.y), n, 2, f1)[1]!;
    expect(Math.abs(weighted - onTrain)).toBeLessThanOrEqual(0.2 + 1e-9);
    expect(Math.abs(plain - onTrain)).toBeGreaterThan(0.4);
  });

  it('fusion: the plain fit takes the class weights as row weights (= fitMultinomialLogistic with them); a balanced fit ignores them', () => {
    const n = 3000;
    const X = Float64Array.from(val.x.subarray(0, n));
    const y = Float32Array.from(val.y.subarray(0, n));
    const z = val.z.subarray(0, 2 * n);
    const score = (o: Float32Array, t: Float32Array, m: number) => weightedMacroF1(o, t, m, 2, w);
    const fit = fitHeadFusion(['x'], X, y, z, n, 2, score, undefined, { classWeights: w });
    const direct = fitMultinomialLogistic(X, y, n, 1, 2, { weights: classRowWeights(y, n, w) });
    expect(fit.fusion!.weights).toEqual(Array.from(direct.weights));
    const unweighted = fitHeadFusion(['x'], X, y, z, n, 2, score);
    expect(unweighted.fusion!.weights).not.toEqual(fit.fusion!.weights);
    const balanced = fitHeadFusion(['x'], X, y, z, n, 2, score, undefined, { balanced: true, classWeights: w });
    expect(balanced).toEqual(fitHeadFusion(['x'], X, y, z, n, 2, score, undefined, { balanced: true }));
    // the out-of-fold scores are the caller's weighted metric
    expect(fit.heldOut.model).toBe(score(Float32Array.from(z), y, n));
  });
});
