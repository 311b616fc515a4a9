import { stepDecimals } from './instruments.js';
import { formatDecimal } from '@task-agnostic/core';
import { BYBIT_INTERVAL, bybitIntervalMs } from '../intervals.js';
import { aggregated, partialBar } from './aggregate.js';
import { syntheticBook } from './book.js';
import type { FeedState, SimMarket } from './market.js';
import { SimReject } from './accounts.js';

export type Query = URLSearchParams;
export type JsonObject = Record<string, unknown>;

const HOUR = 3_600_000;
const FUNDING_MS = 8 * HOUR;
const OI_INTERVALS: Readonly<Record<string, number>> = { '5min': 300_000, '15min': 900_000, '30min': 1_800_000, '1h': HOUR, '4h': 4 * HOUR, '1d': 24 * HOUR };

function intParam(q: Query, name: string, def: number, min: number, max: number): number {
  const s = q.get(name);
  if (s === null || s === '') return def;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new SimReject(10001, `params error: ${name} must be an integer in [${min}, ${max}]`);
  return n;
}

function optTime(q: Query, name: string): number | undefined {
  const s = q.get(name);
  if (s === null || s === '') return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new SimReject(10001, `params error: ${name}`);
  return n;
}

export function requireLinear(q: Query): void {
  const c = q.get('category');
  if (c !== 'linear') throw new SimReject(10001, `params error: category '${c ?? ''}' (the simulator serves linear only)`);
}

export function feedOf(market: SimMarket, symbol: string | null): FeedState {
  const f = symbol ? market.feed(symbol) : undefined;
  if (!f) throw new SimReject(10001, `params error: symbol invalid (${symbol ?? 'missing'})`);
  return f;
}

const encCursor = (n: number): string => Buffer.from(`offset=${n}`).toString('base64url');
function decCursor(s: string | null): number {
  if (!s) return 0;
  const m = /^offset=(\d+)$/.exec(Buffer.from(s, 'base64url').toString());
  if (!m) throw new SimReject(10001, 'params error: cursor');
  return Number(m[1]);
}

export function instrumentsInfo(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const status = q.get('status');
  const symbol = q.get('symbol');
  let feeds = [...market.feeds.values()];
  if (symbol) feeds = feeds.filter((f) => f.symbol === symbol);
  if (status && status !== 'Trading') feeds = [];
  const limit = intParam(q, 'limit', 500, 1, 1000);
  const offset = decCursor(q.get('cursor'));
  const page = feeds.slice(offset, offset + limit);
  const list = page.map((f, k) => {
    const base = f.symbol.replace(/USDT$/, '');
    const r = f.rules;
    const q = (x: number): string => x.toFixed(stepDecimals(r.qtyStep));
    const tick = r.tickSize.toFixed(stepDecimals(r.tickSize));
    return {
      symbol: f.symbol, symbolId: offset + k + 1, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: base, quoteCoin: 'USDT',
      launchTime: String(f.candles.tsMs[0]), deliveryTime: '0', deliveryFeeRate: '', priceScale: String(f.priceDecimals),
      leverageFilter: { minLeverage: '1', maxLeverage: r.maxLeverage.toFixed(2), leverageStep: '0.01' },
      priceFilter: { minPrice: tick, maxPrice: market.fmtPrice(f, 1e7), tickSize: tick },
      lotSizeFilter: {
        maxOrderQty: q(r.maxOrderQty), minOrderQty: q(r.minOrderQty), qtyStep: q(r.qtyStep), postOnlyMaxOrderQty: q(r.maxOrderQty),
        maxMktOrderQty: q(r.maxMktOrderQty), minNotionalValue: String(r.minNotional),
      },
      unifiedMarginTrade: true, fundingInterval: 480, settleCoin: 'USDT', copyTrading: 'both',
      upperFundingRate: '0.00375', lowerFundingRate: '-0.00375', isPreListing: false, preListingInfo: null,
      riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' }, symbolType: '',
    };
  });
  const next = offset + limit < feeds.length ? encCursor(offset + limit) : '';
  return { category: 'linear', list, nextPageCursor: next };
}

