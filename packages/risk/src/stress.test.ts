// Stress scenarios: each drives the gate through an event and checks the documented end state
// and the recorded reasons (see README "Stress scenarios").
import { describe, expect, it } from 'vitest';
import type { TradingDecision } from '@task-agnostic/core';
import { RiskGate } from './gate.js';
import type { OpenPosition, RiskState } from './state.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-18T10:00:00Z'); // a Wednesday
const MIDNIGHT = Date.parse('2026-11-19T00:00:00Z');

const buy = (tsMs: number, symbol = 'BTCUSDT'): TradingDecision => ({
  tsMs,
  symbol,
  action: 'buy',
  side: 'long',
  confidence: 0.8,
  agreement: 0.9,
  sizeFraction: 0.0135, // = the risk formula's size, so the position layer does not shrink it
  stopLossPct: 0.015,
  takeProfitPct: 0.03,
  reasoning: 'stress',
  outputs: { volatility: { expected: 0.01, percentile: 0.5 } },
});
const FULL = 0.02 * 0.6 * 0.75 * 1.5;

function calm(nowMs: number, equity: number, dayStartEquity: number, extra: Partial<RiskState> = {}): RiskState {
  return {
    nowMs,
    account: { equity, dayStartEquity, weekHighEquity: Math.max(100_000, equity), peakEquity: Math.max(100_000, equity) },
    positions: [],
    exchange: { connected: true, lastDataMs: nowMs - 500, rateLimitRemaining: 100 },
    market: { spreadPct: 0.0002, depthNotional: 5_000_000, lastBarMovePct: 0.002 },
    system: { latencyMs: 20, errorRate: 0 },
    ...extra,
  };
}

describe('stress: a 30% crash inside one bar', () => {
  it('10% exposure: circuit breaker + daily loss limit -> halted until the next UTC day, then trading resumes', () => {
    const g = new RiskGate();
    const pos: OpenPosition[] = [{ symbol: 'BTCUSDT', side: 'long', qty: 0.1, markPrice: 70_000 }]; // was 10,000 at 100,000; now 7,000
    const crash = calm(T0, 97_000, 100_000, { positions: pos, market: { spreadPct: 0.004, depthNotional: 200_000, lastBarMovePct: -0.3 } });
    const v = g.check(buy(T0, 'ETHUSDT'), crash);
    expect(v.approved).toBe(false);
    expect(v.reasons).toEqual([
      'account: daily loss 3.00% reached the 3% limit: no new trades until 2026-11-19T00:00:00.000Z',
      'market: circuit breaker: last bar moved -30.0% (limit 8%)',
    ]);
    expect(v.haltedUntilMs).toBe(MIDNIGHT);
    expect(v.killed).toBe(false); // 3% drawdown is far from the 15% kill level
    // An hour later the market is calm and equity recovered a little: still halted for the day.
    const later = g.check(buy(T0 + HOUR), calm(T0 + HOUR, 97_500, 100_000, { positions: pos }));
    expect(later.approved).toBe(false);
    expect(later.reasons).toEqual(['account: daily loss limit hit earlier today: no new trades until 2026-11-19T00:00:00.000Z']);
    // Closing is always allowed.
    expect(g.check({ ...buy(T0 + HOUR), action: 'hold', side: 'flat', sizeFraction: 0 }, calm(T0 + HOUR, 97_500, 100_000)).approved).toBe(true);
    // The next UTC day: a new day's opening equity, trading resumes at full size (week drawdown 2.5% < 5%).
    const next = g.check(buy(MIDNIGHT + HOUR), calm(MIDNIGHT + HOUR, 97_500, 97_500, { positions: pos }));
    expect(next.approved).toBe(true);
    expect(next.sizeFraction).toBeCloseTo(Math.min(FULL, 0.1 - 7_000 / 97_500), 12);
  });

  it('a leveraged book (60% exposure): the 18% drawdown trips the kill switch -> flatten all and stop', () => {
    const g = new RiskGate();
    const pos: OpenPosition[] = [
      { symbol: 'BTCUSDT', side: 'long', qty: 0.6, markPrice: 70_000 },
      { symbol: 'SOLUSDT', side: 'short', qty: 10, markPrice: 150 },
    ];
    const v = g.check(buy(T0, 'ETHUSDT'), calm(T0, 82_000, 100_000, { positions: pos, market: { lastBarMovePct: -0.3 } }));
    expect(v.killed).toBe(true);
    expect(v.reasons).toEqual(['system: kill switch engaged (drawdown 18.00% >= 15%): flatten all and stop']);
    expect(v.flatten!.orders.map((o) => [o.symbol, o.side, o.qty, o.reduceOnly, o.type])).toEqual([
      ['BTCUSDT', 'sell', 0.6, true, 'market'],
      ['SOLUSDT', 'buy', 10, true, 'market'],
    ]);
    // Stopped: even the next day with a recovered account, until a human re-arms.
    const nextDay = g.check(buy(MIDNIGHT + HOUR), calm(MIDNIGHT + HOUR, 99_000, 99_000));
    expect(nextDay.killed).toBe(true);
    expect(nextDay.flatten).toBeUndefined(); // nothing left to flatten
    g.rearm();
    expect(g.check(buy(MIDNIGHT + HOUR), calm(MIDNIGHT + HOUR, 99_000, 99_000)).approved).toBe(true);
  });
});

