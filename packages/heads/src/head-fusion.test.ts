import { describe, expect, it } from 'vitest';
import { REGIMES, Rng } from '@task-agnostic/core';
import { applyHeadFusion, fitHeadFusion, fusedHeadLogits, headFusionFeatureNames, headFusionFeatures, trailingWindowStats, type HeadFusionSpec } from './head-fusion.js';
import { RISK_FUSION_FEATURES } from './risk-vol-fusion.js';
import { classificationMetrics, softmaxRows } from './metrics.js';
import { multinomialLogits } from './multinomial-logistic.js';
import { fitBlend } from './baseline-blend.js';

const DIR = ['up', 'down', 'sideways'] as const;
const SPEC: HeadFusionSpec = { task: 'regime', classes: REGIMES, directionClasses: DIR, trailingBars: 3 };
const macroF1 =
  (K: number) =>
  (o: Float32Array, y: Float32Array, n: number): number =>
    classificationMetrics(softmaxRows(o, n, K), y, n, Array.from({ length: K }, (_, k) => String(k))).macroF1!;

describe('headFusionFeatureNames', () => {
  it('names the risk fusion exactly as it shipped, and the regime fusion with its direction and trailing inputs', () => {
    expect(headFusionFeatureNames({ task: 'risk', classes: ['low', 'medium', 'high'] })).toEqual([...RISK_FUSION_FEATURES]);
    const names = headFusionFeatureNames(SPEC);
    expect(names).toHaveLength(4 + 4 + 4 + 2 + 3);
    expect(names.slice(0, 2)).toEqual(['regimeHead:bear-bull', 'regimeHead:sideways-bull']);
    expect(names.slice(-5)).toEqual(['directionHead:down-up', 'directionHead:sideways-up', 'trailingTrendZ(3)', 'trailingLnRv(3)-ln(volCut0)', 'trailingLnRv(3)-ln(volCut1)']);
  });
});

describe('trailingWindowStats', () => {
  it('is the trend z and rv of the returns over (t - h, t], by hand, and never reads a later bar', () => {
    const close = [100, 110, 99, 99, 120, 1];
    const r = [Math.log(1.1), Math.log(99 / 110), 0, Math.log(120 / 99)];
    const s = trailingWindowStats(close, [3, 4, 0], 3);
    // row 3: returns 1..3
    const q3 = r[0]! ** 2 + r[1]! ** 2;
    expect(s.z[0]!).toBeCloseTo((r[0]! + r[1]!) / Math.sqrt(q3), 12);
    expect(s.rv[0]!).toBeCloseTo(Math.sqrt(q3 / 3), 12);
    // row 4: returns 2..4 (the crash to 1 at bar 5 is not read)
    const q4 = r[1]! ** 2 + r[3]! ** 2;
    expect(s.z[1]!).toBeCloseTo((r[1]! + r[3]!) / Math.sqrt(q4), 12);
    expect(s.rv[1]!).toBeCloseTo(Math.sqrt(q4 / 3), 12);
    // row 0 has no return
    expect(s.z[2]).toBe(0);
    expect(Number.isNaN(s.rv[2]!)).toBe(true);
    expect(() => trailingWindowStats(close, [6], 3)).toThrow(/row 6 outside the 6 bars/);
  });
});