/**
 * GET /v5/market/kline: bars with start <= tsMs <= end (tsMs <= now), newest first, at most `limit`:
 * the newest ones, or the oldest from `start` when only `start` is given.
 */
export function kline(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const f = feedOf(market, q.get('symbol'));
  const iv = q.get('interval') ?? '';
  const ivMs = bybitIntervalMs(iv);
  if (ivMs === undefined || ivMs < f.intervalMs || ivMs % f.intervalMs !== 0) {
    throw new SimReject(10001, `params error: interval '${iv}' (the simulator serves ${BYBIT_INTERVAL[f.interval]} for ${f.symbol} and multiples of it)`);
  }
  const limit = intParam(q, 'limit', 200, 1, 1000);
  const start = optTime(q, 'start') ?? -Infinity;
  const end = Math.min(optTime(q, 'end') ?? Infinity, market.nowMs);
  const c = aggregated(f, ivMs);
  const now = market.nowMs;
  // Last index with tsMs <= end.
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c.tsMs[mid]! <= end) lo = mid + 1;
    else hi = mid;
  }
  let hiIdx = lo - 1;
  if (q.get('end') === null && q.get('start') !== null) {
    // Only `start` (as ccxt's fetchOHLCV sends it): the `limit` bars from start on.
    let s = 0;
    let e = c.length;
    while (s < e) {
      const mid = (s + e) >>> 1;
      if (c.tsMs[mid]! < start) s = mid + 1;
      else e = mid;
    }
    hiIdx = Math.min(hiIdx, s + limit - 1);
  }
  const list: string[][] = [];
  for (let i = hiIdx; i >= 0 && list.length < limit && c.tsMs[i]! >= start; i--) {
    if (c.tsMs[i]! + ivMs > now) {
      // The open bar shows only what is known at the clock (no look-ahead into the replay).
      const p = partialBar(market, f, c.tsMs[i]!).map((x) => formatDecimal(x));
      list.push([String(c.tsMs[i]), ...p]);
    } else {
      list.push([String(c.tsMs[i]), formatDecimal(c.open[i]!), formatDecimal(c.high[i]!), formatDecimal(c.low[i]!), formatDecimal(c.close[i]!), formatDecimal(c.volume[i]!), formatDecimal(c.turnover[i]!)]);
    }
  }
  return { category: 'linear', symbol: f.symbol, list };
}

function window24h(market: SimMarket, f: FeedState): { prev: number; high: number; low: number; vol: number; turnover: number; prev1h: number } {
  const n = market.closedCount(f);
  const c = f.candles;
  const from = market.closedCount(f, market.nowMs - 24 * HOUR);
  let high = -Infinity;
  let low = Infinity;
  let vol = 0;
  let turnover = 0;
  for (let i = from; i < n; i++) {
    high = Math.max(high, c.high[i]!);
    low = Math.min(low, c.low[i]!);
    vol += c.volume[i]!;
    turnover += Number.isNaN(c.turnover[i]!) ? c.volume[i]! * c.close[i]! : c.turnover[i]!;
  }
  const prev = from > 0 ? c.close[from - 1]! : c.open[0]!;
  const h1 = market.closedCount(f, market.nowMs - HOUR);
  const prev1h = h1 > 0 ? c.close[h1 - 1]! : c.open[0]!;
  if (high === -Infinity) high = low = market.lastPrice(f);
  return { prev, high, low, vol, turnover, prev1h };
}

