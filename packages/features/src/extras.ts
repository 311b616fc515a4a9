/**
 * Optional extra data (orderbook, trades, funding, open interest) and its alignment to candles
 * without look-ahead: an observation made at time s is usable for the first candle whose CLOSE
 * time (tsMs + interval) is >= s, and for every later candle until a newer one arrives. Trades are
 * summed per candle (each trade counted once, in the first candle that closes at or after it).
 * Batch and streaming feed the same ExtrasState, so they align identically.
 */
import { DataError } from '@task-agnostic/core';
import type { BarContext } from './context.js';

/** One L2 snapshot; levels are [price, size], best first. */
export interface OrderbookSnapshot {
  readonly tsMs: number;
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
}
/** One public trade; `side` is the taker side. */
export interface TradePrint {
  readonly tsMs: number;
  readonly qty: number;
  readonly side: 'buy' | 'sell';
}
/** A timestamped scalar: a funding rate or an open-interest reading. */
export interface TimedValue {
  readonly tsMs: number;
  readonly value: number;
}
/** Extra data for a batch, each list sorted by tsMs. */
export interface FeatureExtras {
  readonly orderbook?: readonly OrderbookSnapshot[];
  readonly trades?: readonly TradePrint[];
  readonly funding?: readonly TimedValue[];
  readonly openInterest?: readonly TimedValue[];
}
/** Extra data that arrived since the previous candle, given with the candle it belongs to. */
export interface StreamingExtras {
  readonly orderbook?: OrderbookSnapshot;
  readonly trades?: readonly TradePrint[];
  readonly funding?: TimedValue;
  readonly openInterest?: TimedValue;
}

export type ExtraGroup = 'orderbook' | 'trades' | 'funding' | 'openInterest';

function bad(group: string, index: number | null, what: string): never {
  throw new DataError(`extras.${group}${index === null ? '' : `[${index}]`}: ${what}`);
}

/** Checks one list: finite, non-decreasing tsMs; each item's values finite. */
export function validateExtras(extras: FeatureExtras): void {
  const check = <T extends { tsMs: number }>(group: string, list: readonly T[] | undefined, item: (x: T, i: number) => void) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) bad(group, null, 'must be an array sorted by tsMs');
    let prev = -Infinity;
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      if (!Number.isFinite(x.tsMs)) bad(group, i, `tsMs is ${x.tsMs}, not a finite number`);
      if (x.tsMs < prev) bad(group, i, `tsMs ${x.tsMs} is before the previous ${prev}: sort by tsMs`);
      prev = x.tsMs;
      item(x, i);
    }
  };
  check('orderbook', extras.orderbook, (x, i) => checkBook(x, i));
  check('trades', extras.trades, (x, i) => checkTrade(x, i));
  check('funding', extras.funding, (x, i) => checkValue('funding', x, i));
  check('openInterest', extras.openInterest, (x, i) => checkValue('openInterest', x, i));
}

function checkBook(b: OrderbookSnapshot, i: number | null): void {
  for (const side of ['bids', 'asks'] as const) {
    const levels = b[side];
    if (!Array.isArray(levels)) bad('orderbook', i, `${side} must be an array of [price, size]`);
    for (let k = 0; k < levels.length; k++) {
      const l = levels[k]!;
      if (!Number.isFinite(l[0]) || !Number.isFinite(l[1]) || l[0] <= 0 || l[1] < 0) {
        bad('orderbook', i, `${side}[${k}] = [${l[0]}, ${l[1]}] is not a positive price and non-negative size`);
      }
    }
  }
}
function checkTrade(t: TradePrint, i: number | null): void {
  if (!Number.isFinite(t.qty) || t.qty < 0) bad('trades', i, `qty is ${t.qty}, not a non-negative number`);
  if (t.side !== 'buy' && t.side !== 'sell') bad('trades', i, `side is '${String(t.side)}', use 'buy' or 'sell'`);
}
function checkValue(group: string, v: TimedValue, i: number | null): void {
  if (!Number.isFinite(v.value)) bad(group, i, `value is ${v.value}, not a finite number`);
}

/** The latest known extras, copied into the bar context once per bar. */
export class ExtrasState {
  private bestBid = NaN;
  private bestAsk = NaN;
  private readonly bidDepth: Float64Array;
  private readonly askDepth: Float64Array;
  private buy = 0;
  private sell = 0;
  private funding = NaN;
  private oi = NaN;
  private lastTs: Record<ExtraGroup, number> = { orderbook: -Infinity, trades: -Infinity, funding: -Infinity, openInterest: -Infinity };

