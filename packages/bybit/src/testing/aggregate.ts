import { allocColumns, type CandleColumns } from '@task-agnostic/core';
import type { FeedState, SimMarket } from './market.js';

/**
 * Base bars grouped into buckets of `aggMs` aligned to the epoch (Bybit aligns 4h, D, ... to UTC):
 * open of the first, max high, min low, close of the last, summed volume and turnover (NaN if any
 * base turnover is missing). Only full source data is used; whether a bucket is closed is decided
 * by the caller against the clock.
 */
export function aggregateColumns(c: CandleColumns, aggMs: number): CandleColumns {
  const out = allocColumns(c.length);
  let n = -1;
  let bucket = NaN;
  for (let i = 0; i < c.length; i++) {
    const b = Math.floor(c.tsMs[i]! / aggMs) * aggMs;
    if (b !== bucket) {
      n++;
      bucket = b;
      out.tsMs[n] = b;
      out.open[n] = c.open[i]!;
      out.high[n] = c.high[i]!;
      out.low[n] = c.low[i]!;
      out.volume[n] = 0;
      out.turnover[n] = 0;
    }
    out.high[n] = Math.max(out.high[n]!, c.high[i]!);
    out.low[n] = Math.min(out.low[n]!, c.low[i]!);
    out.close[n] = c.close[i]!;
    out.volume[n] = out.volume[n]! + c.volume[i]!;
    out.turnover[n] = out.turnover[n]! + c.turnover[i]!;
  }
  const len = n + 1;
  return {
    length: len, tsMs: out.tsMs.slice(0, len), open: out.open.slice(0, len), high: out.high.slice(0, len), low: out.low.slice(0, len),
    close: out.close.slice(0, len), volume: out.volume.slice(0, len), turnover: out.turnover.slice(0, len),
  };
}

const cache = new WeakMap<FeedState, Map<number, CandleColumns>>();

export function aggregated(f: FeedState, aggMs: number): CandleColumns {
  if (aggMs === f.intervalMs) return f.candles;
  let m = cache.get(f);
  if (!m) cache.set(f, (m = new Map()));
  let c = m.get(aggMs);
  if (!c) m.set(aggMs, (c = aggregateColumns(f.candles, aggMs)));
  return c;
}

/**
 * The still-open bucket starting at `bucketMs` as known at the market's clock: built from the base
 * bars of the bucket that have closed (only its open when none has), so nothing leaks ahead.
 */
export function partialBar(market: SimMarket, f: FeedState, bucketMs: number): [number, number, number, number, number, number] {
  const c = f.candles;
  const end = market.closedCount(f);
  let i = end;
  while (i > 0 && c.tsMs[i - 1]! >= bucketMs) i--;
  const first = i < c.length && c.tsMs[i]! >= bucketMs ? i : -1;
  if (first < 0) return [NaN, NaN, NaN, NaN, 0, 0];
  const o = c.open[first]!;
  if (first >= end) return [o, o, o, o, 0, 0];
  let h = -Infinity;
  let l = Infinity;
  let v = 0;
  let t = 0;
  for (let k = first; k < end; k++) {
    h = Math.max(h, c.high[k]!);
    l = Math.min(l, c.low[k]!);
    v += c.volume[k]!;
    t += c.turnover[k]!;
  }
  return [o, h, l, c.close[end - 1]!, v, t];
}
