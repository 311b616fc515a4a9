import { describe, expect, it } from 'vitest';
import { Rng, generateSyntheticMarket, sliceColumns } from '@task-agnostic/core';
import { getTask, listTasks } from './registry.js';
import { applyBlend, baselineForecasts, baselineOnlyBlend, tuneOffsets, fitBlend, fitConvexBlend, fitStackedClassifier, modelOnlyBlend, oneStandardErrorChoice, type BaselineBlend } from './baseline-blend.js';
import { classificationMetrics, softmaxRows } from './metrics.js';

const K = 3;

function logSoftmax(z: ArrayLike<number>, n: number): Float64Array {
  const p = softmaxRows(z, n, K);
  return p.map((v) => Math.log(v));
}

/** Two forecasts' logits and labels drawn from softmax(a lm + b lb + c). */
function mixture(n: number, a: number, b: number, c: readonly number[], seed: number) {
  const rng = new Rng(seed);
  const model = new Float32Array(n * K);
  const baseline = new Float32Array(n * K);
  for (let i = 0; i < n * K; i++) {
    model[i] = rng.normal(0, 1.5);
    baseline[i] = rng.normal(0, 1.5);
  }
  const lm = logSoftmax(model, n);
  const lb = logSoftmax(baseline, n);
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) z[i * K + k] = a * lm[i * K + k]! + b * lb[i * K + k]! + c[k]!;
  const p = softmaxRows(z, n, K);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    let acc = 0;
    y[i] = K - 1;
    for (let k = 0; k < K; k++) {
      acc += p[i * K + k]!;
      if (u < acc) {
        y[i] = k;
        break;
      }
    }
  }
  return { model, baseline, y };
}

const macroF1 = (o: Float32Array, y: Float32Array, n: number): number => classificationMetrics(softmaxRows(o, n, K), y, n, ['a', 'b', 'c']).macroF1!;

describe('applyBlend', () => {
  it('stack: a log p_model + b log p_baseline + c, by hand on one row', () => {
    const m = [0, Math.log(3), 0]; // p = [0.2, 0.6, 0.2]
    const b = [Math.log(2), 0, Math.log(2)]; // p = [0.4, 0.2, 0.4]
    const blend: BaselineBlend = { baseline: 'x', method: 'stack', modelWeight: 2, baselineWeight: 0.5, offsets: [0, 1, -1] };
    const out = applyBlend(blend, 'classes', m, b, 1, 3);
    const want = [2 * Math.log(0.2) + 0.5 * Math.log(0.4), 2 * Math.log(0.6) + 0.5 * Math.log(0.2) + 1, 2 * Math.log(0.2) + 0.5 * Math.log(0.4) - 1];
    want.forEach((v, k) => expect(out[k]).toBeCloseTo(v, 5));
  });
  it('model returns the head outputs, baseline the baseline outputs; a point blend changes column 0 only', () => {
    const m = [1, 2, 3, 4];
    const b = [10, 20, 30, 40];
    expect(Array.from(applyBlend(modelOnlyBlend('x'), 'classes', m, b, 2, 2))).toEqual(m);
    expect(Array.from(applyBlend(baselineOnlyBlend('x'), 'classes', m, b, 2, 2))).toEqual(b);
    const convex: BaselineBlend = { baseline: 'x', method: 'convex', modelWeight: 0.25, baselineWeight: 0.75, offsets: [] };
    expect(Array.from(applyBlend(convex, 'point', m, b, 2, 2))).toEqual([0.25 + 7.5, 2, 0.75 + 22.5, 4]);
  });
  it('rejects outputs of the wrong shape', () => {
    expect(() => applyBlend(modelOnlyBlend('x'), 'classes', [1, 2, 3], [1, 2], 1, 3)).toThrow(/the baseline 2 for 1 rows/);
  });
});

