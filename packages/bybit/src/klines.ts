import { allocColumns, ConfigError, INTERVAL_MS, type CandleColumns, type Interval, type SymbolId } from '@task-agnostic/core';
import { BybitProtocolError } from './errors.js';
import { toBybitInterval } from './intervals.js';
import type { BybitTransport } from './transport.js';
import { list, num } from './wire.js';

/** Bybit returns at most 1000 klines per call. */
export const KLINE_PAGE_LIMIT = 1000;

export interface KlinePage {
  /** Closed candles of this page, oldest first. */
  readonly candles: CandleColumns;
  /** The window asked for: start times in [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Server time of the response. */
  readonly serverTimeMs: number;
}

function checkRange(startMs: number, endMs: number): void {
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) throw new ConfigError('startMs and endMs must be finite epoch milliseconds', 'startMs');
  if (endMs < startMs) throw new ConfigError(`endMs (${endMs}) is before startMs (${startMs})`, 'endMs');
}

/**
 * Closed candles with start times in [startMs, endMs), one page (<= 1000 bars) at a time, oldest
 * page first. Each call asks for one 1000-bar window; Bybit answers newest first, so each page is
 * reversed; the bar still open at the server's time is dropped.
 */
export async function* klinePages(t: BybitTransport, symbol: SymbolId, interval: Interval, startMs: number, endMs: number): AsyncGenerator<KlinePage> {
  checkRange(startMs, endMs);
  const iv = INTERVAL_MS[interval];
  const bi = toBybitInterval(interval);
  const first = Math.ceil(startMs / iv) * iv;
  for (let from = first; from < endMs; from += KLINE_PAGE_LIMIT * iv) {
    const to = Math.min(from + KLINE_PAGE_LIMIT * iv, endMs);
    const res = await t.request<unknown>('public', 'GET', 'v5/market/kline', {
      category: 'linear', symbol, interval: bi, start: from, end: to - 1, limit: KLINE_PAGE_LIMIT,
    });
    const rows = list<unknown[]>(res.result, 'kline');
    const serverTime = res.timeMs;
    const out = allocColumns(rows.length);
    let n = 0;
    let prev = -Infinity;
    for (let k = rows.length - 1; k >= 0; k--) {
      const r = rows[k];
      if (!Array.isArray(r) || r.length < 6) throw new BybitProtocolError('/v5/market/kline', `row ${k} is not [start, o, h, l, c, volume, turnover]`);
      const ts = num(r[0], 'kline.start');
      if (ts < from || ts >= to) continue;
      if (Number.isFinite(serverTime) && ts + iv > serverTime) continue; // still open
      if (ts <= prev) throw new BybitProtocolError('/v5/market/kline', `rows not newest-first (start ${ts} after ${prev})`);
      prev = ts;
      out.tsMs[n] = ts;
      out.open[n] = num(r[1], 'kline.open');
      out.high[n] = num(r[2], 'kline.high');
      out.low[n] = num(r[3], 'kline.low');
      out.close[n] = num(r[4], 'kline.close');
      out.volume[n] = num(r[5], 'kline.volume');
      out.turnover[n] = num(r[6], 'kline.turnover', true);
      n++;
    }
    yield { candles: n === rows.length ? out : shrink(out, n), fromMs: from, toMs: to, serverTimeMs: serverTime };
    if (Number.isFinite(serverTime) && to > serverTime) return; // nothing later can be closed yet
  }
}

function shrink(c: CandleColumns, n: number): CandleColumns {
  return {
    length: n, tsMs: c.tsMs.slice(0, n), open: c.open.slice(0, n), high: c.high.slice(0, n), low: c.low.slice(0, n),
    close: c.close.slice(0, n), volume: c.volume.slice(0, n), turnover: c.turnover.slice(0, n),
  };
}

/** Appends columns into growable storage without per-bar objects. */
export class ColumnBuilder {
  private cols = allocColumns(1024);
  length = 0;

  append(c: CandleColumns): void {
    if (this.length + c.length > this.cols.length) {
      let cap = this.cols.length;
      while (cap < this.length + c.length) cap *= 2;
      const next = allocColumns(cap);
      for (const k of ['tsMs', 'open', 'high', 'low', 'close', 'volume', 'turnover'] as const) next[k].set(this.cols[k].subarray(0, this.length));
      this.cols = next;
    }
    for (const k of ['tsMs', 'open', 'high', 'low', 'close', 'volume', 'turnover'] as const) this.cols[k].set(c[k].subarray(0, c.length), this.length);
    this.length += c.length;
  }

  build(): CandleColumns {
    return shrink(this.cols, this.length);
  }
}

export async function fetchKlines(t: BybitTransport, symbol: SymbolId, interval: Interval, startMs: number, endMs: number, onPage?: (p: KlinePage) => void): Promise<CandleColumns> {
  const b = new ColumnBuilder();
  for await (const p of klinePages(t, symbol, interval, startMs, endMs)) {
    b.append(p.candles);
    onPage?.(p);
  }
  return b.build();
}
