import { describe, expect, it } from 'vitest';
import { DataError, correlation, createRng } from '@task-agnostic/core';
import { RiskGate } from './gate.js';
import { LAYER_NAMES } from './layers/types.js';
import { NOW, testDecision as decision, testState as state } from './test-kit.js';

// 2% x (0.8 - 0.5) / 0.5 x (0.9 - 0.6) / 0.4 x vol 1 x 1.5
const SIZE = 0.02 * 0.6 * 0.75 * 1.5;

describe('RiskGate: the seven layers', () => {
  it('approves a clean decision at the source size with regime stops, every layer reporting', () => {
    const v = new RiskGate().check(decision(), state());
    expect(v.approved).toBe(true);
    expect(v.sizeFraction).toBeCloseTo(SIZE, 12);
    expect(v.stopLossPct).toBeCloseTo(0.015, 12);
    expect(v.takeProfitPct).toBeCloseTo(0.03, 12);
    expect(v.layers.map((l) => l.layer)).toEqual([...LAYER_NAMES]);
    expect(v.layers[0]!.action).toBe('shrink');
    expect(v.reasons).toEqual([expect.stringMatching(/^position: 2\.0% x conf 0\.60 x agreement 0\.75 x vol 1 x 1\.5/)]);
    expect(v.layers.slice(1).every((l) => l.action === 'approve')).toBe(true);
  });

  it('never enlarges the proposal', () => {
    const v = new RiskGate().check(decision({ sizeFraction: 0.005 }), state());
    expect(v.sizeFraction).toBe(0.005);
    expect(v.reasons).toEqual([]);
  });

  it('approves going flat with size 0', () => {
    const v = new RiskGate().check(decision({ action: 'hold', side: 'flat', sizeFraction: 0 }), state({ exchange: { connected: false, lastDataMs: 0 } }));
    expect(v).toMatchObject({ approved: true, sizeFraction: 0, reasons: [] });
  });

  it('position: vetoes below min confidence / agreement and caps by remaining exposure (other symbols only)', () => {
    const g = new RiskGate();
    expect(g.check(decision({ confidence: 0.45 }), state()).reasons[0]).toMatch(/^position: confidence 0\.45 < minimum 0\.5/);
    expect(g.check(decision({ agreement: 0.5 }), state()).approved).toBe(false);
    const positions = [
      { symbol: 'ETHUSDT', side: 'long' as const, qty: 3, markPrice: 3000 }, // 9% of equity
      { symbol: 'BTCUSDT', side: 'long' as const, qty: 1, markPrice: 90_000 }, // the same symbol: replaced, not added
    ];
    const v = g.check(decision(), state({ positions }));
    expect(v.sizeFraction).toBeCloseTo(0.01, 12);
    expect(v.reasons[0]).toMatch(/capped at the remaining exposure 1\.000%/);
  });

  it('sizing table method', () => {
    const v = new RiskGate({ sizingMethod: 'table' }).check(decision({ confidence: 0.95, sizeFraction: 0.05 }), state());
    expect(v.sizeFraction).toBeCloseTo(0.03, 12); // 1.5 x 2%
  });

  it('portfolio: concentration cap and the correlation veto (same side), a hedge passes', () => {
    const g = new RiskGate({ sizingMethod: 'table', portfolio: { maxSymbolExposure: 0.02 } });
    const c = g.check(decision({ confidence: 0.95, sizeFraction: 0.05 }), state());
    expect(c.sizeFraction).toBeCloseTo(0.02, 12);
    expect(c.reasons.some((r) => r.startsWith('portfolio: concentration'))).toBe(true);

    const rng = createRng(1);
    const btc = Array.from({ length: 200 }, () => rng.normal(0, 0.01));
    const eth = btc.map((x) => x + rng.normal(0, 0.004));
    const want = correlation(btc.slice(-100), eth.slice(-100));
    expect(want).toBeGreaterThan(0.7);
    const positions = [{ symbol: 'ETHUSDT', side: 'long' as const, qty: 1, markPrice: 3000, returns: eth }];
    const gate = new RiskGate();
    const v = gate.check(decision(), state({ positions, returns: btc }));
    expect(v.approved).toBe(false);
    expect(v.reasons).toContain(`portfolio: BTCUSDT long correlates ${want.toFixed(2)} with open ETHUSDT long over 100 bars (limit 0.7)`);
    const hedge = gate.check(decision({ action: 'sell', side: 'short' }), state({ positions, returns: btc }));
    expect(hedge.approved).toBe(true);
    expect(gate.correlationStats.hits).toBe(1); // the second check reused the cached pair
  });

  it('account: weekly drawdown halves the size', () => {
    const v = new RiskGate().check(decision(), state({ account: { equity: 94_900, dayStartEquity: 95_000, weekHighEquity: 100_000 } }));
    expect(v.sizeFraction).toBeCloseTo(SIZE * 0.5, 12);
    expect(v.reasons).toContain('account: weekly drawdown 5.10% >= 5%: size x0.5 (size 1.350% -> 0.675%)');
  });

  it('exchange: rate-limit budget', () => {
    const v = new RiskGate().check(decision(), state({ exchange: { connected: true, lastDataMs: NOW, rateLimitRemaining: 2 } }));
    expect(v.reasons).toEqual(expect.arrayContaining(['exchange: rate-limit budget 2 requests < 5']));
    expect(v.approved).toBe(false);
  });

  it('exchange: an order with an unknown outcome, or an unreadable account, vetoes new entries; going flat is not blocked', () => {
    const ok = new RiskGate().check(decision(), state({ exchange: { connected: true, lastDataMs: NOW, unresolvedOrders: 0 } }));
    expect(ok.approved).toBe(true);
    const v = new RiskGate().check(decision(), state({ exchange: { connected: true, lastDataMs: NOW, unresolvedOrders: 1 } }));
    expect(v.approved).toBe(false);
    expect(v.reasons).toContain('exchange: 1 order(s) unresolved (sent, outcome not known yet): no new entries until the exchange answers');
    const w = new RiskGate().check(decision(), state({ exchange: { connected: true, lastDataMs: NOW, accountError: 'HTTP 503' } }));
    expect(w.approved).toBe(false);
    expect(w.reasons).toContain('exchange: account state unknown (HTTP 503)');
    const flat = new RiskGate().check(decision({ action: 'hold', side: 'flat', sizeFraction: 0 }), state({ exchange: { connected: true, lastDataMs: NOW, unresolvedOrders: 2 } }));
    expect(flat.approved).toBe(true);
  });

  it('market: order shrunk to 10% of the book depth; extreme volatility vetoes', () => {
    const v = new RiskGate().check(decision(), state({ market: { spreadPct: 0.0002, depthNotional: 10_000 } }));
    expect(v.sizeFraction).toBeCloseTo(0.01, 12);
    const w = new RiskGate().check(decision({ outputs: { volatility: { expected: 0.05, percentile: 0.995 } } }), state());
    expect(w.reasons).toContain('market: volatility percentile 0.995 >= 0.99');
    // empty book
    expect(new RiskGate().check(decision(), state({ market: { depthNotional: 0 } })).reasons).toContain('market: no liquidity: empty book');
  });

  it('strategy: profit factor scales the allocation; a losing streak vetoes', () => {
    const g = new RiskGate();
    // wins 0.01 + 0.01, losses 0.01 x 4 -> profit factor 0.5 -> allocation 0.5
    const v = g.check(decision(), state({ strategy: { recentTradeReturns: [0.01, -0.01, -0.01, 0.01, -0.01, -0.01, 0.0001] } }));
    expect(v.sizeFraction).toBeCloseTo(SIZE * ((0.02 + 0.0001) / 0.04), 12);
    const s = g.check(decision(), state({ strategy: { recentTradeReturns: [0.05, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01] } }));
    expect(s.reasons).toContain('strategy: 6 consecutive losing trades (limit 6)');
  });

  it('strategy: a losing-streak halt expires lossStreakPauseMs after the last exit', () => {
    const g = new RiskGate();
    const streak = [0.05, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01];
    const now = state().nowMs;
    const halted = g.check(decision(), state({ strategy: { recentTradeReturns: streak, lastTradeExitMs: now - 3_600_000 } }));
    expect(halted.approved).toBe(false);
    expect(halted.reasons.some((r) => /^strategy: 6 consecutive losing trades \(limit 6\) until \d{4}-/.test(r))).toBe(true);
    const resumed = g.check(decision(), state({ strategy: { recentTradeReturns: streak, lastTradeExitMs: now - 86_400_000 } }));
    expect(resumed.reasons.some((r) => r.includes('consecutive'))).toBe(false);
    // 0 keeps the halt for good
    const forever = new RiskGate({ strategy: { lossStreakPauseMs: 0 } }).check(decision(), state({ strategy: { recentTradeReturns: streak, lastTradeExitMs: now - 1e10 } }));
    expect(forever.approved).toBe(false);
  });

  it('Kelly cap (opt-in): no edge vetoes, a small edge caps', () => {
    const g = new RiskGate({ kelly: { enabled: true, minTrades: 10 } });
    const noEdge = Array.from({ length: 10 }, (_, i) => (i % 2 ? -0.02 : 0.01));
    expect(g.check(decision(), state({ strategy: { recentTradeReturns: noEdge } })).reasons[0]).toMatch(/position: fractional Kelly 0\.0000.*no edge/);
    // p = 0.6, b = 1 -> f* = 0.2 -> quarter Kelly 0.05 (> 1.35%: not binding); 12% drawdown -> brake 0.3 -> 0.015
    const edge = [0.01, 0.01, -0.01, 0.01, -0.01, 0.01, -0.01, 0.01, 0.01, -0.01];
    const a = { equity: 88_000, dayStartEquity: 88_000, weekHighEquity: 88_000, peakEquity: 100_000 };
    const v = g.check(decision(), state({ account: a, strategy: { recentTradeReturns: edge } }));
    expect(v.sizeFraction).toBeCloseTo(Math.min(SIZE, 0.25 * 0.2 * 0.3), 12);
  });

  it('validates its inputs', () => {
    expect(() => new RiskGate().check(decision({ confidence: NaN }), state())).toThrow(DataError);
    expect(() => new RiskGate().check(decision({ sizeFraction: -1 }), state())).toThrow(/decision\.sizeFraction/);
    expect(() => new RiskGate().check(decision(), state({ account: { equity: NaN, dayStartEquity: 1, weekHighEquity: 1 } }))).toThrow(/state\.account\.equity/);
    expect(() => new RiskGate({ maxTotalExposure: 3 })).toThrow(/maxTotalExposure/);
  });
});

