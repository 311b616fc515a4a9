import { describe, expect, it } from 'vitest';
import type { TradingDecision } from '@task-agnostic/core';
import { RiskGate } from './gate.js';
import { DEFAULT_RISK_CONFIG, RISK_PROFILES, parseRiskConfig } from './params.js';
import { convictionFactor, decisionSize, riskPerTradeSize, volTargetSize } from './sizing.js';
import type { RiskState } from './state.js';
import { testDecision, testState } from './test-kit.js';

const VT = parseRiskConfig({ profile: 'volTarget' });
const RPT = parseRiskConfig({ profile: 'riskPerTrade' });

describe('profiles', () => {
  it("'source' (the default) is the source design, unchanged", () => {
    expect(parseRiskConfig({ profile: 'source' })).toEqual(DEFAULT_RISK_CONFIG);
    expect(DEFAULT_RISK_CONFIG.sizing.mode).toBe('source');
    expect(DEFAULT_RISK_CONFIG.profile).toBe('source');
  });
  it('volTarget fills its numbers in; the config overrides them', () => {
    expect([VT.sizing.mode, VT.sizing.targetAnnualVol, VT.maxTotalExposure, VT.portfolio.maxSymbolExposure, VT.minConfidence, VT.dailyLossLimit]).toEqual(['volTarget', 0.4, 1, 1, 0, 0.08]);
    const c = parseRiskConfig({ profile: 'volTarget', sizing: { targetAnnualVol: 0.2 }, dailyLossLimit: 0.05 });
    expect([c.sizing.mode, c.sizing.targetAnnualVol, c.sizing.maxLeverage, c.dailyLossLimit, c.portfolio.correlationWindow]).toEqual(['volTarget', 0.2, 1, 0.05, 100]);
    expect(RPT.sizing.mode).toBe('riskPerTrade');
    expect(Object.keys(RISK_PROFILES)).toEqual(['source', 'volTarget', 'riskPerTrade']);
  });
  it('an unknown profile is a ConfigError naming the field', () => {
    expect(() => parseRiskConfig({ profile: 'yolo' })).toThrow(/profile/);
  });
});

describe('volTargetSize', () => {
  it('target / (forecast x sqrt(bars per year)) x conviction, by hand', () => {
    // 1h bars: forecast 0.8% per bar -> 0.008 x sqrt(8760) = 74.88% annual; 40% / 74.88% = 0.5342
    const lev = 0.4 / (0.008 * Math.sqrt(8760));
    expect(volTargetSize(1, 1, 0.008, 0, VT).sizeFraction).toBeCloseTo(lev, 12);
    // conviction 0.6 x 0.5 with thresholds 0 (the profile's)
    expect(volTargetSize(0.6, 0.5, 0.008, 0, VT).sizeFraction).toBeCloseTo(lev * 0.3, 12);
    // a calm market asks for more than the account: capped at max leverage 1
    const r = volTargetSize(1, 1, 0.002, 0, VT);
    expect(r.sizeFraction).toBe(1);
    expect(r.explain).toMatch(/capped at 1x/);
    // and by the exposure the other symbols already take
    expect(volTargetSize(1, 1, 0.002, 0.7, VT).sizeFraction).toBeCloseTo(0.3, 12);
  });
  it('holds with the reason when the volatility forecast is absent or bad', () => {
    expect(volTargetSize(1, 1, undefined, 0, VT)).toMatchObject({ sizeFraction: 0, explain: expect.stringMatching(/no volatility forecast/) });
    expect(volTargetSize(1, 1, NaN, 0, VT).sizeFraction).toBe(0);
  });
  it('a near-zero forecast is floored, never an unbounded size', () => {
    const c = parseRiskConfig({ profile: 'volTarget', sizing: { maxLeverage: 100 } });
    expect(volTargetSize(1, 1, 0, 0, { ...c, maxTotalExposure: 1e9 } as typeof c).sizeFraction).toBeCloseTo(0.4 / (1e-4 * Math.sqrt(8760)), 9);
  });
});

