import { describe, expect, it } from 'vitest';
import type { TradingDecision } from '@task-agnostic/core';
import { applyVerdict } from './apply-verdict.js';
import { RiskGate } from './gate.js';
import type { RiskState } from './state.js';
import { testDecision, testState } from './test-kit.js';

const decision = (over: Partial<TradingDecision> = {}): TradingDecision => testDecision({ outputs: { volatility: { expected: 0.01, percentile: 0.5 } }, ...over });
/** The account holding `heldFraction` of its equity in BTCUSDT (at 100,000) on `side`. */
const state = (heldFraction: number, side: 'long' | 'short' = 'long'): RiskState =>
  testState({ positions: heldFraction > 0 ? [{ symbol: 'BTCUSDT', side, qty: heldFraction, markPrice: 100_000 }] : [] });
// volTarget: 0.4 / (0.01 x sqrt(8760)) = 0.42738 x conviction 0.8 x 0.9 = 0.30771 of equity
const ASKED = (0.4 / (0.01 * Math.sqrt(8760))) * 0.72;

describe('the resize band (sizing.resizeBand): hysteresis on re-sizing a held position', () => {
  const gate = (band: number) => new RiskGate({ profile: 'volTarget', sizing: { resizeBand: band } });
  it('keeps a same-side position whose size is within the band: applyVerdict changes nothing', () => {
    const v = gate(0.25).check(decision(), state(0.3));
    expect(v.approved).toBe(true);
    expect(v.sizeFraction).toBeCloseTo(ASKED, 10);
    expect(v.keep).toBe(true);
    expect(v.reasons.at(-1)).toMatch(/within the 25\.00% resize band: kept/);
    expect(applyVerdict(decision(), v, 'long')).toBeNull();
  });
  it('re-sizes outside the band, with band 0 (the default), when flat and on the other side', () => {
    // |0.3077 - 0.2| = 0.108 > 0.25 x 0.2
    const out = gate(0.25).check(decision(), state(0.2));
    expect(out.keep).toBeUndefined();
    expect(applyVerdict(decision(), out, 'long')).toMatchObject({ side: 'long', kind: 'decision' });
    expect(applyVerdict(decision(), out, 'long')!.sizeFraction).toBeCloseTo(ASKED, 10);
    expect(gate(0).check(decision(), state(0.3)).keep).toBeUndefined();
    expect(new RiskGate({ profile: 'volTarget' }).check(decision(), state(ASKED)).keep).toBeUndefined();
    expect(gate(0.25).check(decision(), state(0)).keep).toBeUndefined();
    const flip = gate(0.25).check(decision(), state(0.3, 'short'));
    expect(flip.keep).toBeUndefined();
    expect(applyVerdict(decision(), flip, 'short')).toMatchObject({ side: 'long' });
  });
  it('never keeps a vetoed decision, and the band never blocks closing', () => {
    const v = gate(0.5).check(decision({ confidence: 0 }), state(0.3));
    // conviction 0 -> size 0 -> vetoed
    expect(v.approved).toBe(false);
    expect(v.keep).toBeUndefined();
    const close = decision({ action: 'sell', side: 'flat', sizeFraction: 0 });
    expect(applyVerdict(close, gate(0.5).check(close, state(0.3)), 'long')).toMatchObject({ side: 'flat' });
  });
});
