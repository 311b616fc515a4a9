import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { computeFeaturesF64 } from './batch.js';
import { parseFeatureSetConfig } from './config.js';
import { candlesFromCloses, expectCausalAndStreaming } from './test-kit.js';

describe('features test kit', () => {
  it('candlesFromCloses: hourly bars opening at the previous close, the high scaled', () => {
    const k = candlesFromCloses([10, 12, 9], 1.5);
    expect(k.length).toBe(3);
    expect(Array.from(k.tsMs)).toEqual([0, 3_600_000, 7_200_000]);
    expect(Array.from(k.open)).toEqual([10, 10, 12]);
    expect(Array.from(k.high)).toEqual([15, 18, 18]);
    expect(Array.from(k.low)).toEqual([10, 10, 9]);
    expect(Array.from(k.close)).toEqual([10, 12, 9]);
    expect(Array.from(k.volume)).toEqual([1, 1, 1]);
    expect(Array.from(k.turnover)).toEqual([10, 12, 9]);
  });

  it('expectCausalAndStreaming passes on the batch matrix and fails on an altered one', () => {
    const config = parseFeatureSetConfig({ features: [{ kind: 'trend_tstat', period: 5 }] });
    const c = generateSyntheticMarket({ bars: 60, seed: 3 }).candles;
    const m = computeFeaturesF64(c, config);
    expectCausalAndStreaming(c, config, m, [20, 59]);
    expectCausalAndStreaming(c, config, m, [20], 1e-12);
    const off = (i: number, by: number) => {
      const data = Float64Array.from(m.data);
      data[i] = data[i]! + by;
      return { ...m, data };
    };
    expect(() => expectCausalAndStreaming(c, config, off(20, 1e-9), [20])).toThrow(); // the causal cut
    expect(() => expectCausalAndStreaming(c, config, off(40, 1e-10), [20])).toThrow(); // exact streaming
    expect(() => expectCausalAndStreaming(c, config, off(40, 1e-9), [20], 1e-12)).toThrow(); // beyond the tolerance
  });
});