describe('RiskGate: kill switch', () => {
  it('manual kill: vetoes, returns reduce-only orders that flatten every position, holds until rearm', () => {
    const g = new RiskGate();
    const positions = [
      { symbol: 'BTCUSDT', side: 'long' as const, qty: 0.1, markPrice: 90_000 },
      { symbol: 'ETHUSDT', side: 'short' as const, qty: 2, markPrice: 3000 },
    ];
    g.kill('manual stop');
    const v = g.check(decision(), state({ positions }));
    expect(v).toMatchObject({ approved: false, sizeFraction: 0, killed: true });
    expect(v.reasons).toEqual(['system: kill switch engaged (manual stop): flatten all and stop']);
    expect(v.flatten!.orders).toEqual([
      { symbol: 'BTCUSDT', side: 'sell', type: 'market', qty: 0.1, reduceOnly: true, clientOrderId: `kill-BTCUSDT-${NOW}` },
      { symbol: 'ETHUSDT', side: 'buy', type: 'market', qty: 2, reduceOnly: true, clientOrderId: `kill-ETHUSDT-${NOW}` },
    ]);
    expect(g.check(decision(), state({ nowMs: NOW + 86_400_000 })).killed).toBe(true);
    g.rearm();
    expect(g.check(decision(), state()).approved).toBe(true);
  });

  it('rearm(equity) measures the drawdown trigger from then on; snapshot/restore survive a restart', () => {
    const g = new RiskGate();
    const deep = { equity: 84_000, dayStartEquity: 84_000, weekHighEquity: 84_000, peakEquity: 100_000 };
    expect(g.check(decision(), state({ account: deep })).killed).toBe(true);
    g.rearm();
    expect(g.check(decision(), state({ account: deep })).killed).toBe(true); // still 16% under the all-time peak
    g.rearm(84_000);
    expect(g.check(decision(), state({ account: deep })).approved).toBe(true);
    // 90,000 becomes the new high; 76,000 is 15.6% under it -> kill again
    g.check(decision(), state({ account: { ...deep, equity: 90_000, dayStartEquity: 90_000, weekHighEquity: 90_000 } }));
    expect(g.check(decision(), state({ account: { ...deep, equity: 76_000, dayStartEquity: 76_000, weekHighEquity: 90_000 } })).killed).toBe(true);

    const h = new RiskGate();
    h.check(decision(), state({ account: { equity: 96_000, dayStartEquity: 100_000, weekHighEquity: 100_000 } }));
    const snap = h.snapshot();
    expect(snap).toEqual({ haltUntilMs: Date.parse('2026-11-19T00:00:00Z'), killReason: null, peakSinceRearm: null });
    const restarted = new RiskGate();
    restarted.restore(JSON.parse(JSON.stringify(snap)));
    expect(restarted.check(decision(), state()).reasons[0]).toMatch(/daily loss limit hit earlier today/);
  });
});
