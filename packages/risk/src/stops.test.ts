import { describe, expect, it } from 'vitest';
import type { Regime } from '@task-agnostic/core';
import { DEFAULT_RISK_CONFIG as P } from './params.js';
import { stopLossPct, takeProfitPct } from './stops.js';

// The source's regime-aware stop-loss table, in %.
const TABLE: [Regime, number, number][] = [
  ['bull', 1.5, 3.0],
  ['bear', 1.5, 3.0],
  ['sideways', 1.0, 1.5],
  ['high_volatility', 2.5, 4.0],
  ['low_volatility', 1.0, 1.5],
];

describe('stops reproduce the source stop / take-profit table', () => {
  it.each(TABLE)('%s: -%s%% / +%s%%', (regime, stop, take) => {
    expect(stopLossPct(regime, 0.5, P) * 100).toBeCloseTo(stop, 1);
    expect(takeProfitPct(regime, 0.5, P) * 100).toBeCloseTo(take, 1);
  });
  it.each(TABLE)('%s widens above the 80th percentile (x1.5 / x1.3), not at it', (regime, stop, take) => {
    expect(stopLossPct(regime, 0.8, P)).toBeCloseTo(stopLossPct(regime, 0.2, P), 12);
    expect(stopLossPct(regime, 0.81, P) * 100).toBeCloseTo(stop * 1.5, 0);
    expect(takeProfitPct(regime, 0.81, P)).toBeCloseTo(takeProfitPct(regime, 0.2, P) * 1.3, 12);
    expect(takeProfitPct(regime, 0.81, P) * 100).toBeCloseTo(take * 1.3, 1);
  });
  it('exact source products', () => {
    expect(stopLossPct('sideways', 0.1, P)).toBeCloseTo(0.015 * 0.67, 12);
    expect(stopLossPct('high_volatility', 0.9, P)).toBeCloseTo(0.015 * 1.67 * 1.5, 12);
    expect(stopLossPct(undefined, 0.1, P)).toBe(0.015);
    expect(takeProfitPct(undefined, 0.1, P)).toBe(0.025);
  });
});
