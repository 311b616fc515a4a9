import { describe, expect, it } from 'vitest';
import type { TaskOutputs } from '@task-agnostic/core';
import { consistencyFusion } from './consistency-fusion.js';
import { policyCandidates, policyFusion, quantiles, searchPolicy, seedThresholds, withPolicy, type PolicyCandidate } from './decision-policy.js';

const sideways: TaskOutputs = {
  direction: { up: 0.3, down: 0.15, sideways: 0.55 },
  regime: { label: 'bull', probs: { bull: 0.6, bear: 0.1, sideways: 0.1, high_volatility: 0.1, low_volatility: 0.1 }, confidence: 0.6 },
  return: { expected: 0.002, std: 0.01 },
};

const policy = {
  thresholds: { minConfidence: 0.25, minAgreement: 0.5 },
  seed: { minConfidence: 0.5, minAgreement: 0.6 },
  options: { directionRule: 'up-vs-down' },
  gate: { minConfidence: 0.25, minAgreement: 0.5 },
  requiredHeads: ['direction'],
};

describe('decision policy', () => {
  it('seed thresholds are the source values', () => {
    expect(seedThresholds('consistency')).toEqual({ minConfidence: 0.5, minAgreement: 0.6 });
    expect(seedThresholds('weighted')).toEqual({ entry: 0.15, strong: 0.4 });
  });

  it('the source argmax holds on a dominant sideways class; the fitted up-vs-down policy trades it', () => {
    expect(consistencyFusion(sideways).action).toBe('hold');
    const d = policyFusion('consistency', {}, policy)(sideways, { tsMs: 5, symbol: 'BTCUSDT' });
    // up 0.30 vs down 0.15 -> long; regime bull 1.0, return + 1.0 -> consistency 1; confidence 0.30 >= 0.25.
    expect(d.action).toBe('buy');
    expect(d.confidence).toBeCloseTo(0.3, 10);
    expect(d.reasoning).toMatch(/long \(up vs down\)/);
    // the seed (no policy) keeps the source numbers
    expect(policyFusion('consistency', {}, null)(sideways).action).toBe('hold');
  });

  it('a long-only policy closes instead of going short, and leaves long and hold decisions alone', () => {
    const bearish: TaskOutputs = { ...sideways, direction: { up: 0.15, down: 0.3, sideways: 0.55 }, regime: { ...sideways.regime!, label: 'bear' }, return: { expected: -0.002, std: 0.01 } };
    expect(policyFusion('consistency', {}, policy)(bearish).side).toBe('short');
    const lo = policyFusion('consistency', {}, { ...policy, options: { ...policy.options, sides: 'long-only' } });
    const d = lo(bearish, { tsMs: 5, symbol: 'BTCUSDT' });
    expect(d).toMatchObject({ action: 'sell', side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, symbol: 'BTCUSDT' });
    expect(d.reasoning).toMatch(/long-only policy: the short lean closes any long \(flat\)$/);
    expect(lo(sideways)).toEqual(policyFusion('consistency', {}, policy)(sideways));
    expect(lo({ direction: { up: 0.1, down: 0.1, sideways: 0.8 } }).action).toBe('hold');
  });

  it('weighted: the fitted entry threshold turns a weak signal into a trade', () => {
    const o: TaskOutputs = { direction: { up: 0.4, down: 0.3, sideways: 0.3 } };
    // signal = 0.35 x (0.4 - 0.3) = 0.035: below the source's 0.15, above a fitted 0.03.
    expect(policyFusion('weighted', {}, null)(o).action).toBe('hold');
    const p = { ...policy, thresholds: { entry: 0.03, strong: 0.06 }, seed: { entry: 0.15, strong: 0.4 }, options: {} };
    expect(policyFusion('weighted', {}, p)(o).action).toBe('buy');
    expect(withPolicy('weighted', { directionWeight: 0.5 }, p)).toMatchObject({ directionWeight: 0.5, thresholds: { entry: 0.03, strong: 0.06 } });
  });

  it('a model without a head the policy reads: the decision names the absent signal and holds', () => {
    const noDirection: TaskOutputs = { return: { expected: 0.01, std: 0.005 }, regime: sideways.regime! };
    const d = policyFusion('consistency', {}, policy)(noDirection, { tsMs: 9, symbol: 'ETHUSDT' });
    expect(d.action).toBe('hold');
    expect(d.side).toBe('flat');
    expect(d.sizeFraction).toBe(0);
    expect(d.symbol).toBe('ETHUSDT');
    expect(d.reasoning).toBe("HOLD: the consistency decision policy reads the direction head's signal, which is absent from the model's outputs");
  });

  it('a policy missing a threshold is a ConfigError naming it', () => {
    expect(() => withPolicy('consistency', {}, { thresholds: { minConfidence: 0.3 } })).toThrow(/no finite 'minAgreement' threshold/);
  });

  it('quantiles (type 7) by hand', () => {
    expect(quantiles([4, 1, 3, 2], [0, 0.5, 1])).toEqual([1, 2.5, 4]);
    expect(quantiles([], [0.5])).toEqual([]);
  });

  it('candidates come from the validation signals and include the seed', () => {
    const outs: TaskOutputs[] = Array.from({ length: 50 }, (_, i) => ({ direction: { up: 0.2 + i * 0.004, down: 0.3 - i * 0.002, sideways: 0.5 - i * 0.002 } }));
    const cc = policyCandidates('consistency', outs);
    expect(cc.some((c) => c.thresholds.minConfidence === 0.5 && c.thresholds.minAgreement === 0.6 && c.options.directionRule === 'argmax')).toBe(true);
    expect(cc.some((c) => c.options.directionRule === 'up-vs-down')).toBe(true);
    for (const c of cc) expect(c.thresholds.minConfidence).toBeLessThan(1);
    const wc = policyCandidates('weighted', outs);
    expect(wc.some((c) => c.thresholds.entry === 0.15 && c.thresholds.strong === 0.4)).toBe(true);
    for (const c of wc) expect(c.thresholds.strong).toBeGreaterThanOrEqual(c.thresholds.entry!);
  });

  it('search: the best objective among candidates with enough trades on every symbol; else the most-trading one with a warning', () => {
    const cands: PolicyCandidate[] = [1, 2, 3, 4].map((k) => ({ thresholds: { entry: k }, options: {} }));
    const scores: Record<number, { objective: number; tradesBySymbol: Record<string, number> }> = {
      1: { objective: 0.5, tradesBySymbol: { A: 40, B: 35 } },
      2: { objective: 1.5, tradesBySymbol: { A: 31, B: 30 } },
      3: { objective: 3.0, tradesBySymbol: { A: 50, B: 5 } }, // best objective but B trades too little
      4: { objective: 1.5, tradesBySymbol: { A: 30, B: 30 } }, // tie with 2: the earlier wins
    };
    const r = searchPolicy(cands, (c) => scores[c.thresholds.entry!]!, { A: 30, B: 30 });
    expect(r.best.thresholds.entry).toBe(2);
    expect(r.feasible).toBe(true);
    expect(r.feasibleCount).toBe(3);
    const none = searchPolicy(cands, (c) => scores[c.thresholds.entry!]!, { A: 100, B: 100 });
    expect(none.feasible).toBe(false);
    expect(none.best.thresholds.entry).toBe(1); // worst symbol 35 trades: the most
    expect(none.warning).toMatch(/need A 100, B 100; the most-trading candidate made A 40, B 35/);
    expect(() => searchPolicy([], () => scores[1]!, {})).toThrow(/no threshold candidates/);
  });
});
