import { describe, expect, it } from 'vitest';
import { REGIMES } from '@task-agnostic/core';
import type { Regime } from '@task-agnostic/core';
import { computeAgreement, regimeAgreement, returnAgreement, volatilityBand } from './agreement.js';
import type { Lean } from './agreement.js';
import { DEFAULT_CONSISTENCY_FUSION_CONFIG as CFG } from './config.js';

describe('regimeAgreement reproduces the source table (DecisionFusion::check_regime_consistency)', () => {
  // Every (direction, regime) pair; the listed ones come from the source, all others are "otherwise 0.5".
  const listed: Record<string, number> = {
    'long|bull': 1.0,
    'short|bear': 1.0,
    'neutral|sideways': 1.0,
    'long|low_volatility': 0.7,
    'short|high_volatility': 0.6,
    'long|bear': 0.2,
    'short|bull': 0.2,
  };
  const cases: [Lean, Regime, number][] = [];
  for (const lean of ['long', 'short', 'neutral'] as const) for (const r of REGIMES) cases.push([lean, r, listed[`${lean}|${r}`] ?? 0.5]);
  it.each(cases)('%s + %s -> %s', (lean, regime, want) => {
    expect(regimeAgreement(lean, regime)).toBe(want);
  });
  it('has exactly 7 non-default entries', () => {
    expect(cases.filter((c) => c[2] !== 0.5)).toHaveLength(7);
  });
});

describe('returnAgreement', () => {
  it.each([
    ['long', 0.005, 1.0],
    ['long', -0.005, 0.2],
    ['short', -0.005, 1.0],
    ['short', 0.005, 0.2],
    ['long', 0.0003, 0.5], // inside the 0.05% deadband: no move, neither agrees nor conflicts
    ['neutral', 0.0001, 1.0],
    ['neutral', 0.01, 0.5],
  ] as [Lean, number, number][])('%s with mu %s -> %s', (lean, mu, want) => {
    expect(returnAgreement(lean, mu, 0.0005)).toBe(want);
  });
});

describe('volatilityBand', () => {
  it.each([
    [0.6, 'normal'],
    [0.61, 'elevated'],
    [0.8, 'elevated'],
    [0.81, 'high'],
  ] as const)('percentile %s is %s (source: > 0.6, > 0.8)', (p, want) => {
    expect(volatilityBand(p, CFG.volatilityBands)).toBe(want);
  });
});

describe('computeAgreement', () => {
  it('averages the available checks and applies the volatility factor', () => {
    const r = computeAgreement(
      'long',
      { regime: { label: 'low_volatility', probs: { bull: 0, bear: 0, sideways: 0, high_volatility: 0, low_volatility: 1 }, confidence: 1 }, return: { expected: -0.01, std: 0.01 }, volatility: { expected: 0.01, percentile: 0.7 } },
      CFG,
    );
    expect(r.consistency).toBeCloseTo((0.7 + 0.2) / 2, 12);
    expect(r.agreement).toBeCloseTo(0.45 * 0.85, 12);
    expect(r.notes.join(' ')).toContain('volatility elevated');
  });
  it('is 0.5 (unknown) with no head to cross-check', () => {
    expect(computeAgreement('long', {}, CFG).consistency).toBe(0.5);
  });
});
