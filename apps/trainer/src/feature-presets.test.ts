import { describe, expect, it } from 'vitest';
import { concatColumns, generateSyntheticMarket, sliceColumns } from '@task-agnostic/core';
import { computeFeaturesF64, parseFeatureSetConfig } from '@task-agnostic/features';
import { fitFeatureParameters } from '@task-agnostic/training';
import { labelInputFeatures, REGIME_LABEL_EXTRAS } from './feature-presets.js';
import { resolveConfig } from './config.js';

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
