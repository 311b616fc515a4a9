import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, sliceColumns, concatColumns, readCandlesCsvSync, DataError, ConfigError } from '@task-agnostic/core';
import type { CandleColumns, TradingDecision } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { SimulatedAccount } from './account.js';
import { runBacktest, runSignalBacktest } from './engine.js';

/** A strategy that reads closed bars only: long above the 20-bar mean of closes, short below, with stops. */
function smaStrategy(c: CandleColumns, size = 0.8, sl = 0.01, tp = 0.02): (t: number) => TradingDecision | null {
  return (t) => {
    if (t < 20) return null;
    let s = 0;
    for (let i = t - 19; i <= t; i++) s += c.close[i]!;
    const up = c.close[t]! > s / 20;
    return {
      tsMs: c.tsMs[t]!, action: up ? 'buy' : 'sell', side: up ? 'long' : 'short', confidence: 1, agreement: 1,
      sizeFraction: size, stopLossPct: sl, takeProfitPct: tp, reasoning: 'sma',
    };
  };
}

const market = generateSyntheticMarket({ bars: 3000, seed: 11 }).candles;

describe('runBacktest', () => {
  it('no look-ahead: altering later candles leaves every earlier result identical', () => {
    const k = 2000;
    const a = runBacktest(market, smaStrategy(market), { leverage: 3 });
    const tail = sliceColumns(market, k);
    const bent: CandleColumns = concatColumns([sliceColumns(market, 0, k), tail]);
    for (let i = k; i < bent.length; i++) {
      const f = 1 + 0.3 * Math.sin(i);
      bent.open[i]! *= f; bent.high[i]! *= f * 1.01; bent.low[i]! *= f * 0.99; bent.close[i]! *= f;
    }
    const b = runBacktest(bent, smaStrategy(bent), { leverage: 3 });
    expect(Array.from(b.equity.subarray(0, k))).toEqual(Array.from(a.equity.subarray(0, k)));
    const before = (fs: typeof a.fills) => fs.filter((f) => f.tsMs < market.tsMs[k]!);
    expect(before(b.fills)).toEqual(before(a.fills));
    expect(before(a.fills).length).toBeGreaterThan(20);
    expect(Array.from(b.equity.subarray(k))).not.toEqual(Array.from(a.equity.subarray(k)));
  });

  it('the paper account driven bar by bar gives the same fills and equity as the engine', () => {
    const cfg = { leverage: 2, slippage: { model: 'volatility' as const, rangeMultiple: 0.05, minRate: 0.0001 } };
    const decide = smaStrategy(market);
    const bt = runBacktest(market, decide, { ...cfg, closeAtEnd: false });
    const paper = new SimulatedAccount(cfg);
    const eq: number[] = [];
    for (let t = 0; t < market.length; t++) {
      paper.onBar({ tsMs: market.tsMs[t]!, open: market.open[t]!, high: market.high[t]!, low: market.low[t]!, close: market.close[t]!, volume: 1 });
      const d = decide(t);
      if (d) paper.submitDecision(d);
      eq.push(paper.equity);
    }
    expect(paper.fills).toEqual(bt.fills);
    expect(paper.trades).toEqual(bt.trades);
    expect(eq).toEqual(Array.from(bt.equity));
  });

  it('the decider gets the account after bar t (equity, position) for risk checks', () => {
    const seen: [number, number][] = [];
    const inner = smaStrategy(market);
    const r = runBacktest(market, (t, acct) => {
      seen.push([acct.equity, acct.positionQty]);
      return inner(t);
    }, { closeAtEnd: false });
    expect(seen.map((x) => x[0])).toEqual(Array.from(r.equity));
    expect(seen.some((x) => x[1] !== 0)).toBe(true);
  });

  it('the precomputed-signal fast path equals the decision path', () => {
    const decide = smaStrategy(market, 0.6);
    const signal = new Float64Array(market.length).fill(NaN);
    for (let t = 0; t < market.length; t++) {
      const d = decide(t);
      if (d) signal[t] = d.side === 'long' ? d.sizeFraction : -d.sizeFraction;
    }
    const cfg = { stopLossPct: 0.01, takeProfitPct: 0.02 };
    const a = runBacktest(market, decide, cfg);
    const b = runSignalBacktest(market, signal, cfg);
    expect(b.fills).toEqual(a.fills);
    expect(Array.from(b.equity)).toEqual(Array.from(a.equity));
    expect(b.metrics).toEqual(a.metrics);
  });

  it('buy-and-hold benchmark, exposure and annualisation from the interval', () => {
    const r = runSignalBacktest(market, new Float64Array(market.length).fill(0.5), { interval: '1h' });
    expect(r.barsPerYear).toBe(8760);
    expect(r.benchmark[market.length - 1]).toBeCloseTo((10_000 * market.close[market.length - 1]!) / market.open[0]!, 6);
    expect(r.metrics.exposure).toBeCloseTo((market.length - 1) / market.length, 12);
    expect(r.benchmarkMetrics.totalReturn).toBeCloseTo(market.close[market.length - 1]! / market.open[0]! - 1, 12);
    expect(r.monthly.length).toBeGreaterThan(3);
    const chained = r.monthly.reduce((acc, m) => acc * (1 + m.return), 1) - 1;
    expect(chained).toBeCloseTo(r.metrics.totalReturn, 9);
  });

  it('rejects bad input with typed errors naming the problem', () => {
    const bad = concatColumns([sliceColumns(market, 0, 10)]);
    bad.close[5] = NaN;
    expect(() => runBacktest(bad, () => null)).toThrow(/row 5/);
    const unsorted = concatColumns([sliceColumns(market, 5, 10), sliceColumns(market, 0, 5)]);
    expect(() => runBacktest(unsorted, () => null)).toThrow(DataError);
    expect(() => runSignalBacktest(market, new Float64Array(3))).toThrow(/signal has 3/);
    expect(() => runBacktest(market, () => null, { takerFeeRate: 'x' as unknown as number })).toThrow(ConfigError);
    expect(() => runBacktest(market, () => null, { takerFeeRate: 'x' as unknown as number })).toThrow(/takerFeeRate/);
    expect(() => runBacktest(market, () => null, { nonsense: 1 } as never)).toThrow(ConfigError);
  });

  const file = candleFile('bybit_BTCUSDT_1h.csv');
  const ltfFile = candleFile('bybit_BTCUSDT_5m.csv');
  it.skipIf(!file || !ltfFile)('real BTCUSDT 1h with 5m replay: ambiguous bars are resolved from the 5m candles', () => {
    const h1 = readCandlesCsvSync(file!, { interval: '1h' }).candles;
    const m5 = readCandlesCsvSync(ltfFile!, { interval: '5m' }).candles;
    // the 1h rows that the 5m file covers
    let a = 0;
    while (h1.tsMs[a]! < m5.tsMs[0]!) a++;
    let b = a;
    while (b < h1.length && h1.tsMs[b]! + 3_600_000 <= m5.tsMs[m5.length - 1]! + 300_000) b++;
    const c = sliceColumns(h1, a, b);
    const decide = smaStrategy(c, 1, 0.004, 0.004);
    const worst = runBacktest(c, decide, { interval: '1h', leverage: 2 });
    const replay = runBacktest(c, decide, { interval: '1h', leverage: 2 }, { lowerTimeframe: m5 });
    expect(worst.intrabar.rule).toBe('worst_case');
    expect(replay.intrabar.rule).toBe('lower_timeframe');
    expect(replay.intrabar.ambiguousBars).toBeGreaterThan(0);
    expect(replay.intrabar.resolvedByLowerTimeframe + replay.intrabar.resolvedWorstCase).toBe(replay.intrabar.ambiguousBars);
    expect(replay.intrabar.resolvedByLowerTimeframe).toBeGreaterThan(0);
    expect(Number.isFinite(replay.metrics.sharpe)).toBe(true);
    // replay can only help or match where the worst case was assumed: same entries, different exits
    expect(replay.trades.filter((t) => t.exitReason === 'take_profit').length).toBeGreaterThan(worst.trades.filter((t) => t.exitReason === 'take_profit').length);
  });
});
