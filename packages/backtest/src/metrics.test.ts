import { describe, expect, it } from 'vitest';
import { mean, std } from '@task-agnostic/core';
import type { Trade } from '@task-agnostic/core';
import { computeMetrics } from './metrics.js';
import { monthlyReturns } from './monthly.js';

const trade = (pnl: number, returnPct: number): Trade => ({
  symbol: 'SIM', side: 'long', qty: 1, entryMs: 0, entryPrice: 1, exitMs: 1, exitPrice: 1, exitReason: 'signal', pnl, fees: 0, funding: 0, returnPct,
});

describe('computeMetrics on a fixed equity series (hand-computed)', () => {
  // initial 100, closes 110, 99, 99, 118.8 -> returns +10%, -10%, 0%, +20%
  const m = computeMetrics({
    equity: [110, 99, 99, 118.8],
    initialEquity: 100,
    barsPerYear: 4,
    trades: [trade(10, 0.1), trade(-5, -0.05), trade(20, 0.2), trade(0, 0)],
    exposedBars: 3,
    tradedNotional: 1067,
    feesPaid: 1.5,
    fundingPaid: -0.25,
  });
  it('returns, Sharpe, Sortino', () => {
    expect(m.totalReturn).toBeCloseTo(0.188, 12);
    expect(m.annualizedReturn).toBeCloseTo(0.188, 12); // 4 bars = one year at 4 bars/year
    // mean 0.05; deviations .05 -.15 -.05 .15 -> sum of squares 0.05 / 3
    const sd = Math.sqrt(0.05 / 3);
    expect(m.annualizedVolatility).toBeCloseTo(sd * 2, 12);
    expect(m.sharpe).toBeCloseTo((0.05 / sd) * 2, 12); // 0.7745966
    // downside deviation sqrt(0.1^2 / 4) = 0.05 -> 0.05 / 0.05 x sqrt(4) = 2
    expect(m.sortino).toBeCloseTo(2, 12);
  });
  it('drawdown, its duration and Calmar', () => {
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12); // 110 -> 99
    expect(m.maxDrawdownDurationBars).toBe(2); // two closes below 110, recovered at 118.8
    expect(m.calmar).toBeCloseTo(1.88, 12);
  });
  it('trade statistics, exposure, turnover, costs', () => {
    expect(m.trades).toBe(4);
    expect(m.winRate).toBe(0.5);
    expect(m.profitFactor).toBe(6); // 30 / 5
    expect(m.averageTradePnl).toBe(6.25);
    expect(m.averageTradeReturn).toBeCloseTo(0.0625, 12);
    expect(m.exposure).toBe(0.75);
    expect(m.turnover).toBeCloseTo(10, 12); // 1067 / mean(110, 99, 99, 118.8) = 1067 / 106.7
    expect(m.feesPaid).toBe(1.5);
    expect(m.fundingPaid).toBe(-0.25);
    expect(m.finalEquity).toBe(118.8);
  });
  it('Sharpe agrees with core stats on a long random series', () => {
    let x = 1000;
    const eq: number[] = [];
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      x *= 1 + (seed / 2 ** 31 - 0.49) * 0.02;
      eq.push(x);
    }
    const r = eq.map((e, i) => e / (i === 0 ? 1000 : eq[i - 1]!) - 1);
    const mm = computeMetrics({ equity: eq, initialEquity: 1000, barsPerYear: 8760 });
    expect(mm.sharpe).toBeCloseTo((mean(r) / std(r)) * Math.sqrt(8760), 9);
  });
  it('zero denominators: no losses -> profit factor and Sortino are Infinity; flat series -> 0', () => {
    const up = computeMetrics({ equity: [101, 102], initialEquity: 100, barsPerYear: 1, trades: [trade(1, 0.01)] });
    expect(up.profitFactor).toBe(Infinity);
    expect(up.sortino).toBe(Infinity);
    expect(up.calmar).toBe(Infinity);
    const flat = computeMetrics({ equity: [100, 100], initialEquity: 100, barsPerYear: 1 });
    expect([flat.sharpe, flat.sortino, flat.maxDrawdown, flat.profitFactor, flat.winRate]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('monthlyReturns', () => {
  it('groups by UTC month, chaining each month from the previous month end', () => {
    const ts = ['2024-01-30T00:00Z', '2024-01-31T23:00Z', '2024-02-01T00:00Z', '2024-02-29T23:00Z', '2024-03-01T00:00Z'].map((s) => Date.parse(s));
    const out = monthlyReturns(ts, [101, 102, 103, 91.8, 100.98], 100);
    expect(out.map((m) => [m.year, m.month])).toEqual([[2024, 1], [2024, 2], [2024, 3]]);
    expect(out[0]!.return).toBeCloseTo(0.02, 12);
    expect(out[1]!.return).toBeCloseTo(-0.1, 12);
    expect(out[2]!.return).toBeCloseTo(0.1, 12);
  });
});