describe('fitStackedClassifier recovers a known mixture', () => {
  it('the weights of the two forecasts, and the offsets up to the class-balancing shift', () => {
    const n = 20000;
    const c = [0, 0.5, -0.3];
    const { model, baseline, y } = mixture(n, 0.7, 1.6, c, 11);
    const fit = fitStackedClassifier(model, baseline, y, n, K)!;
    expect(fit.modelWeight).toBeCloseTo(0.7, 1);
    expect(fit.baselineWeight).toBeCloseTo(1.6, 1);
    // balanced weights w_k = 1 / count_k turn p(y|x) into one with offsets c_k - log count_k (+ a constant)
    const counts = [0, 0, 0];
    for (const v of y) counts[v]!++;
    for (const k of [1, 2]) expect(fit.offsets[k]! - fit.offsets[0]!).toBeCloseTo(c[k]! - c[0]! - Math.log(counts[k]! / counts[0]!), 1);
  });
  it('an anti-informative baseline is held at b = 0 and the head keeps its weight (not the other way round)', () => {
    const n = 8000;
    const rng = new Rng(31);
    const model = new Float32Array(n * K);
    const baseline = new Float32Array(n * K);
    for (let i = 0; i < n * K; i++) {
      model[i] = rng.normal(0, 1.5);
      baseline[i] = model[i]! + rng.normal(0, 0.5); // informative alone (it tracks the head)...
    }
    const lm = logSoftmax(model, n);
    const lb = logSoftmax(baseline, n);
    const z = new Float64Array(n * K);
    for (let i = 0; i < n * K; i++) z[i] = 2 * lm[i]! - 0.5 * lb[i]!; // ...but its own part counts against
    const p = softmaxRows(z, n, K);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      y[i] = u < p[i * K]! ? 0 : u < p[i * K]! + p[i * K + 1]! ? 1 : 2;
    }
    const fit = fitStackedClassifier(model, baseline, y, n, K)!;
    expect(fit.baselineWeight).toBe(0);
    expect(fit.modelWeight).toBeGreaterThan(1);
  });
  it('a baseline with no information gets weight 0 (held at the bound, never negative)', () => {
    const n = 8000;
    const { model, y } = mixture(n, 1.2, 0, [0, 0, 0], 5);
    const noise = mixture(n, 1, 0, [0, 0, 0], 99).baseline;
    const fit = fitStackedClassifier(model, noise, y, n, K)!;
    expect(fit.modelWeight).toBeCloseTo(1.2, 1);
    expect(fit.baselineWeight).toBeGreaterThanOrEqual(0);
    expect(fit.baselineWeight).toBeLessThan(0.08);
  });
});

describe('fitConvexBlend', () => {
  it('recovers w of y = w m + (1 - w) b + noise', () => {
    const rng = new Rng(3);
    const n = 5000;
    const m = new Float32Array(n);
    const b = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      m[i] = rng.normal();
      b[i] = rng.normal();
      y[i] = 0.3 * m[i]! + 0.7 * b[i]! + rng.normal(0, 0.1);
    }
    const f = fitConvexBlend(m, b, y, n, 1);
    expect(f.modelWeight).toBeCloseTo(0.3, 2);
    expect(f.baselineWeight).toBeCloseTo(0.7, 2);
  });
  it('clips to [0, 1]: a baseline worse than useless gets weight 0', () => {
    const m = Float32Array.from([1, 2, 3, 4, 5]);
    const b = Float32Array.from([5, 4, 3, 2, 1]);
    expect(fitConvexBlend(m, b, m, 5, 1).modelWeight).toBe(1);
    expect(fitConvexBlend(m, b, b, 5, 1).modelWeight).toBe(0);
  });
});