describe('riskPerTradeSize', () => {
  it('lose R at the stop: R / stop x conviction, by hand', () => {
    expect(riskPerTradeSize(1, 1, 0.015, 0, RPT).sizeFraction).toBeCloseTo(0.01 / 0.015, 12);
    expect(riskPerTradeSize(1, 1, 0.005, 0, RPT).sizeFraction).toBe(1); // 2x capped at 1x
    expect(riskPerTradeSize(0.5, 1, 0.02, 0, RPT).sizeFraction).toBeCloseTo(0.5 * 0.5, 12);
    // the loss at the stop is R x conviction of equity
    const size = riskPerTradeSize(0.8, 0.9, 0.02, 0, RPT).sizeFraction;
    expect(size * 0.02).toBeCloseTo(0.01 * convictionFactor(0.8, 0.9, RPT), 12);
    expect(convictionFactor(0.8, 0.9)).toBeCloseTo(0.72, 12);
  });
  it('fitted entry thresholds gate, and do not shrink a trade just past them', () => {
    const fitted = parseRiskConfig({ profile: 'riskPerTrade', minConfidence: 0.4, minAgreement: 0.5 });
    expect(riskPerTradeSize(0.39, 1, 0.015, 0, fitted)).toMatchObject({ sizeFraction: 0, explain: expect.stringMatching(/confidence 0\.39 < minimum 0\.4/) });
    expect(riskPerTradeSize(0.42, 0.6, 0.015, 0, fitted).sizeFraction).toBeCloseTo((0.01 / 0.015) * 0.42 * 0.6, 12);
  });
});

// Full conviction and a 0.6% volatility forecast (no regime); a market deep enough for account-sized positions.
const decision = (over: Partial<TradingDecision> = {}): TradingDecision =>
  testDecision({ confidence: 1, agreement: 1, sizeFraction: 0.02, outputs: { volatility: { expected: 0.006, percentile: 0.5 } }, ...over });
const state = (over: Partial<RiskState> = {}): RiskState => testState({ market: { spreadPct: 0.0002, depthNotional: 50_000_000, lastBarMovePct: 0.003 }, ...over });

describe('the gate in the account-sized profiles', () => {
  it('a full-conviction decision holds a position of the order of the account (source: 3%)', () => {
    const v = new RiskGate({ profile: 'volTarget' }).check(decision(), state());
    expect(v.approved).toBe(true);
    expect(v.sizeFraction).toBeCloseTo(0.4 / (0.006 * Math.sqrt(8760)), 9); // 0.712 of equity
    expect(v.sizeFraction).toBeGreaterThan(0.5);
    expect(new RiskGate().check(decision(), state()).sizeFraction).toBeCloseTo(0.02, 12); // source: fusion's 2% is the cap
    expect(new RiskGate({ profile: 'riskPerTrade' }).check(decision(), state()).sizeFraction).toBeCloseTo(0.01 / 0.015, 9);
  });
  it('the seven layers stay in force: daily loss, circuit breaker, latency, kill switch', () => {
    const g = new RiskGate({ profile: 'volTarget' });
    const loss = g.check(decision(), state({ account: { equity: 91_000, dayStartEquity: 100_000, weekHighEquity: 100_000, peakEquity: 100_000 } }));
    expect(loss.approved).toBe(false);
    expect(loss.reasons.join(' ')).toMatch(/account: daily loss 9\.00%/);
    const g2 = new RiskGate({ profile: 'volTarget' });
    expect(g2.check(decision(), state({ market: { lastBarMovePct: 0.12 } })).reasons.join(' ')).toMatch(/circuit breaker/);
    const slow = g2.check(decision(), state({ system: { latencyMs: 250, errorRate: 0 } }));
    expect(slow.sizeFraction).toBeCloseTo((0.4 / (0.006 * Math.sqrt(8760))) * 0.5, 9);
    const dd = new RiskGate({ profile: 'volTarget' }).check(decision(), state({ account: { equity: 64_000, dayStartEquity: 64_500, weekHighEquity: 66_000, peakEquity: 100_000 } }));
    expect(dd.killed).toBe(true);
  });
  it('a model without a volatility head: the decision holds and says which signal is absent', () => {
    const v = new RiskGate({ profile: 'volTarget' }).check(decision({ outputs: {} }), state());
    expect(v.approved).toBe(false);
    expect(v.reasons[0]).toMatch(/position: volatility target: no volatility forecast/);
  });
  it('the portfolio layer still vetoes a correlated second position', () => {
    const ret = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 0.01);
    const v = new RiskGate({ profile: 'volTarget' }).check(decision(), state({ returns: ret, positions: [{ symbol: 'ETHUSDT', side: 'long', qty: 1, markPrice: 3000, returns: ret }] }));
    expect(v.approved).toBe(false);
    expect(v.reasons.join(' ')).toMatch(/portfolio: BTCUSDT long correlates 1\.00/);
  });
});