  constructor(private readonly levels: number) {
    this.bidDepth = new Float64Array(Math.max(1, levels));
    this.askDepth = new Float64Array(Math.max(1, levels));
  }

  setBook(b: OrderbookSnapshot): void {
    this.bestBid = b.bids.length ? b.bids[0]![0] : NaN;
    this.bestAsk = b.asks.length ? b.asks[0]![0] : NaN;
    let cb = 0;
    let ca = 0;
    for (let k = 0; k < this.levels; k++) {
      if (k < b.bids.length) cb += b.bids[k]![1];
      if (k < b.asks.length) ca += b.asks[k]![1];
      this.bidDepth[k] = cb;
      this.askDepth[k] = ca;
    }
  }
  addTrade(t: TradePrint): void {
    if (t.side === 'buy') this.buy += t.qty;
    else this.sell += t.qty;
  }
  setFunding(v: TimedValue): void {
    this.funding = v.value;
  }
  setOpenInterest(v: TimedValue): void {
    this.oi = v.value;
  }

  /** Copies the state into ctx and starts a new per-candle trade sum. */
  fill(ctx: BarContext): void {
    ctx.bestBid = this.bestBid;
    ctx.bestAsk = this.bestAsk;
    ctx.bidDepth.set(this.bidDepth);
    ctx.askDepth.set(this.askDepth);
    ctx.buyVolume = this.buy;
    ctx.sellVolume = this.sell;
    ctx.fundingRate = this.funding;
    ctx.openInterest = this.oi;
    this.buy = 0;
    this.sell = 0;
  }

  /**
   * Streaming: applies what arrived with a candle closing at `closeMs`. Anything stamped after the
   * close would be look-ahead and anything older than what was already applied is out of order:
   * both are DataErrors.
   */
  applyStreaming(extras: StreamingExtras, closeMs: number): void {
    const guard = (group: ExtraGroup, ts: number) => {
      if (!Number.isFinite(ts)) bad(group, null, `tsMs is ${ts}, not a finite number`);
      if (ts > closeMs) bad(group, null, `tsMs ${ts} is after this candle's close ${closeMs} (look-ahead); give it with a later candle`);
      if (ts < this.lastTs[group]) bad(group, null, `tsMs ${ts} is before the previous ${this.lastTs[group]}: give extras in time order`);
      this.lastTs[group] = ts;
    };
    if (extras.orderbook) {
      guard('orderbook', extras.orderbook.tsMs);
      checkBook(extras.orderbook, null);
      this.setBook(extras.orderbook);
    }
    if (extras.trades) {
      for (const t of extras.trades) {
        guard('trades', t.tsMs);
        checkTrade(t, null);
        this.addTrade(t);
      }
    }
    if (extras.funding) {
      guard('funding', extras.funding.tsMs);
      checkValue('funding', extras.funding, null);
      this.setFunding(extras.funding);
    }
    if (extras.openInterest) {
      guard('openInterest', extras.openInterest.tsMs);
      checkValue('openInterest', extras.openInterest, null);
      this.setOpenInterest(extras.openInterest);
    }
  }
}

/** Batch: walks the sorted lists alongside the candles (one pointer per list). */
export class ExtrasCursor {
  private ob = 0;
  private tr = 0;
  private fu = 0;
  private oi = 0;
  constructor(
    private readonly extras: FeatureExtras,
    readonly state: ExtrasState,
  ) {}
  /** Applies every observation stamped at or before `closeMs`. */
  advance(closeMs: number): void {
    const e = this.extras;
    const s = this.state;
    if (e.orderbook) {
      let last = -1;
      while (this.ob < e.orderbook.length && e.orderbook[this.ob]!.tsMs <= closeMs) last = this.ob++;
      if (last >= 0) s.setBook(e.orderbook[last]!);
    }
    if (e.trades) while (this.tr < e.trades.length && e.trades[this.tr]!.tsMs <= closeMs) s.addTrade(e.trades[this.tr++]!);
    if (e.funding) while (this.fu < e.funding.length && e.funding[this.fu]!.tsMs <= closeMs) s.setFunding(e.funding[this.fu++]!);
    if (e.openInterest) while (this.oi < e.openInterest.length && e.openInterest[this.oi]!.tsMs <= closeMs) s.setOpenInterest(e.openInterest[this.oi++]!);
  }
}