describe('tuneOffsets', () => {
  it('undoes a wrong class offset for macro-F1, and never lowers the metric on its rows', () => {
    const n = 6000;
    const { model, baseline, y } = mixture(n, 2, 0, [0, 0, 0], 17);
    // the true combination, but class 1 pushed down by 1: it is predicted too rarely
    const wrong: BaselineBlend = { baseline: 'x', method: 'stack', modelWeight: 2, baselineWeight: 0, offsets: [0, -1, 0] };
    const before = macroF1(applyBlend(wrong, 'classes', model, baseline, n, K), y, n);
    const tuned = tuneOffsets(wrong, model, baseline, y, n, K, macroF1);
    const after = macroF1(applyBlend(tuned, 'classes', model, baseline, n, K), y, n);
    expect(after).toBeGreaterThan(before + 0.02);
    expect(tuned.offsets[0]).toBe(0);
    expect(tuned.offsets[1]).toBeGreaterThan(-0.5);
    expect(tuned.offsets[1]).toBeLessThan(0.5);
    expect(tuned.modelWeight).toBe(2);
  });
});

describe('fitBlend: the cross-fitted choice', () => {
  it('chooses the combination when both forecasts carry information, and keeps the baseline name', () => {
    const n = 6000;
    const { model, baseline, y } = mixture(n, 1, 1.5, [0, 0, 0], 21);
    const f = fitBlend('persistence', 'classes', model, baseline, y, n, K, 1, macroF1);
    expect(f.method).toBe('stack');
    expect(f.baseline).toBe('persistence');
    expect(f.selection.folds).toBe(5);
    const h = f.selection.heldOut;
    expect(Math.max(h.combined, h.tuned!)).toBeGreaterThan(Math.max(h.model, h.baseline));
    // a clear winner: the head and the baseline fall short of it by more than one standard error
    const o = f.selection.oneSe!;
    for (const c of ['model', 'baseline'] as const) expect(o.byCandidate[c]!.shortfall).toBeGreaterThan(o.byCandidate[c]!.se);
    expect(['combined', 'tuned']).toContain(o.chosen);
  });
  it('keeps the head alone when the baseline is noise and the head is near-perfect', () => {
    const n = 3000;
    const rng = new Rng(8);
    const y = new Float32Array(n);
    const model = new Float32Array(n * K);
    const baseline = new Float32Array(n * K);
    for (let i = 0; i < n; i++) {
      y[i] = i % K;
      model[i * K + y[i]!] = 8;
      for (let k = 0; k < K; k++) baseline[i * K + k] = rng.normal();
    }
    const f = fitBlend('b', 'classes', model, baseline, y, n, K, 1, macroF1);
    expect(f.selection.heldOut.model).toBe(1);
    // the combination cannot beat a perfect head: ties keep the head
    expect(f.method).toBe('model');
  });
  it('the baseline alone when the head is noise and the baseline is right: weight 0 on the model', () => {
    const n = 600;
    const rng = new Rng(9);
    const vals = new Float32Array(n);
    const m = new Float32Array(n);
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      b[i] = rng.normal();
      m[i] = rng.normal();
      vals[i] = b[i]!;
    }
    const negMse = (o: Float32Array, t: Float32Array, k: number) => {
      let s = 0;
      for (let i = 0; i < k; i++) s += (o[i]! - t[i]!) ** 2;
      return -s / k;
    };
    const f = fitBlend('garch', 'point', m, b, vals, n, 1, 1, negMse);
    expect(f.method).toBe('baseline');
    expect(f.modelWeight).toBe(0);
  });
  it('uses only the rows it is given, and the folds it is given', () => {
    const n = 900;
    const { model, baseline, y } = mixture(n, 1, 1, [0, 0, 0], 4);
    const folds = Int32Array.from({ length: n }, (_, i) => i % 3);
    const a = fitBlend('p', 'classes', model, baseline, y, n, K, 1, macroF1, { folds });
    expect(a.selection.folds).toBe(3);
    const b = fitBlend('p', 'classes', model, baseline, y, n, K, 1, macroF1, { folds });
    expect(b).toEqual(a);
    expect(() => fitBlend('p', 'classes', model, baseline, y, n, K, 1, macroF1, { folds: [0, 1] })).toThrow(/2 fold ids for 900 rows/);
  });
  it('too few rows or non-finite outputs: the head alone, with a warning', () => {
    const few = fitBlend('p', 'classes', new Float32Array(30), new Float32Array(30), new Float32Array(10), 10, K, 1, macroF1);
    expect(few.method).toBe('model');
    expect(few.warning).toMatch(/10 validation rows/);
    const m = new Float32Array(300);
    m[5] = Number.NaN;
    const bad = fitBlend('p', 'classes', m, new Float32Array(300), new Float32Array(100), 100, K, 1, macroF1);
    expect(bad.method).toBe('model');
    expect(bad.warning).toMatch(/non-finite/);
  });
});