describe('headFusionFeatures', () => {
  it('computes every feature of the regime spec by hand', () => {
    const X = headFusionFeatures(
      SPEC,
      {
        headLogits: [1, 2, 0, -1, 3],
        persistence: [-9, -9, -9, 0, -9],
        volForecast: [0.5],
        trailingVol: [-0.25],
        volCentre: -4,
        volCuts: [Math.exp(-4.2), Math.exp(-3.5)],
        directionLogits: [0.5, 1, -1],
        trailing: { z: Float64Array.of(1.5), rv: Float64Array.of(Math.exp(-3.9)) },
      },
      1,
    );
    // ln c0 - centre = -0.2, ln c1 - centre = 0.5; trailing ln rv - ln c = 0.3, -0.4
    const want = [1, -1, -2, 2, 0.7, 0, -0.05, -0.75, 0, 0, 1, 0, 0.5, -1.5, 1.5, 0.3, -0.4];
    expect(Array.from(X).length).toBe(want.length);
    want.forEach((v, j) => expect(X[j]!).toBeCloseTo(v, 12));
    // without the head: the same features less the head's four, and names to match
    const spec = { ...SPEC, head: false };
    const inp = { headLogits: [1, 2, 0, -1, 3], persistence: [-9, -9, -9, 0, -9], volForecast: [0.5], trailingVol: [-0.25], volCentre: -4, volCuts: [Math.exp(-4.2), Math.exp(-3.5)] as [number, number], directionLogits: [0.5, 1, -1], trailing: { z: Float64Array.of(1.5), rv: Float64Array.of(Math.exp(-3.9)) } };
    const Xh = headFusionFeatures(spec, inp, 1);
    expect(headFusionFeatureNames(spec)).toEqual(headFusionFeatureNames(SPEC).slice(4));
    want.slice(4).forEach((v, j) => expect(Xh[j]!).toBeCloseTo(v, 12));
    expect(Xh.length).toBe(want.length - 4);
  });

  it('rejects missing direction logits or trailing statistics with one line', () => {
    const ok = { headLogits: [0, 0, 0, 0, 0], persistence: [0, -3, -3, -3, -3], volForecast: [0], trailingVol: [0], volCentre: 0, volCuts: [1, 2] as [number, number] };
    expect(() => headFusionFeatures(SPEC, ok, 1)).toThrow(/0 direction logits for 1 rows of 3 classes/);
    expect(() => headFusionFeatures(SPEC, { ...ok, directionLogits: [0, 0, 0] }, 1)).toThrow(/trailing-window statistics of 0 rows for 1 rows/);
  });
});

describe('fitHeadFusion', () => {
  // rows whose class is drawn from a known multinomial logistic of the features
  function mixture(n: number, seed: number, W: readonly number[], F: number, K: number) {
    const rng = new Rng(seed);
    const X = new Float64Array(n * F);
    for (let i = 0; i < n * F; i++) X[i] = rng.normal();
    const z = multinomialLogits(W, X, n, F, K);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, z[i * K + k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(z[i * K + k]! - m);
      let u = rng.next() * s;
      let c = 0;
      while (c < K - 1 && (u -= Math.exp(z[i * K + c]! - m)) > 0) c++;
      y[i] = c;
    }
    return { X, y, z };
  }

  it('recovers a known mixture: the fitted weights are the generating ones', () => {
    const F = 3;
    const K = 4;
    const W = [0, 0.3, -0.2, 0.1, 0, 1.5, -1, 0, 0, 0, 0.8, -1.2, 0, -0.5, 0, 2];
    const { X, y } = mixture(10_000, 1, W, F, K);
    const names = ['a', 'b', 'c'];
    const fit = fitHeadFusion(names, X, y, new Float32Array(10_000 * K), 10_000, K, macroF1(K));
    expect(fit.fusion!.features).toEqual(names);
    fit.fusion!.weights.forEach((w, j) => expect(Math.abs(w - W[j]!)).toBeLessThan(0.15));
  });

  it('scores a clear fusion (the head is noise, the features carry the class) far above the head out of fold, and a noise one far below', () => {
    const F = 3;
    const K = 4;
    const W = [0, 0.3, -0.2, 0.1, 0, 1.5, -1, 0, 0, 0, 0.8, -1.2, 0, -0.5, 0, 2];
    const n = 6000;
    const { X, y, z } = mixture(n, 2, W, F, K);
    const rng = new Rng(3);
    const noiseHead = Float32Array.from({ length: n * K }, () => rng.normal());
    const clear = fitHeadFusion(['a', 'b', 'c'], X, y, noiseHead, n, K, macroF1(K));
    expect(clear.folds).toBe(5);
    expect(clear.foldScores).toHaveLength(5);
    expect(clear.heldOut.fusion).toBeGreaterThan(clear.heldOut.model + 0.2);
    // features of pure noise beside the true head: far below it out of fold
    const noise = Float64Array.from({ length: n * F }, () => rng.normal());
    const useless = fitHeadFusion(['a', 'b', 'c'], noise, y, Float32Array.from(z), n, K, macroF1(K));
    expect(useless.heldOut.fusion).toBeLessThan(useless.heldOut.model - 0.2);
  });
});

