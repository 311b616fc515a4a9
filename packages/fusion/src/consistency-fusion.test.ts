import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, createRng, REGIMES } from '@task-agnostic/core';
import type { Regime, TaskOutputs } from '@task-agnostic/core';
import { agreementLevel, consistencyFusion } from './consistency-fusion.js';
import { parseConsistencyFusionConfig } from './config.js';

function regime(label: Regime, conf = 0.73): NonNullable<TaskOutputs['regime']> {
  const probs = Object.fromEntries(REGIMES.map((r) => [r, r === label ? conf : (1 - conf) / 4])) as Record<Regime, number>;
  return { label, probs, confidence: conf };
}

const UP = { up: 0.68, down: 0.22, sideways: 0.1 };

// The source's agreement matrix: direction UP in all three; volatility LOW/HIGH/HIGH; regime
// BULL/BULL/BEAR; expected return +0.5% / +0.3% / -0.2%; verdicts TRADE (0.95), CAUTION (0.70),
// NO TRADE (0.30). Our scores (hand-computed): 1.0, 0.70, 0.14; the verdicts match.
const SCENARIOS: [string, TaskOutputs, { agreement: number; confidence: number; level: string; action: string; size: number; stop: number; take: number }][] = [
  [
    'scenario 1: all agree -> TRADE',
    { direction: UP, volatility: { expected: 0.01, percentile: 0.2 }, regime: regime('bull'), return: { expected: 0.005, std: 0.01 } },
    // consistency (1 + 1) / 2 = 1; confidence 0.68 x (0.5 + 0.5 x 1) = 0.68; size 2% x 1 x (0.68 - 0.5) / 0.5
    { agreement: 1.0, confidence: 0.68, level: 'trade', action: 'buy', size: 0.02 * 0.36, stop: 0.015, take: 0.03 },
  ],
  [
    'scenario 2: volatility warns -> CAUTION',
    { direction: UP, volatility: { expected: 0.03, percentile: 0.9 }, regime: regime('bull'), return: { expected: 0.003, std: 0.01 } },
    // consistency 1, agreement 1 x 0.7; size 2% x 0.5 x 0.36; exits widened x1.5 / x1.3
    { agreement: 0.7, confidence: 0.68, level: 'caution', action: 'buy', size: 0.02 * 0.5 * 0.36, stop: 0.015 * 1.5, take: 0.03 * 1.3 },
  ],
  [
    'scenario 3: conflict -> NO TRADE',
    { direction: UP, volatility: { expected: 0.03, percentile: 0.9 }, regime: regime('bear'), return: { expected: -0.002, std: 0.01 } },
    // consistency (0.2 + 0.2) / 2 = 0.2; agreement 0.14; confidence 0.68 x 0.6 = 0.408 < 0.5
    { agreement: 0.14, confidence: 0.408, level: 'no_trade', action: 'hold', size: 0, stop: 0, take: 0 },
  ],
];

describe('consistencyFusion: the source agreement scenarios', () => {
  it.each(SCENARIOS)('%s', (_name, outputs, want) => {
    const d = consistencyFusion(outputs, undefined, { tsMs: 123, symbol: 'BTCUSDT' });
    expect(d.agreement).toBeCloseTo(want.agreement, 12);
    expect(d.confidence).toBeCloseTo(want.confidence, 12);
    expect(agreementLevel(d.agreement, 0.6)).toBe(want.level);
    expect(d.action).toBe(want.action);
    expect(d.side).toBe(want.action === 'buy' ? 'long' : 'flat');
    expect(d.sizeFraction).toBeCloseTo(want.size, 12);
    expect(d.stopLossPct).toBeCloseTo(want.stop, 12);
    expect(d.takeProfitPct).toBeCloseTo(want.take, 12);
    expect(d.tsMs).toBe(123);
    expect(d.symbol).toBe('BTCUSDT');
    expect(d.outputs).toBe(outputs);
    expect(d.reasoning).toContain('missing heads: risk');
  });

  it('explains a conflict in the reasoning', () => {
    const d = consistencyFusion(SCENARIOS[2]![1]);
    expect(d.reasoning).toMatch(/regime bear vs long: 0\.20/);
    expect(d.reasoning).toMatch(/HOLD: confidence 0\.41 < minimum 0\.5/);
  });

  it('sells on a down direction that agrees with a bear regime', () => {
    const d = consistencyFusion({ direction: { up: 0.1, down: 0.8, sideways: 0.1 }, regime: regime('bear'), return: { expected: -0.004, std: 0.01 } });
    expect(d.action).toBe('sell');
    expect(d.side).toBe('short');
    expect(d.confidence).toBeCloseTo(0.8, 12);
    expect(d.sizeFraction).toBeCloseTo(0.02 * 0.6, 12);
  });

  it('holds on a sideways argmax and on a high-confidence but conflicting view', () => {
    expect(consistencyFusion({ direction: { up: 0.3, down: 0.3, sideways: 0.4 }, regime: regime('sideways') }).action).toBe('hold');
    // confidence 0.95 x (0.5 + 0.5 x 0.2) = 0.57 >= 0.5, but agreement 0.2 < 0.6: no trade
    const d = consistencyFusion({ direction: { up: 0.95, down: 0.03, sideways: 0.02 }, regime: regime('bear'), return: { expected: -0.01, std: 0.01 } });
    expect(d.confidence).toBeCloseTo(0.57, 12);
    expect(d.action).toBe('hold');
    expect(d.reasoning).toMatch(/agreement 0\.20 < minimum 0\.6: tasks conflict/);
  });

  it('parses a config object once and still honours a different one', () => {
    const outputs: TaskOutputs = { direction: UP, regime: regime('low_volatility') };
    const cfg = { consistencyWeight: 0.8 };
    const a = consistencyFusion(outputs, cfg);
    expect(consistencyFusion(outputs, cfg)).toEqual(a);
    expect(consistencyFusion(outputs, { consistencyWeight: 0.2 }).confidence).toBeCloseTo(0.68 * (1 - 0.2 + 0.2 * 0.7), 12);
  });

  it('applies the consistency weight', () => {
    const outputs: TaskOutputs = { direction: UP, regime: regime('low_volatility') };
    const d = consistencyFusion(outputs, { consistencyWeight: 0.8 });
    expect(d.confidence).toBeCloseTo(0.68 * (1 - 0.8 + 0.8 * 0.7), 12);
  });
});