describe('oneStandardErrorChoice: the simplest candidate within one standard error of the best', () => {
  const model = [0.5, 0.52, 0.48, 0.5, 0.5];
  it('keeps a clear winner: the combination beats the head by more than the fold-to-fold standard error', () => {
    // d = combined - model = [0.03, -0.01, 0.05, -0.01, 0.04]: mean 0.02, sd sqrt(0.0032 / 4) = 0.028284, se 0.012649
    const r = oneStandardErrorChoice(['model', 'combined'], { model, combined: [0.53, 0.51, 0.53, 0.49, 0.54], baseline: [], tuned: [] })!;
    expect(r.best).toBe('combined');
    expect(r.byCandidate.model!.shortfall).toBeCloseTo(0.02, 12);
    expect(r.byCandidate.model!.se).toBeCloseTo(Math.sqrt(0.0032 / 4) / Math.sqrt(5), 12);
    expect(r.byCandidate.combined).toEqual({ mean: expect.closeTo(0.52, 12), shortfall: 0, se: 0, scores: [0.53, 0.51, 0.53, 0.49, 0.54] });
    expect(r.chosen).toBe('combined');
  });
  it('rejects a noisy winner: a higher mean than the head, but by less than the standard error', () => {
    // d = [0.05, -0.05, 0.05, -0.05, 0.05]: mean 0.01, sd sqrt(0.012 / 4) = 0.054772, se 0.024495 > 0.01
    const r = oneStandardErrorChoice(['model', 'baseline', 'combined'], { model, baseline: [0.3, 0.3, 0.3, 0.3, 0.3], combined: [0.55, 0.47, 0.53, 0.45, 0.55], tuned: [] })!;
    expect(r.best).toBe('combined');
    expect(r.byCandidate.model!.se).toBeCloseTo(Math.sqrt(0.012 / 4) / Math.sqrt(5), 12);
    expect(r.chosen).toBe('model');
  });
  it('the simplest within the band wins, not the nearest: the baseline before the combination', () => {
    const r = oneStandardErrorChoice(['model', 'baseline', 'combined', 'tuned'], {
      model: [0.1, 0.1, 0.1],
      baseline: [0.5, 0.6, 0.7],
      combined: [0.62, 0.6, 0.58],
      tuned: [0.6, 0.61, 0.62],
    })!;
    // best: tuned (mean 0.61); the baseline's shortfall 0.01 is within its se (d = [0.1, 0.01, -0.08]: sd 0.09, se 0.051962)
    expect(r.best).toBe('tuned');
    expect(r.byCandidate.baseline!.se).toBeCloseTo(0.09 / Math.sqrt(3), 12);
    expect(r.chosen).toBe('baseline');
  });
  it('leaves out folds where a candidate has no score; fewer than 2 scored folds: null', () => {
    const r = oneStandardErrorChoice(['model', 'combined'], { model: [0.5, Number.NaN, 0.5, 0.5], combined: [0.6, 0.9, 0.6, 0.6], baseline: [], tuned: [] })!;
    expect(r.folds).toBe(3);
    expect(r.byCandidate.combined!.mean).toBeCloseTo(0.6, 12);
    // the fold scores recorded are those of the folds scored, in fold order
    expect(r.byCandidate.combined!.scores).toEqual([0.6, 0.6, 0.6]);
    expect(r.byCandidate.model!.scores).toEqual([0.5, 0.5, 0.5]);
    expect(r.chosen).toBe('combined');
    expect(oneStandardErrorChoice(['model', 'combined'], { model: [0.5, Number.NaN], combined: [0.6, 0.7], baseline: [], tuned: [] })).toBeNull();
  });
});

