import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, holdDecision, type CandleColumns, type TradingDecision } from '@task-agnostic/core';
import { runBacktest } from './engine.js';
import { runPortfolioBacktest } from './portfolio-engine.js';
import { PortfolioAccount } from './portfolio-account.js';

const H = 3_600_000;
const cols = (bars: [number, number, number, number][]): CandleColumns => ({
  length: bars.length,
  tsMs: Float64Array.from(bars, (_b, i) => i * H),
  open: Float64Array.from(bars, (b) => b[0]),
  high: Float64Array.from(bars, (b) => b[1]),
  low: Float64Array.from(bars, (b) => b[2]),
  close: Float64Array.from(bars, (b) => b[3]),
  volume: new Float64Array(bars.length).fill(1),
  turnover: new Float64Array(bars.length).fill(1),
});
const long = (tsMs: number, sizeFraction: number): TradingDecision => ({ ...holdDecision(tsMs, 'test'), action: 'buy', side: 'long', sizeFraction, confidence: 1, agreement: 1 });
const free = { initialEquity: 1000, takerFeeRate: 0, makerFeeRate: 0, slippage: { model: 'fixed', rate: 0 }, interval: '1h', closeAtEnd: false } as const;

describe('runPortfolioBacktest', () => {
  // A rises 100 -> 110 in bar 1; B rises 50 -> 60 in bar 2.
  const A = cols([[100, 100, 100, 100], [100, 110, 100, 110], [110, 110, 110, 110], [110, 110, 110, 110]]);
  const B = cols([[50, 50, 50, 50], [50, 50, 50, 50], [50, 60, 50, 60], [60, 60, 60, 60]]);

  it('sizes every target on the one wallet (hand-computed)', () => {
    const r = runPortfolioBacktest({ A, B }, (t, s) => (s === 'A' && t === 0 ? long(0, 0.5) : s === 'B' && t === 1 ? long(H, 0.5) : null), free);
    // A: 0.5 x 1000 / 100 = 5 at bar 1's open; +5 x 10 = 50 by its close.
    expect(r.bySymbol.A!.fills.map((f) => [f.qty, f.price])).toEqual([[5, 100]]);
    // B at bar 2's open: portfolio equity 1050 (A marked at bar 1's close) -> 0.5 x 1050 / 50 = 10.5 (a lone account: 10)
    expect(r.bySymbol.B!.fills.map((f) => [f.qty, f.price])).toEqual([[10.5, 50]]);
    expect(Array.from(r.equity)).toEqual([1000, 1050, 1050 + 10.5 * 10, 1155]);
  });

  it('a target fits in what the other positions leave of the margin', () => {
    const r = runPortfolioBacktest({ A, B }, (t, s) => (s === 'A' && t === 0 ? long(0, 0.9) : s === 'B' && t === 1 ? long(H, 0.5) : null), free);
    // A: 9 @ 100 holds 900 margin (leverage 1); at bar 2's open equity 1090, 190 left -> B 190 / 50 = 3.8
    expect(r.bySymbol.A!.fills[0]!.qty).toBe(9);
    expect(r.bySymbol.B!.fills[0]!.qty).toBeCloseTo(3.8, 12);
    expect(r.account.account('B').clippedTargets).toBe(1);
  });

  it('one symbol gives exactly runBacktest (same fills, equity and trades)', () => {
    const m = generateSyntheticMarket({ bars: 1500, seed: 5, interval: '1h' }).candles;
    const decide = (t: number): TradingDecision | null => {
      if (t < 20 || t % 7 !== 0) return null;
      const up = m.close[t]! > m.close[t - 20]!;
      return { ...long(m.tsMs[t]!, 0.6), side: up ? 'long' : 'short', action: up ? 'buy' : 'sell', stopLossPct: 0.02, takeProfitPct: 0.03 };
    };
    const cfg = { interval: '1h', takerFeeRate: 0.00055, leverage: 3, qtyStep: 0.001, symbol: 'BTCUSDT' } as const;
    const one = runBacktest(m, (t) => decide(t), cfg);
    const pf = runPortfolioBacktest({ BTCUSDT: m }, (t) => decide(t), cfg);
    expect(Array.from(pf.equity)).toEqual(Array.from(one.equity));
    expect(pf.fills).toEqual(one.fills);
    expect(pf.trades.length).toBeGreaterThan(20);
    expect(pf.trades).toEqual(one.trades);
  });

  it('the merged trade list read every bar follows every new trade of every symbol (cached, never stale)', () => {
    const m = generateSyntheticMarket({ bars: 600, seed: 9, interval: '1h' }).candles;
    const seen: number[] = [];
    const decide = (t: number, s: string, pf: PortfolioAccount): TradingDecision | null => {
      if (s === 'A') seen.push(pf.trades.length);
      if (t < 20 || t % 5 !== 0) return null;
      const up = m.close[t]! > m.close[t - 10]!;
      const d = { ...long(m.tsMs[t]!, 0.3), side: up ? 'long' : 'short', action: up ? 'buy' : 'sell', stopLossPct: 0.01, takeProfitPct: 0.01 } as TradingDecision;
      return s === 'A' ? d : { ...d, side: up ? 'short' : 'long', action: up ? 'sell' : 'buy' };
    };
    const r = runPortfolioBacktest({ A: m, B: m }, decide, { interval: '1h', takerFeeRate: 0.00055 });
    const byExit = [...r.bySymbol.A!.trades, ...r.bySymbol.B!.trades];
    expect(r.trades.length).toBe(byExit.length);
    expect(r.trades.length).toBeGreaterThan(20);
    // What the decider saw at each bar is the number of trades closed before that bar, recomputed from scratch.
    const exits = byExit.map((x) => x.exitMs).sort((a, b) => a - b);
    const distinct = new Set(seen).size;
    expect(distinct).toBeGreaterThan(10);
    for (let t = 1; t < seen.length; t++) expect(seen[t]!).toBeGreaterThanOrEqual(seen[t - 1]!);
    expect(seen[seen.length - 1]!).toBe(exits.filter((x) => x < m.tsMs[m.length - 1]!).length);
    // Sorted by exit time, the same objects as the per-symbol lists.
    for (let i = 1; i < r.trades.length; i++) expect(r.trades[i]!.exitMs).toBeGreaterThanOrEqual(r.trades[i - 1]!.exitMs);
  });

  it('refuses series that are not aligned, naming the symbol and row', () => {
    const B2 = { ...B, tsMs: Float64Array.from([0, H, 3 * H, 4 * H]) };
    expect(() => runPortfolioBacktest({ A, B: B2 }, () => null, free)).toThrow(/B row 2 is at 10800000, A at 7200000: align the series first/);
    expect(() => new PortfolioAccount(['A', 'A'])).toThrow(/listed twice/);
  });
});