describe('stress: a flash spike', () => {
  it('the spike bar is vetoed (circuit breaker, then the blown-out spread); the next normal bar trades', () => {
    const g = new RiskGate();
    const spike = g.check(buy(T0), calm(T0, 100_000, 100_000, { market: { lastBarMovePct: 0.12, spreadPct: 0.015, depthNotional: 20_000 } }));
    expect(spike.approved).toBe(false);
    expect(spike.reasons).toEqual(['market: circuit breaker: last bar moved 12.0% (limit 8%)']);
    const wide = g.check(buy(T0 + HOUR), calm(T0 + HOUR, 100_000, 100_000, { market: { lastBarMovePct: -0.05, spreadPct: 0.015 } }));
    expect(wide.reasons).toEqual(['market: spread 1.500% > 0.200%']);
    const after = g.check(buy(T0 + 2 * HOUR), calm(T0 + 2 * HOUR, 100_000, 100_000));
    expect(after.approved).toBe(true);
    expect(after.sizeFraction).toBeCloseTo(FULL, 12);
    expect(g.haltedUntilMs).toBeUndefined(); // a spike with no loss does not halt the day
  });
});

describe('stress: a data outage', () => {
  it('disconnected -> veto; reconnected with stale data -> veto; fresh data -> trade; closing is never blocked', () => {
    const g = new RiskGate();
    const down = g.check(buy(T0), calm(T0, 100_000, 100_000, { exchange: { connected: false, lastDataMs: T0 - 600_000 } }));
    expect(down.approved).toBe(false);
    expect(down.reasons).toEqual(['exchange: not connected']);
    const flat = g.check({ ...buy(T0), action: 'hold', side: 'flat', sizeFraction: 0 }, calm(T0, 100_000, 100_000, { exchange: { connected: false, lastDataMs: T0 - 600_000 } }));
    expect(flat.approved).toBe(true);
    const stale = g.check(buy(T0 + 60_000), calm(T0 + 60_000, 100_000, 100_000, { exchange: { connected: true, lastDataMs: T0 - 600_000, rateLimitRemaining: 100 } }));
    expect(stale.reasons).toEqual(['exchange: market data is stale: last update 660 s ago (limit 120 s)']);
    const back = g.check(buy(T0 + 120_000), calm(T0 + 120_000, 100_000, 100_000));
    expect(back.approved).toBe(true);
  });
});

