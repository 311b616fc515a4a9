import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_CONFIG as P, parseRiskConfig } from './params.js';
import { drawdownBrake, kellyCap, kellyFraction, positionSize, sizingTableMultiplier, volatilityFactor } from './sizing.js';

describe('positionSize = RiskParameters::calculate_position_size', () => {
  it.each([
    // confidence, agreement, vol percentile, exposure -> hand-computed size
    [0.8, 0.9, 0.5, 0, 0.02 * 0.6 * 0.75 * 1 * 1.5],
    [0.8, 0.9, 0.7, 0, 0.02 * 0.6 * 0.75 * 0.75 * 1.5],
    [0.8, 0.9, 0.85, 0, 0.02 * 0.6 * 0.75 * 0.5 * 1.5],
    [1.0, 1.0, 0.1, 0, 0.03],
    [1.0, 1.0, 0.1, 0.09, 0.01], // capped by the remaining 10% - 9%
    [0.49, 1.0, 0.1, 0, 0], // below min confidence
    [0.9, 0.59, 0.1, 0, 0], // below min agreement
    [0.9, 0.9, 0.1, 0.1, 0], // no exposure left
    [0.5, 0.9, 0.1, 0, 0], // exactly at the minimum: factor 0
  ])('c=%s a=%s vol=%s exposure=%s -> %s', (c, a, v, e, want) => {
    expect(positionSize(c, a, v, e, P).sizeFraction).toBeCloseTo(want, 12);
  });
  it('explains a zero', () => {
    expect(positionSize(0.4, 0.9, 0.1, 0, P).explain).toMatch(/confidence 0\.40 < minimum 0\.5/);
    expect(positionSize(0.9, 0.9, 0.1, 0.12, P).explain).toMatch(/at the 10% limit/);
  });
  it('vol factor boundaries are strict (> 0.6, > 0.8)', () => {
    expect([0.6, 0.61, 0.8, 0.81].map((v) => volatilityFactor(v, P))).toEqual([1, 0.75, 0.75, 0.5]);
  });
});

describe('sizingTableMultiplier reproduces the source sizing table', () => {
  // confidence band, vol rank (low = 0.3, high = 0.9), multiplier, example position with the 2% base
  it.each([
    [0.95, 0.3, 1.5, 0.03],
    [0.95, 0.9, 0.75, 0.015],
    [0.8, 0.3, 1.0, 0.02],
    [0.8, 0.9, 0.5, 0.01],
    [0.6, 0.3, 0.5, 0.01],
    [0.6, 0.9, 0.25, 0.005],
    [0.45, 0.3, 0, 0],
    [0.45, 0.9, 0, 0],
  ])('confidence %s, vol percentile %s -> %sx = %s', (c, v, m, example) => {
    expect(sizingTableMultiplier(c, v, P)).toBe(m);
    expect(P.baseSize * sizingTableMultiplier(c, v, P)).toBeCloseTo(example, 12);
  });
  it('band edges: 0.90 and 0.70 belong to the upper band, 0.50 trades', () => {
    expect(sizingTableMultiplier(0.9, 0.3, P)).toBe(1.5);
    expect(sizingTableMultiplier(0.7, 0.3, P)).toBe(1.0);
    expect(sizingTableMultiplier(0.5, 0.3, P)).toBe(0.5);
    expect(sizingTableMultiplier(0.95, 0.7, P)).toBe(1.5 * 0.75); // the unlisted 60-80th band
  });
});

describe('Kelly', () => {
  it('f* = p - (1 - p) / b by hand', () => {
    // 6 wins of +2%, 4 losses of -1%: p = 0.6, b = 2 -> 0.6 - 0.4 / 2 = 0.4
    const r = [0.02, -0.01, 0.02, 0.02, -0.01, 0.02, -0.01, 0.02, -0.01, 0.02];
    expect(kellyFraction(r)).toBeCloseTo(0.4, 12);
    // no edge: p = 0.5, b = 1 -> 0
    expect(kellyFraction([0.01, -0.01, 0.01, -0.01])).toBeCloseTo(0, 12);
    expect(kellyFraction([0.01, 0.02])).toBeNaN();
  });
  it('fractional Kelly with a drawdown brake', () => {
    const p = parseRiskConfig({ kelly: { enabled: true, minTrades: 10 } });
    const r = [0.02, -0.01, 0.02, 0.02, -0.01, 0.02, -0.01, 0.02, -0.01, 0.02];
    expect(kellyCap(r, 0, p)).toBeCloseTo(0.25 * 0.4, 12);
    expect(drawdownBrake(0.1, p)).toBeCloseTo(0.5, 12); // halfway from 5% to 15%
    expect(kellyCap(r, 0.1, p)).toBeCloseTo(0.25 * 0.4 * 0.5, 12);
    expect(kellyCap(r, 0.2, p)).toBe(0);
    expect(kellyCap(r.slice(0, 9), 0, p)).toBeNaN(); // too few trades
    expect(kellyCap([-0.02, 0.01, -0.02, 0.01, -0.02, 0.01, -0.02, 0.01, -0.02, 0.01], 0, p)).toBe(0); // negative edge
  });
});