describe('the fusion against the blend, out of fold on the same rows (the rule calibrate applies)', () => {
  // a 4-class market: the head's logits are the truth or noise; a persistence-like baseline is noise
  function rows(n: number, seed: number) {
    const rng = new Rng(seed);
    const K = 4;
    const W = [0, 0.3, -0.2, 0.1, 0, 1.5, -1, 0, 0, 0, 0.8, -1.2, 0, -0.5, 0, 2];
    const X = Float64Array.from({ length: n * 3 }, () => rng.normal());
    const z = multinomialLogits(W, X, n, 3, K);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = Array.from({ length: K }, (_, k) => Math.exp(z[i * K + k]!));
      let u = rng.next() * p.reduce((a, b) => a + b, 0);
      let c = 0;
      while (c < K - 1 && (u -= p[c]!) > 0) c++;
      y[i] = c;
    }
    const noise = (m: number) => Float32Array.from({ length: m }, () => rng.normal());
    return { X, y, z: Float32Array.from(z), noise, K };
  }
  const blendBest = (head: Float32Array, base: Float32Array, y: Float32Array, n: number, K: number): number => {
    const h = fitBlend('persistence', 'classes', head, base, y, n, K, 1, macroF1(K)).selection.heldOut;
    return Math.max(...[h.model, h.baseline, h.combined, h.tuned ?? Number.NaN].filter(Number.isFinite));
  };

  it('rejects a useless fusion (noise features beside a head that already knows the class) and keeps a clear one', () => {
    const n = 4000;
    const { X, y, z, noise, K } = rows(n, 31);
    const base = noise(n * K);
    // useless: the head is the truth and the fusion reads it (its logits against class 0, as every fusion does) beside three noise features
    const nz = noise(n * 3);
    const F6 = Float64Array.from({ length: n * 6 }, (_, j) => {
      const i = Math.floor(j / 6);
      const c = j % 6;
      return c < 3 ? z[i * K + c + 1]! - z[i * K]! : nz[i * 3 + c - 3]!;
    });
    const useless = fitHeadFusion(['h1', 'h2', 'h3', 'a', 'b', 'c'], F6, y, z, n, K, macroF1(K), undefined, { balanced: true });
    // about as good as the head (it is the head, refitted), but not better than the blend out of fold: rejected
    expect(useless.heldOut.fusion).toBeGreaterThan(useless.heldOut.model - 0.03);
    expect(useless.heldOut.fusion > blendBest(z, base, y, n, K)).toBe(false);
    // clear: the head is noise, the fusion's features carry the class
    const head = noise(n * K);
    const clear = fitHeadFusion(['a', 'b', 'c'], X, y, head, n, K, macroF1(K), undefined, { balanced: true });
    expect(clear.heldOut.fusion).toBeGreaterThan(blendBest(head, base, y, n, K) + 0.1);
  });
});

describe('fusedHeadLogits', () => {
  it('is the features of the stored spec times the weights, and refuses a fusion whose features this package does not compute', () => {
    const names = headFusionFeatureNames(SPEC);
    const F = names.length;
    const weights = Array.from({ length: (F + 1) * 5 }, (_, j) => (j % 5 === 0 ? 0 : Math.cos(j) * 0.5));
    const fusion = { task: 'regime', volatilityTask: 'volatility', directionTask: 'direction', trailingBars: 3, features: names, weights, offsets: [0, 0.1, -0.1, 0.2, 0] };
    const close = [100, 101, 99, 100, 103, 102];
    const rows = [4, 5];
    const inp = { headLogits: [1, 0, 0, 0, 0, 0, 1, 0, 0, 0], volForecast: [0.1, -0.2], persistence: [0, -9, -9, -9, -9, -9, -9, 0, -9, -9], trailingVol: [0, 0.3], directionLogits: [0, 1, 0, 1, 0, 0], close, rows };
    const state = { volCuts: [0.005, 0.02] };
    const got = fusedHeadLogits(fusion, REGIMES, DIR, inp, state, { centre: -4.5 }, 2);
    const X = headFusionFeatures(SPEC, { ...inp, directionLogits: inp.directionLogits, volCentre: -4.5, volCuts: [0.005, 0.02], trailing: trailingWindowStats(close, rows, 3) }, 2);
    expect(Array.from(got)).toEqual(Array.from(applyHeadFusion(fusion, X, 2)));
    expect(() => fusedHeadLogits({ ...fusion, trailingBars: 4 }, REGIMES, DIR, inp, state, { centre: -4.5 }, 2)).toThrow(/are not the ones this heads package computes/);
    expect(() => fusedHeadLogits(fusion, REGIMES, DIR, { ...inp, close: undefined }, state, { centre: -4.5 }, 2)).toThrow(/given no candles/);
    expect(() => fusedHeadLogits(fusion, REGIMES, DIR, inp, {}, { centre: -4.5 }, 2)).toThrow(/regime task state has no volCuts pair/);
  });
});
