/** Hand-built candle series for the tests (not exported from the package). */
import { allocColumns, type CandleColumns } from '@task-agnostic/core';

/** Candles from closes; open = previous close; high/low = max/min(open, close) widened by `wick` (fraction) unless given. */
export function candlesFrom(closes: readonly number[], opts: { highs?: readonly number[]; lows?: readonly number[]; wick?: number } = {}): CandleColumns {
  const n = closes.length;
  const c = allocColumns(n);
  const wick = opts.wick ?? 0;
  for (let i = 0; i < n; i++) {
    const close = closes[i]!;
    const open = i > 0 ? closes[i - 1]! : close;
    c.tsMs[i] = 1_700_000_000_000 + i * 3_600_000;
    c.open[i] = open;
    c.close[i] = close;
    c.high[i] = opts.highs?.[i] ?? Math.max(open, close) * (1 + wick);
    c.low[i] = opts.lows?.[i] ?? Math.min(open, close) * (1 - wick);
    c.volume[i] = 1;
  }
  return c;
}

/** A deep copy of candle columns. */
export function cloneCandles(c: CandleColumns): CandleColumns {
  return {
    length: c.length,
    tsMs: c.tsMs.slice(),
    open: c.open.slice(),
    high: c.high.slice(),
    low: c.low.slice(),
    close: c.close.slice(),
    volume: c.volume.slice(),
    turnover: c.turnover.slice(),
  };
}
