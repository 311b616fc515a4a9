import { describe, expect, it } from 'vitest';
import type { Regime } from '@task-agnostic/core';
import { DEFAULT_CONSISTENCY_FUSION_CONFIG as CFG } from './config.js';
import { regimeExits } from './exits.js';

// The source's regime-aware stop-loss table (in %), and the same rows above the 80th volatility percentile.
const TABLE: [Regime, number, number][] = [
  ['bull', 1.5, 3.0],
  ['bear', 1.5, 3.0],
  ['sideways', 1.0, 1.5],
  ['high_volatility', 2.5, 4.0],
  ['low_volatility', 1.0, 1.5],
];

describe('regimeExits reproduces the source stop / take-profit table', () => {
  it.each(TABLE)('%s: stop -%s%%, take-profit +%s%%', (regime, stop, take) => {
    const e = regimeExits(regime, 0.5, CFG);
    // The table rounds 1.5 x 0.67 = 1.005 and 1.5 x 1.67 = 2.505 to one decimal.
    expect(e.stopLossPct * 100).toBeCloseTo(stop, 1);
    expect(e.takeProfitPct * 100).toBeCloseTo(take, 1);
  });
  it.each(TABLE)('%s above the 80th percentile: stop x1.5, take-profit x1.3', (regime) => {
    const base = regimeExits(regime, 0.8, CFG); // 0.8 is not above 0.8
    const wide = regimeExits(regime, 0.81, CFG);
    expect(wide.stopLossPct).toBeCloseTo(base.stopLossPct * 1.5, 12);
    expect(wide.takeProfitPct).toBeCloseTo(base.takeProfitPct * 1.3, 12);
  });
  it('uses the exact source products', () => {
    expect(regimeExits('high_volatility', 0.9, CFG).stopLossPct).toBeCloseTo(0.015 * 1.67 * 1.5, 12);
    expect(regimeExits('sideways', 0.1, CFG).takeProfitPct).toBeCloseTo(0.025 * 0.6, 12);
  });
  it('falls back to the base exits without a regime', () => {
    expect(regimeExits(undefined, undefined, CFG)).toEqual({ stopLossPct: 0.015, takeProfitPct: 0.025 });
  });
});