export function tickerOf(market: SimMarket, f: FeedState): JsonObject {
  const last = market.lastPrice(f);
  const w = window24h(market, f);
  const book = syntheticBook(market, f, 1, market.closedCount(f));
  const nextFunding = Math.floor(market.nowMs / FUNDING_MS) * FUNDING_MS + FUNDING_MS;
  const oi = market.openInterestAt(f, market.nowMs);
  const p = (x: number): string => market.fmtPrice(f, x);
  return {
    symbol: f.symbol, lastPrice: p(last), indexPrice: p(last), markPrice: p(last), prevPrice24h: p(w.prev),
    price24hPcnt: (last / w.prev - 1).toFixed(6), highPrice24h: p(w.high), lowPrice24h: p(w.low), prevPrice1h: p(w.prev1h),
    openInterest: oi.toFixed(3), openInterestValue: (oi * last).toFixed(2), turnover24h: w.turnover.toFixed(4), volume24h: w.vol.toFixed(4),
    fundingRate: String(market.fundingRateAt(f, market.nowMs)), nextFundingTime: String(nextFunding), predictedDeliveryPrice: '',
    basisRate: '', deliveryFeeRate: '', deliveryTime: '0', ask1Size: book.asks[0]![1], bid1Price: book.bids[0]![0],
    ask1Price: book.asks[0]![0], bid1Size: book.bids[0]![1], basis: '', preOpenPrice: '', preQty: '', curPreListingPhase: '',
    fundingIntervalHour: '8', basisRateYear: '', fundingCap: '0.00375',
  };
}

export function tickers(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const symbol = q.get('symbol');
  const feeds = symbol ? [feedOf(market, symbol)] : [...market.feeds.values()];
  return { category: 'linear', list: feeds.map((f) => tickerOf(market, f)) };
}

export function orderbook(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const f = feedOf(market, q.get('symbol'));
  const limit = intParam(q, 'limit', 25, 1, 500);
  const version = market.closedCount(f);
  const book = syntheticBook(market, f, limit, version);
  return { s: f.symbol, b: book.bids, a: book.asks, ts: market.nowMs, u: version + 1, seq: version + 1, cts: market.nowMs };
}

export function fundingHistory(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const f = feedOf(market, q.get('symbol'));
  const limit = intParam(q, 'limit', 200, 1, 200);
  const first = f.candles.tsMs[0]!;
  const start = Math.max(optTime(q, 'startTime') ?? -Infinity, first);
  const end = Math.min(optTime(q, 'endTime') ?? Infinity, market.nowMs);
  const list: JsonObject[] = [];
  for (let t = Math.floor(end / FUNDING_MS) * FUNDING_MS; t >= start && list.length < limit; t -= FUNDING_MS) {
    list.push({ symbol: f.symbol, fundingRate: String(market.fundingRateAt(f, t)), fundingRateTimestamp: String(t) });
  }
  return { category: 'linear', list };
}

export function openInterest(market: SimMarket, q: Query): JsonObject {
  requireLinear(q);
  const f = feedOf(market, q.get('symbol'));
  const it = q.get('intervalTime') ?? '';
  const step = OI_INTERVALS[it];
  if (!step) throw new SimReject(10001, `params error: intervalTime '${it}' (expected one of ${Object.keys(OI_INTERVALS).join(', ')})`);
  const limit = intParam(q, 'limit', 50, 1, 200);
  const first = f.candles.tsMs[0]!;
  const start = Math.max(optTime(q, 'startTime') ?? -Infinity, first);
  const cur = q.get('cursor');
  let end = Math.min(optTime(q, 'endTime') ?? Infinity, market.nowMs);
  if (cur) {
    const m = /^lasttime=(\d+)$/.exec(Buffer.from(cur, 'base64url').toString());
    if (!m) throw new SimReject(10001, 'params error: cursor');
    end = Math.min(end, Number(m[1]) - 1);
  }
  const list: JsonObject[] = [];
  let t = Math.floor(end / step) * step;
  for (; t >= start && list.length < limit; t -= step) list.push({ openInterest: market.openInterestAt(f, t).toFixed(8), timestamp: String(t) });
  const more = list.length === limit && t >= start;
  const last = list.length ? Number(list[list.length - 1]!.timestamp) : 0;
  return { symbol: f.symbol, category: 'linear', list, nextPageCursor: more ? Buffer.from(`lasttime=${last}`).toString('base64url') : '' };
}

export function serverTime(market: SimMarket): JsonObject {
  return { timeSecond: String(Math.floor(market.nowMs / 1000)), timeNano: `${market.nowMs}000000` };
}