describe('consistencyFusion: missing and bad heads', () => {
  it('with only a direction head: no cross-check, agreement 0.5, hold, says what is missing', () => {
    const d = consistencyFusion({ direction: UP });
    expect(d.agreement).toBe(0.5);
    expect(d.action).toBe('hold');
    expect(d.reasoning).toContain('missing heads: volatility, regime, return, risk');
    expect(d.reasoning).toContain('no regime or return head');
  });
  it('without a direction head takes the side from the return head (P(sign) = Phi(mu/sigma))', () => {
    const d = consistencyFusion({ return: { expected: 0.01, std: 0.01 }, regime: regime('bull') });
    // Phi(1) = 0.841345; the return head does not confirm itself: consistency = regime only = 1
    expect(d.confidence).toBeCloseTo(0.841345, 5);
    expect(d.agreement).toBe(1);
    expect(d.action).toBe('buy');
    expect(d.reasoning).toContain('direction head missing');
  });
  it('with no heads at all: a hold that says so', () => {
    const d = consistencyFusion({});
    expect(d.action).toBe('hold');
    expect(d.sizeFraction).toBe(0);
    expect(d.reasoning).toContain('no direction or return head');
  });
  it('throws a DataError naming the field for NaN or out-of-range values', () => {
    expect(() => consistencyFusion({ direction: { up: NaN, down: 0.5, sideways: 0.5 } })).toThrow(DataError);
    expect(() => consistencyFusion({ direction: { up: NaN, down: 0.5, sideways: 0.5 } })).toThrow(/direction\.up/);
    expect(() => consistencyFusion({ volatility: { expected: 0.01, percentile: 1.5 } })).toThrow(/volatility\.percentile/);
    expect(() => consistencyFusion({ direction: { up: 0.5, down: 0.5, sideways: 0.5 } })).toThrow(/sum to 1/);
    expect(() => consistencyFusion({ regime: { ...regime('bull'), label: 'moon' as Regime } })).toThrow(/regime\.label/);
  });
  it('rejects bad config with a ConfigError naming the field', () => {
    expect(() => consistencyFusion({ direction: UP }, { consistencyWeight: 2 })).toThrow(ConfigError);
    try {
      parseConsistencyFusionConfig({ exits: { baseStopLossPct: -1 } });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).field).toBe('exits.baseStopLossPct');
    }
    expect(() => parseConsistencyFusionConfig({ consistencyWieght: 0.5 })).toThrow(/consistencyWieght/);
  });
});

describe('consistencyFusion: invariants over random outputs', () => {
  it('never crashes and keeps every field in range, for any subset of heads', () => {
    const rng = createRng(7);
    for (let i = 0; i < 2000; i++) {
      const a = rng.next() + 1e-9, b = rng.next(), c = rng.next();
      const s = a + b + c;
      const all: TaskOutputs = {
        direction: { up: a / s, down: b / s, sideways: c / s },
        volatility: { expected: rng.next() * 0.05, percentile: rng.next() },
        regime: regime(REGIMES[rng.int(5)]!, 0.2 + 0.8 * rng.next()),
        return: { expected: rng.normal(0, 0.01), std: rng.next() * 0.02 },
        risk: { level: 'low', probs: { low: 0.5, medium: 0.3, high: 0.2 } },
      };
      const subset = Object.fromEntries(Object.entries(all).filter(() => rng.next() < 0.6)) as TaskOutputs;
      const d = consistencyFusion(subset);
      expect(d.confidence).toBeGreaterThanOrEqual(0);
      expect(d.confidence).toBeLessThanOrEqual(1);
      expect(d.agreement).toBeGreaterThanOrEqual(0);
      expect(d.agreement).toBeLessThanOrEqual(1);
      expect(d.sizeFraction).toBeGreaterThanOrEqual(0);
      expect(d.sizeFraction).toBeLessThanOrEqual(0.02);
      if (d.action === 'hold') expect(d.sizeFraction).toBe(0);
      else {
        expect(d.confidence).toBeGreaterThanOrEqual(0.5);
        expect(d.agreement).toBeGreaterThanOrEqual(0.6);
        expect(d.stopLossPct).toBeGreaterThan(0);
      }
      expect(d.reasoning.length).toBeGreaterThan(10);
    }
  });
});
