import { ConfigError, INTERVAL_MS, type CandleColumns, type Interval, type SymbolId } from '@task-agnostic/core';
import { simInstrumentFor, type SimInstrument } from './instruments.js';

/** One replayed symbol: its candles (oldest first) at one base interval. */
export interface SimFeed {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly candles: CandleColumns;
  /** Instrument rules to advertise and enforce (default: SIM_INSTRUMENTS' entry for the symbol, see instruments.ts). */
  readonly instrument?: Partial<SimInstrument>;
}

export interface FeedState extends SimFeed {
  readonly intervalMs: number;
  /** Price tick and quantity step advertised in instruments-info and used for the book. */
  readonly tickSize: number;
  readonly priceDecimals: number;
  readonly qtyStep: number;
  /** The rules advertised in instruments-info and enforced on every order. */
  readonly rules: SimInstrument;
}

/** Decimal places of a tick such as 0.1 or 0.0001. */
function decimalsOf(step: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-9) d++;
  return d;
}

/** A tick of about 1e-6 of the price, as a power of ten (0.1 for BTC near 100k). */
export function tickFor(price: number): number {
  return 10 ** (Math.floor(Math.log10(Math.max(price, 1e-9))) - 6);
}

/**
 * The replayed market: a simulated clock (`nowMs`) over one or more candle feeds. A bar is closed
 * when tsMs + interval <= nowMs; the bar containing nowMs is the open bar.
 */
export class SimMarket {
  readonly feeds = new Map<SymbolId, FeedState>();
  nowMs: number;
  readonly baseIntervalMs: number;

  constructor(feeds: readonly SimFeed[], startMs?: number) {
    if (feeds.length === 0) throw new ConfigError('the simulator needs at least one feed', 'feeds');
    for (const f of feeds) {
      if (f.candles.length === 0) throw new ConfigError(`feed ${f.symbol} has no candles`, 'feeds');
      const ivMs = INTERVAL_MS[f.interval];
      if (!ivMs) throw new ConfigError(`feed ${f.symbol}: unknown interval ${f.interval}`, 'feeds');
      for (let i = 1; i < f.candles.length; i++) {
        if (!(f.candles.tsMs[i]! > f.candles.tsMs[i - 1]!)) throw new ConfigError(`feed ${f.symbol}: timestamps not increasing at row ${i}`, 'feeds');
      }
      const p = f.candles.close[f.candles.length - 1]!;
      const tickSize = tickFor(p);
      const rules = simInstrumentFor(f.symbol, tickSize, f.instrument);
      // Prices are written with the finer of the instrument's tick and the candles' own precision (old data may be finer).
      const priceDecimals = Math.max(decimalsOf(tickSize), decimalsOf(rules.tickSize));
      this.feeds.set(f.symbol, { ...f, intervalMs: ivMs, tickSize, priceDecimals, qtyStep: rules.qtyStep, rules });
    }
    const first = feeds[0]!;
    this.baseIntervalMs = INTERVAL_MS[first.interval];
    const last = first.candles.length - 1;
    this.nowMs = startMs ?? first.candles.tsMs[last]! + this.baseIntervalMs;
  }

  feed(symbol: SymbolId): FeedState | undefined {
    return this.feeds.get(symbol);
  }

  /** Number of closed bars of the feed at time `t` (bars 0..n-1 are closed). */
  closedCount(f: FeedState, t = this.nowMs): number {
    // bars with tsMs <= t - interval
    const lim = t - f.intervalMs;
    let lo = 0;
    let hi = f.candles.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f.candles.tsMs[mid]! <= lim) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the open bar (tsMs <= now < tsMs + interval) or -1. */
  openIndex(f: FeedState, t = this.nowMs): number {
    const n = this.closedCount(f, t);
    if (n < f.candles.length && f.candles.tsMs[n]! <= t) return n;
    return -1;
  }

  /** The last traded price: the close of the last closed bar (the open bar's open before any). */
  lastPrice(f: FeedState): number {
    const n = this.closedCount(f);
    if (n > 0) return f.candles.close[n - 1]!;
    return f.candles.open[0]!;
  }

  fmtPrice(f: FeedState, p: number): string {
    return p.toFixed(f.priceDecimals);
  }

  /** Funding rate settled at `tsMs` (every 8 h): a premium proxy from the 8 h return, capped. */
  fundingRateAt(f: FeedState, tsMs: number): number {
    const n = this.closedCount(f, tsMs);
    const back = this.closedCount(f, tsMs - 8 * 3_600_000);
    if (n === 0 || back === 0) return 0.0001;
    const ret = f.candles.close[n - 1]! / f.candles.close[back - 1]! - 1;
    const r = 0.0001 + 0.05 * ret;
    return Math.round(Math.max(-0.00375, Math.min(0.00375, r)) * 1e8) / 1e8;
  }

  /** Synthetic open interest (base units) at `tsMs`: smooth and deterministic. */
  openInterestAt(f: FeedState, tsMs: number): number {
    const base = 50_000 * (1 + 0.2 * Math.sin(tsMs / (7 * 86_400_000)) + 0.05 * Math.sin(tsMs / 3_600_000));
    return Math.round(base * 1000) / 1000;
  }
}