describe('fitBlend: the one-standard-error rule on real fits', () => {
  it('a baseline of pure noise: the combination that edges the head out by chance is rejected, the head kept', () => {
    // the head knows the class (logit +1 on it, N(0, 1) noise), the baseline is noise; with this seed the
    // pooled out-of-fold score of a combination is above the head's (the former rule chose it) but its
    // fold-to-fold gain is within one standard error
    const n = 600;
    const rng = new Rng(2);
    const y = new Float32Array(n);
    const model = new Float32Array(n * K);
    const baseline = new Float32Array(n * K);
    for (let i = 0; i < n; i++) {
      y[i] = rng.int(K);
      for (let k = 0; k < K; k++) {
        model[i * K + k] = rng.normal(0, 1) + (k === y[i] ? 1 : 0);
        baseline[i * K + k] = rng.normal(0, 1);
      }
    }
    const f = fitBlend('b', 'classes', model, baseline, y, n, K, 1, macroF1);
    const h = f.selection.heldOut;
    expect(h.tuned!).toBeGreaterThan(h.model);
    const o = f.selection.oneSe!;
    expect(o.folds).toBe(5);
    expect(o.best).toBe('tuned');
    expect(o.byCandidate.model!.shortfall).toBeGreaterThan(0);
    expect(o.byCandidate.model!.shortfall).toBeLessThanOrEqual(o.byCandidate.model!.se);
    // the head's fold scores, recomputed here: 5 contiguous blocks of 120 rows
    const folds = Array.from({ length: 5 }, (_, f) => macroF1(model.slice(f * 120 * K, (f + 1) * 120 * K), y.slice(f * 120, (f + 1) * 120), 120));
    expect(o.byCandidate.model!.mean).toBeCloseTo(folds.reduce((a, b) => a + b) / 5, 6);
    expect(f.method).toBe('model');
    expect(f.selection.rule).toBe('oneSe');
    // the rule 'best': the same fits and fold scores, the best candidate deployed (the tuned stack, refitted on all rows)
    const b = fitBlend('b', 'classes', model, baseline, y, n, K, 1, macroF1, { rule: 'best' });
    expect(b.selection.rule).toBe('best');
    expect(b.selection.oneSe).toEqual(o);
    expect(b.method).toBe('stack');
    expect(b.offsets.some((c) => c !== 0)).toBe(true);
  });
});

describe('baselineForecasts: the baselines at rows whose label is not formed yet', () => {
  const c = generateSyntheticMarket({ bars: 1500, seed: 3 }).candles;
  for (const id of listTasks()) {
    it(`${id}: the latest bars of a shorter history get exactly the forecasts the full history gives them`, () => {
      const task = getTask(id);
      const state = task.fit(c, 1000);
      const rows = Array.from({ length: 300 }, (_, i) => 1100 + i);
      const full = task.baseline(c, state, rows);
      // the candles end at row 1399: the last h rows have no label there, and no bar after them is read
      const cut = sliceColumns(c, 0, 1400);
      expect(task.labels(cut, state).valid[1399]).toBe(0);
      const got = baselineForecasts(task, cut, state, rows);
      expect([...got.keys()]).toEqual(full.map((b) => b.name));
      for (const b of full) expect(Array.from(got.get(b.name)!), b.name).toEqual(Array.from(b.outputs!));
    });
  }
  it('rejects rows beyond the candles', () => {
    expect(() => baselineForecasts(getTask('regime'), sliceColumns(c, 0, 100), getTask('regime').fit(c, 1000), [100])).toThrow(/row 100 is beyond the 100 candles/);
  });
});
