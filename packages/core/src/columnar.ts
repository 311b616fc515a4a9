import type { Candle, CandleColumns } from './candle.js';

/** Allocates empty columns for `length` candles. */
export function allocColumns(length: number): CandleColumns {
  return {
    length,
    tsMs: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
    turnover: new Float64Array(length).fill(NaN),
  };
}

/** Candle objects -> columns (one pass). */
export function toColumns(candles: readonly Candle[]): CandleColumns {
  const c = allocColumns(candles.length);
  for (let i = 0; i < candles.length; i++) {
    const k = candles[i]!;
    c.tsMs[i] = k.tsMs;
    c.open[i] = k.open;
    c.high[i] = k.high;
    c.low[i] = k.low;
    c.close[i] = k.close;
    c.volume[i] = k.volume;
    c.turnover[i] = k.turnover ?? NaN;
  }
  return c;
}

/** The candle at row i as an object (turnover omitted where NaN). */
export function candleAt(c: CandleColumns, i: number): Candle {
  const t = c.turnover[i]!;
  const base = { tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! };
  return Number.isNaN(t) ? base : { ...base, turnover: t };
}

/** Columns -> candle objects. */
export function fromColumns(c: CandleColumns): Candle[] {
  const out: Candle[] = new Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = candleAt(c, i);
  return out;
}

/** Rows [start, end) as a view: no copy (subarray). */
export function sliceColumns(c: CandleColumns, start: number, end: number = c.length): CandleColumns {
  const s = Math.max(0, Math.min(start, c.length));
  const e = Math.max(s, Math.min(end, c.length));
  return {
    length: e - s,
    tsMs: c.tsMs.subarray(s, e),
    open: c.open.subarray(s, e),
    high: c.high.subarray(s, e),
    low: c.low.subarray(s, e),
    close: c.close.subarray(s, e),
    volume: c.volume.subarray(s, e),
    turnover: c.turnover.subarray(s, e),
  };
}

/** Concatenates column sets in order (copies). */
export function concatColumns(parts: readonly CandleColumns[]): CandleColumns {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = allocColumns(n);
  let o = 0;
  for (const p of parts) {
    out.tsMs.set(p.tsMs, o);
    out.open.set(p.open, o);
    out.high.set(p.high, o);
    out.low.set(p.low, o);
    out.close.set(p.close, o);
    out.volume.set(p.volume, o);
    out.turnover.set(p.turnover, o);
    o += p.length;
  }
  return out;
}

/** Index of the first row with tsMs >= t (binary search; columns must be sorted). */
export function lowerBound(c: CandleColumns, tsMs: number): number {
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c.tsMs[mid]! < tsMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
