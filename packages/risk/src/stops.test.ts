import { describe, expect, it } from 'vitest';
import type { Regime } from '@task-agnostic/core';
import { DEFAULT_RISK_CONFIG as P, parseRiskConfig } from './params.js';
import { exitLevels, stopLossPct, takeProfitPct } from './stops.js';

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

describe('exitLevels: volatility exits', () => {
  const V = parseRiskConfig({ exits: { mode: 'volatility', stopVolMultiple: 2, takeProfitVolMultiple: 3, horizonBars: 24 } });
  it('regime mode (the default) is the source table', () => {
    expect(exitLevels('sideways', 0.5, 0.01, P)).toEqual({ stopLossPct: stopLossPct('sideways', 0.5, P), takeProfitPct: takeProfitPct('sideways', 0.5, P), basis: 'regime' });
  });
  it('k x sigma x sqrt(h): sigma 0.6% per bar over 24 bars -> stop 5.88%, take-profit 8.82%', () => {
    // hand: 0.006 x sqrt(24) = 0.0293939; x2 = 0.0587878; x3 = 0.0881816
    const e = exitLevels('sideways', 0.9, 0.006, V);
    expect(e.basis).toBe('volatility');
    expect(e.stopLossPct).toBeCloseTo(0.0587878, 6);
    expect(e.takeProfitPct).toBeCloseTo(0.0881816, 6);
  });
  it('clamps to [minStopPct, maxStopPct] and falls back to the regime exits without a usable forecast', () => {
    expect(exitLevels('bull', 0.5, 1e-6, V).stopLossPct).toBe(0.005);
    expect(exitLevels('bull', 0.5, 0.2, V).stopLossPct).toBe(0.25);
    expect(exitLevels('bull', 0.5, 0.2, V).takeProfitPct).toBe(1);
    for (const bad of [undefined, NaN, 0, -1]) {
      expect(exitLevels('bull', 0.5, bad, V)).toEqual({ stopLossPct: 0.015, takeProfitPct: 0.03, basis: 'regime' });
    }
  });
  it('a bad exits config is an error naming the field', () => {
    expect(() => parseRiskConfig({ exits: { minStopPct: 0.3, maxStopPct: 0.1 } })).toThrow(/minStopPct/);
    expect(() => parseRiskConfig({ exits: { mode: 'atr' } })).toThrow(/exits/);
  });
});
