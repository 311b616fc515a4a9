import { describe, expect, it } from 'vitest';
import { candleAt, concatColumns, generateSyntheticMarket, sliceColumns } from '@task-agnostic/core';
import { computeFeaturesF64, parseFeatureSetConfig, StreamingFeatures } from '@task-agnostic/features';
import { getTask, regimeObservations, regimeProbabilities, type RegimeHmmState } from '@task-agnostic/heads';
import { fitFeatureParameters } from './fitted-features.js';
import { splitBoundaries } from './dataset.js';

const candles = generateSyntheticMarket({ bars: 4000, seed: 21 }).candles;
const series = [{ symbol: 'SYN', candles }];
const H = 64;
const base = parseFeatureSetConfig({ features: [{ kind: 'log_return', period: 1 }, { kind: 'regime_hmm', period: H }] });

describe('regime_hmm: the regime label of the trailing window as a feature', () => {
  const fitted = fitFeatureParameters(base, series, { valFraction: 0.15, testFraction: 0.15 });
  const trainEnd = splitBoundaries(series, { valFraction: 0.15, testFraction: 0.15 })[0]!.trainEnd;
  // the regime task as the main job configures it, fitted on the same training range
  const task = getTask('regime', { labeller: 'hmm' });
  const state = task.fit(candles, trainEnd) as unknown as { hmm: RegimeHmmState };
  const labels = task.labels(candles, state as never);
  const m = computeFeaturesF64(candles, fitted);

  it('is filled in from the training range only: the regime task fitted on the same rows has the same HMM', () => {
    expect(base.features[1]).not.toHaveProperty('hmm');
    const spec = fitted.features[1] as { hmm: { means: number[][]; prior: number[]; stateToRegime: number[] } };
    expect(spec.hmm.means).toEqual(state.hmm.model.means);
    expect(spec.hmm.prior).toEqual(state.hmm.prior);
    expect(spec.hmm.stateToRegime).toEqual(state.hmm.stateToRegime);
    // nothing after trainEnd is read: other candles after it give the same HMM
    const other = generateSyntheticMarket({ bars: 4000, seed: 99 }).candles;
    const spliced = concatColumns([sliceColumns(candles, 0, trainEnd), sliceColumns(other, trainEnd, 4000)]);
    expect(fitFeatureParameters(base, [{ symbol: 'SYN', candles: spliced }], { valFraction: 0.15, testFraction: 0.15 }).features[1]).toEqual(fitted.features[1]);
    expect(m.names.slice(1)).toEqual(['regime_hmm_64_bull', 'regime_hmm_64_bear', 'regime_hmm_64_sideways', 'regime_hmm_64_high_volatility', 'regime_hmm_64_low_volatility']);
  });

  it("at row t equals the regime task's probabilities of row t - h, so its argmax is the persistence baseline's label", () => {
    const obs = regimeObservations(candles, H, 8);
    const p = new Float64Array(5);
    let same = 0;
    for (let t = m.warmup; t < candles.length; t++) {
      regimeProbabilities(state.hmm, obs, t - H, p);
      const row = m.data.subarray(t * m.cols + 1, t * m.cols + 6);
      for (let j = 0; j < 5; j++) expect(Math.abs(row[j]! - p[j]!)).toBeLessThan(1e-12);
      let best = 0;
      for (let j = 1; j < 5; j++) if (row[j]! > row[best]!) best = j;
      if (best === labels.targets[t - H]) same++;
    }
    expect(same).toBe(candles.length - m.warmup);
  });

  it('is causal (bars after t change nothing at t) and streaming equals batch', () => {
    for (const t of [500, 2799, 3500]) {
      const cut = computeFeaturesF64(sliceColumns(candles, 0, t + 1), fitted);
      expect(Array.from(cut.data.subarray(t * m.cols, (t + 1) * m.cols))).toEqual(Array.from(m.data.subarray(t * m.cols, (t + 1) * m.cols)));
    }
    const s = new StreamingFeatures(fitted, { intervalMs: 3_600_000 });
    for (let i = 0; i < 1500; i++) {
      const row = s.update(candleAt(candles, i));
      if (i < m.warmup) expect(row).toBeNull();
      else for (let j = 0; j < m.cols; j++) expect(row![j]).toBe(m.data[i * m.cols + j]);
    }
  });

  it('without a fitted HMM it refuses to compute, naming the field', () => {
    expect(() => computeFeaturesF64(candles, base)).toThrow(/regime_hmm.*no fitted HMM/);
  });
});