describe('stress: a run of losses that hits the daily limit', () => {
  it('four losing trades of 0.8% each: the fifth is vetoed and the day is halted; next day resumes', () => {
    const g = new RiskGate();
    let equity = 100_000;
    const results: number[] = [];
    const verdicts: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const now = T0 + i * HOUR;
      const v = g.check(buy(now), calm(now, equity, 100_000, { strategy: { recentTradeReturns: results } }));
      verdicts.push(v.approved);
      if (v.approved) {
        equity *= 1 - 0.008; // each trade gaps through its stop and costs 0.8% of equity
        results.push(-0.008 / v.sizeFraction);
      } else {
        if (i === 4) {
          expect(v.reasons).toEqual([`account: daily loss ${(((100_000 - equity) / 100_000) * 100).toFixed(2)}% reached the 3% limit: no new trades until 2026-11-19T00:00:00.000Z`]);
        } else {
          expect(v.reasons[0]).toMatch(/daily loss limit hit earlier today/);
        }
      }
    }
    expect(verdicts).toEqual([true, true, true, true, false, false]);
    expect(1 - equity / 100_000).toBeCloseTo(1 - 0.992 ** 4, 12); // 3.16%
    expect(g.haltedUntilMs).toBe(MIDNIGHT);
    // Next UTC day: allowed again; 4 trades are fewer than the strategy layer's 5-trade minimum.
    const next = g.check(buy(MIDNIGHT + HOUR), calm(MIDNIGHT + HOUR, equity, equity, { strategy: { recentTradeReturns: results } }));
    expect(next.approved).toBe(true);
    // One more loss makes 5 losing trades: profit factor 0 -> the minimum allocation (x0.25).
    const five = g.check(buy(MIDNIGHT + 2 * HOUR), calm(MIDNIGHT + 2 * HOUR, equity, equity, { strategy: { recentTradeReturns: [...results, -0.5] } }));
    expect(five.sizeFraction).toBeCloseTo(FULL * 0.25, 12);
    expect(five.reasons).toContain('strategy: profit factor 0.00 over the last 5 trades: allocation x0.25 (size 1.350% -> 0.338%)');
  });
});

describe('stress: a latency spike', () => {
  it('over budget -> half size; over the limit -> veto; errors everywhere -> kill switch until rearm', () => {
    const g = new RiskGate();
    const slow = g.check(buy(T0), calm(T0, 100_000, 100_000, { system: { latencyMs: 250, errorRate: 0.01 } }));
    expect(slow.approved).toBe(true);
    expect(slow.sizeFraction).toBeCloseTo(FULL * 0.5, 12);
    expect(slow.reasons).toEqual(['system: latency 250 ms over the 100 ms budget: size x0.5 (size 1.350% -> 0.675%)']);
    const stalled = g.check(buy(T0 + HOUR), calm(T0 + HOUR, 100_000, 100_000, { system: { latencyMs: 2500, errorRate: 0.05 } }));
    expect(stalled.approved).toBe(false);
    expect(stalled.reasons).toEqual(['system: latency 2500 ms > 1000 ms']);
    const failing = g.check(buy(T0 + 2 * HOUR), calm(T0 + 2 * HOUR, 100_000, 100_000, { system: { latencyMs: 3000, errorRate: 0.6 } }));
    expect(failing.killed).toBe(true);
    expect(failing.reasons).toEqual(['system: kill switch engaged (error rate 60.0% >= 50%): flatten all and stop']);
    expect(g.check(buy(T0 + 3 * HOUR), calm(T0 + 3 * HOUR, 100_000, 100_000)).killed).toBe(true);
    g.rearm();
    const ok = g.check(buy(T0 + 3 * HOUR), calm(T0 + 3 * HOUR, 100_000, 100_000));
    expect(ok.approved).toBe(true);
    expect(ok.sizeFraction).toBeCloseTo(FULL, 12);
  });
});
