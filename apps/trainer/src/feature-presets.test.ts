import { describe, expect, it } from 'vitest';
import { concatColumns, generateSyntheticMarket, sliceColumns } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, computeFeatures, computeFeaturesF64, parseFeatureSetConfig } from '@task-agnostic/features';
import { fitFeatureParameters } from '@task-agnostic/training';
import { BASELINE_INPUT_EXTRAS, MULTI_TIMEFRAME_EXTRAS, REGIME_LABEL_EXTRAS, baselineInputFeatures, labelInputFeatures, multiTimeframeFeatures } from './feature-presets.js';
import { resolveConfig } from './config.js';

describe('feature presets: the default set, then their extras in order', () => {
  it('multi-timeframe: the default features + 7 slow summaries; 51 columns, warm-up 200 bars', () => {
    const cfg = parseFeatureSetConfig(multiTimeframeFeatures());
    expect(cfg.features.slice(0, DEFAULT_FEATURE_SET.features.length)).toEqual(DEFAULT_FEATURE_SET.features);
    expect(cfg.features.slice(DEFAULT_FEATURE_SET.features.length)).toEqual(parseFeatureSetConfig({ version: 1, features: [...MULTI_TIMEFRAME_EXTRAS] }).features);
    const m = computeFeatures(generateSyntheticMarket({ bars: 400, seed: 3 }).candles, cfg);
    expect([m.cols, m.warmup]).toEqual([51, 199]); // row 199 is the first with all 200 bars of the 200-bar mean
  });

  it('baseline inputs: the multi-timeframe set + the 5 baseline inputs; 56 columns, warm-up 200 bars', () => {
    const cfg = parseFeatureSetConfig(baselineInputFeatures());
    const mtf = parseFeatureSetConfig(multiTimeframeFeatures()).features;
    expect(cfg.features.slice(0, mtf.length)).toEqual(mtf);
    expect(cfg.features.slice(mtf.length)).toEqual(parseFeatureSetConfig({ version: 1, features: [...BASELINE_INPUT_EXTRAS] }).features);
    const m = computeFeatures(generateSyntheticMarket({ bars: 400, seed: 3 }).candles, cfg);
    expect([m.cols, m.warmup]).toEqual([56, 199]);
  });

  it('each call is a fresh config: changing one leaves the next untouched', () => {
    const a = multiTimeframeFeatures();
    a.features!.pop();
    expect(multiTimeframeFeatures().features).toHaveLength(DEFAULT_FEATURE_SET.features.length + MULTI_TIMEFRAME_EXTRAS.length);
  });
});

describe("labelInputFeatures (the quick preset's inputs)", () => {
  const candles = generateSyntheticMarket({ bars: 3000, seed: 3 }).candles;
  const config = fitFeatureParameters(parseFeatureSetConfig(labelInputFeatures()), [{ symbol: 'S', candles }]);
  const m = computeFeaturesF64(candles, config);

  it('is the quick preset: 64 columns ending in the regime label of the trailing window', () => {
    expect(resolveConfig('quick').model.features).toEqual(labelInputFeatures());
    expect(m.cols).toBe(64);
    expect(m.names.slice(-8)).toEqual([
      'trend_tstat_64', 'median_log_range_64', 'median_log_range_8_lag28',
      'regime_hmm_64_bull', 'regime_hmm_64_bear', 'regime_hmm_64_sideways', 'regime_hmm_64_high_volatility', 'regime_hmm_64_low_volatility',
    ]);
    expect(REGIME_LABEL_EXTRAS).toHaveLength(4);
  });

  it('is causal: other bars after t (a different market spliced in) change no column at or before t', () => {
    const other = generateSyntheticMarket({ bars: 3000, seed: 4 }).candles;
    for (const t of [400, 1777, 2500]) {
      const spliced = concatColumns([sliceColumns(candles, 0, t + 1), sliceColumns(other, t + 1, 3000)]);
      const s = computeFeaturesF64(spliced, config);
      expect(Array.from(s.data.subarray(0, (t + 1) * s.cols))).toEqual(Array.from(m.data.subarray(0, (t + 1) * m.cols)));
      // ...while the rows after t do change (the test can fail)
      expect(s.data[(t + 70) * s.cols + 56]).not.toBe(m.data[(t + 70) * m.cols + 56]);
    }
  });
});
