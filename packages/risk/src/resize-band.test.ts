import { describe, expect, it } from 'vitest';
import type { TradingDecision } from '@task-agnostic/core';
import { applyVerdict } from './apply-verdict.js';
import { RiskGate } from './gate.js';
import type { RiskState } from './state.js';

const NOW = Date.parse('2026-11-18T12:00:00Z');
const decision = (over: Partial<TradingDecision> = {}): TradingDecision => ({
  tsMs: NOW,
  symbol: 'BTCUSDT',
  action: 'buy',
  side: 'long',
  confidence: 0.8,
  agreement: 0.9,
  sizeFraction: 0.03,
  stopLossPct: 0.015,
  takeProfitPct: 0.03,
  reasoning: 'test',
  outputs: { volatility: { expected: 0.01, percentile: 0.5 } },
  ...over,
});
const state = (heldFraction: number, side: 'long' | 'short' = 'long'): RiskState => ({
  nowMs: NOW,
  account: { equity: 100_000, dayStartEquity: 100_000, weekHighEquity: 100_000, peakEquity: 100_000 },
  positions: heldFraction > 0 ? [{ symbol: 'BTCUSDT', side, qty: heldFraction, markPrice: 100_000 }] : [],
  exchange: { connected: true, lastDataMs: NOW - 1_000, rateLimitRemaining: 100 },
  market: { spreadPct: 0.0002, depthNotional: 5_000_000, lastBarMovePct: 0.003 },
  strategy: { recentTradeReturns: [] },
  system: { latencyMs: 20, errorRate: 0 },
});
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