describe('decision sizing (a policy that sizes itself: the tilt policy)', () => {
  const DEC = parseRiskConfig({ profile: 'volTarget', sizing: { mode: 'decision' } });
  it("the decision's own size, capped at max leverage and the remaining exposure, by hand", () => {
    expect(decisionSize(0.63, 0, DEC)).toEqual({ sizeFraction: 0.63, explain: "the decision's size 63.00%" });
    const capped = decisionSize(1.7, 0, DEC);
    expect(capped.sizeFraction).toBe(1);
    expect(capped.explain).toMatch(/capped at 100\.00% \(max leverage 1x\)/);
    expect(decisionSize(0.9, 0.6, DEC).sizeFraction).toBeCloseTo(0.4, 12);
    expect(decisionSize(0, 0, DEC)).toMatchObject({ sizeFraction: 0, explain: 'the decision proposes no size' });
    expect(decisionSize(0.5, 1, DEC).sizeFraction).toBe(0);
  });
  it("through the gate: the size is the decision's, the exits are the decision's (none), every layer stays in force", () => {
    const d = decision({ sizeFraction: 0.63, stopLossPct: 0, takeProfitPct: 0 });
    const v = new RiskGate(DEC).check(d, state());
    expect([v.approved, v.sizeFraction, v.stopLossPct, v.takeProfitPct]).toEqual([true, 0.63, 0, 0]);
    // volTarget would size from the volatility head instead, with the gate's exits
    const vt = new RiskGate({ profile: 'volTarget' }).check(d, state());
    expect(vt.sizeFraction).toBeCloseTo(0.4 / (0.006 * Math.sqrt(8760)), 9);
    expect(vt.stopLossPct).toBeGreaterThan(0);
    // limits: the daily loss limit vetoes, latency halves, the kill switch flattens
    const loss = new RiskGate(DEC).check(d, state({ account: { equity: 91_000, dayStartEquity: 100_000, weekHighEquity: 100_000, peakEquity: 100_000 } }));
    expect(loss.approved).toBe(false);
    expect(new RiskGate(DEC).check(d, state({ system: { latencyMs: 250, errorRate: 0 } })).sizeFraction).toBeCloseTo(0.315, 12);
    const dd = new RiskGate(DEC).check(d, state({ account: { equity: 64_000, dayStartEquity: 64_500, weekHighEquity: 66_000, peakEquity: 100_000 }, positions: [{ symbol: 'BTCUSDT', side: 'long', qty: 1, markPrice: 30_000 }] }));
    expect([dd.killed, dd.approved, dd.flatten?.orders.length]).toEqual([true, false, 1]);
    // no proposed size: vetoed with the reason
    expect(new RiskGate(DEC).check(decision({ sizeFraction: 0 }), state()).reasons[0]).toBe('position: the decision proposes no size');
  });
});
