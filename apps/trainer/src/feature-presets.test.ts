import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, computeFeatures, parseFeatureSetConfig } from '@task-agnostic/features';
import { BASELINE_INPUT_EXTRAS, MULTI_TIMEFRAME_EXTRAS, baselineInputFeatures, multiTimeframeFeatures } from './feature-presets.js';

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
