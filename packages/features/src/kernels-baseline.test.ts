import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { computeFeaturesF64 } from './batch.js';
import { parseFeatureSetConfig } from './config.js';
import { candlesFromCloses, expectCausalAndStreaming } from './test-kit.js';

const config = parseFeatureSetConfig({ features: [{ kind: 'log_ewma_vol' }, { kind: 'max_drawdown', period: 24 }, { kind: 'log_ewma_vol', lambda: 0.5 }, { kind: 'max_drawdown', period: 3 }] });
const c = generateSyntheticMarket({ bars: 1500, seed: 5 }).candles;

/** Brute force: max over k in (t-P, t] of 1 - low_k / peak_k, peak_k = max(close_{t-P}, high_{t-P+1..k-1}). */
function trailingDrawdown(t: number, P: number): number {
  let best = 0;
  for (let k = t - P + 1; k <= t; k++) {
    let peak = c.close[t - P]!;
    for (let j = t - P + 1; j < k; j++) peak = Math.max(peak, c.high[j]!);
    best = Math.max(best, 1 - c.low[k]! / peak);
  }
  return best;
}

describe('baseline-input features (log_ewma_vol, max_drawdown)', () => {
  const m = computeFeaturesF64(c, config);

  it('names and warm-up: ceil(2 / (1 - lambda)) bars for the EWMA, P for the drawdown', () => {
    expect(m.names).toEqual(['log_ewma_vol_940', 'max_drawdown_24', 'log_ewma_vol_500', 'max_drawdown_3']);
    expect(m.warmup).toBe(Math.ceil(2 / 0.06));
  });

  it('log_ewma_vol is 0.5 ln of the RiskMetrics recursion started at r_1^2 (every row after the set\'s warm-up)', () => {
    for (const [col, lambda] of [[0, 0.94], [2, 0.5]] as const) {
      let v = NaN;
      for (let t = 1; t < c.length; t++) {
        const r = Math.log(c.close[t]! / c.close[t - 1]!);
        v = Number.isNaN(v) ? r * r : lambda * v + (1 - lambda) * r * r;
        if (t >= m.warmup) expect(m.data[t * m.cols + col]).toBeCloseTo(0.5 * Math.log(v), 10);
      }
    }
  });

  it('a hand-computed EWMA: returns ln 2 then 0 with lambda 0.5 give variance (ln 2)^2 then (ln 2)^2 / 2', () => {
    const k = candlesFromCloses([1, 2, 2, 2, 2]);
    const f = computeFeaturesF64(k, parseFeatureSetConfig({ features: [{ kind: 'log_ewma_vol', lambda: 0.5 }] }));
    expect(f.warmup).toBe(4);
    const ln2 = Math.log(2);
    expect(f.data[4]).toBeCloseTo(0.5 * Math.log((ln2 * ln2) / 8), 12); // v: ln2^2, /2, /4, /8 at bars 1..4
  });

  it('max_drawdown equals the brute-force trailing drawdown (heads forwardDrawdown read backwards)', () => {
    for (const [col, P] of [[1, 24], [3, 3]] as const) {
      for (let t = 40; t < c.length; t += 7) expect(m.data[t * m.cols + col]).toBeCloseTo(trailingDrawdown(t, P), 12);
    }
  });

  it('is causal: bars after t do not change the features at t; streaming equals batch', () => {
    expectCausalAndStreaming(c, config, m, [900], 1e-12);
  });
});
