import { inspect } from 'node:util';
import {
  ConfigError, INTERVAL_MS, type Balance, type CandleColumns, type ClosedCandle, type Exchange, type Interval, type Order, type OrderRequest,
  type Position, type SymbolId, type Unsubscribe,
} from '@task-agnostic/core';
import type { CandleStreamOptions } from './candle-stream.js';
import { parseClientOptions, type BybitClientOptions, type BybitMode, type ResolvedEndpoints } from './config.js';
import { downloadCandles, type DownloadOptions, type DownloadResult } from './download.js';
import { BybitApiError, BybitProtocolError } from './errors.js';
import { toBybitInterval } from './intervals.js';
import { fetchKlines, type KlinePage } from './klines.js';
import { findOrderByLinkId, placeOrderIdempotent, type PlaceOutcome } from './orders.js';
import { BybitStreams } from './streams.js';
import { BybitPrivateStream, type PrivateHandlers } from './private-stream.js';
import { BybitTransport, type TransportDeps } from './transport.js';
import {
  list, num, parseInstrument, parseWallet, parseLevels, parseOrder, parsePosition, parseTicker, type FundingRate, type Instrument, type OpenInterestPoint,
  type OrderBookSnapshot, type Ticker,
} from './wire.js';

export type OpenInterestInterval = '5min' | '15min' | '30min' | '1h' | '4h' | '1d';

/**
 * A typed Bybit v5 client (linear perpetuals) over ccxt, implementing core's `Exchange`.
 * Keys live in private fields: toJSON(), util.inspect and error messages never show them.
 */
export class BybitClient implements Exchange {
  readonly name = 'bybit';
  readonly mode: BybitMode;
  readonly endpoints: ResolvedEndpoints;
  readonly #options: BybitClientOptions;
  readonly #transport: BybitTransport;
  readonly #deps: TransportDeps;
  #streams: BybitStreams | undefined;
  readonly #streamErrors: Error[] = [];

  constructor(options: unknown, deps: TransportDeps = {}) {
    const { options: o, endpoints } = parseClientOptions(options);
    this.#options = o;
    this.mode = o.mode;
    this.endpoints = endpoints;
    this.#deps = deps;
    this.#transport = new BybitTransport(o, endpoints, deps);
  }

  get hasKeys(): boolean {
    return this.#transport.hasKeys;
  }

  /** Request counters (requests, retries, rate-limit waits). */
  get requestStats(): BybitTransport['stats'] {
    return this.#transport.stats;
  }

  /** Fewest requests left in any private endpoint's rate-limit window (undefined before the first signed response). */
  rateLimitRemaining(): number | undefined {
    return this.#transport.rateLimitRemaining();
  }

  /**
   * Bybit's recv window of signed requests (ms): a signed request the exchange has not processed by
   * its timestamp plus this is refused, so an order that timed out (or was in flight at a crash)
   * can no longer appear after the last signing time plus this window.
   */
  get recvWindowMs(): number {
    return this.#options.recvWindowMs;
  }

  /** Recent errors reported by streams (reconnects and backfills recover from them). */
  get streamErrors(): readonly Error[] {
    return this.#streamErrors;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, mode: this.mode, endpoints: this.endpoints, hasKeys: this.hasKeys, apiKey: this.hasKeys ? '[REDACTED]' : undefined };
  }

  [inspect.custom](): string {
    return `BybitClient ${JSON.stringify(this.toJSON())}`;
  }


  // ---- market data -------------------------------------------------------------------------

  async serverTime(): Promise<number> {
    const r = await this.#transport.request<{ timeSecond?: string; timeNano?: string }>('public', 'GET', 'v5/market/time', {});
    if (Number.isFinite(r.timeMs)) return r.timeMs;
    return Math.floor(num(r.result.timeNano, 'timeNano') / 1e6);
  }

  /** Linear instruments (all, or one symbol), following nextPageCursor (pageSize <= 1000). */
  async instruments(symbol?: SymbolId, pageSize = 1000): Promise<Instrument[]> {
    const out: Instrument[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.#transport.request<{ nextPageCursor?: string }>('public', 'GET', 'v5/market/instruments-info', {
        category: 'linear', limit: pageSize, ...(symbol ? { symbol } : {}), ...(cursor ? { cursor } : {}),
      });
      for (const row of list<Record<string, unknown>>(r.result, 'instruments-info')) out.push(parseInstrument(row));
      cursor = r.result.nextPageCursor || undefined;
      if (!cursor) return out;
    }
    throw new BybitProtocolError('/v5/market/instruments-info', 'more than 1000 pages: cursor does not advance');
  }

  /** Closed candles in [startMs, endMs), oldest first, paging 1000 bars per request. */
  fetchCandles(symbol: SymbolId, interval: Interval, startMs: number, endMs: number, onPage?: (p: KlinePage) => void): Promise<CandleColumns> {
    return fetchKlines(this.#transport, symbol, interval, startMs, endMs, onPage);
  }

  /** Resumable download into a CSV file (core's format) with a progress bar. */
  downloadCandles(options: DownloadOptions): Promise<DownloadResult> {
    return downloadCandles(this.#transport, options);
  }

  async ticker(symbol: SymbolId): Promise<Ticker> {
    const r = await this.#transport.request<unknown>('public', 'GET', 'v5/market/tickers', { category: 'linear', symbol });
    const row = list<Record<string, unknown>>(r.result, 'tickers')[0];
    if (!row) throw new BybitProtocolError('/v5/market/tickers', `no ticker for ${symbol}`);
    return parseTicker(row);
  }

  async orderBook(symbol: SymbolId, depth = 50): Promise<OrderBookSnapshot> {
    const r = await this.#transport.request<Record<string, unknown>>('public', 'GET', 'v5/market/orderbook', { category: 'linear', symbol, limit: depth });
    return { symbol, bids: parseLevels(r.result.b, 'b'), asks: parseLevels(r.result.a, 'a'), updateId: num(r.result.u, 'u'), tsMs: num(r.result.ts, 'ts') };
  }

  /** Funding-rate history in [startMs, endMs], oldest first (pages of 200, walking back). */
  async fundingHistory(symbol: SymbolId, startMs: number, endMs: number): Promise<FundingRate[]> {
    const out: FundingRate[] = [];
    let end = endMs;
    while (end >= startMs) {
      const r = await this.#transport.request<unknown>('public', 'GET', 'v5/market/funding/history', { category: 'linear', symbol, startTime: startMs, endTime: end, limit: 200 });
      const rows = list<Record<string, unknown>>(r.result, 'funding/history');
      for (const row of rows) out.push({ symbol, rate: num(row.fundingRate, 'fundingRate'), tsMs: num(row.fundingRateTimestamp, 'fundingRateTimestamp') });
      if (rows.length < 200) break;
      end = num(rows[rows.length - 1]!.fundingRateTimestamp, 'fundingRateTimestamp') - 1;
    }
    return dedupeSorted(out);
  }

  /** Open interest in [startMs, endMs], oldest first (cursor paging, 200 per page). */
  async openInterest(symbol: SymbolId, intervalTime: OpenInterestInterval, startMs: number, endMs: number): Promise<OpenInterestPoint[]> {
    const out: OpenInterestPoint[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const r = await this.#transport.request<{ nextPageCursor?: string }>('public', 'GET', 'v5/market/open-interest', {
        category: 'linear', symbol, intervalTime, startTime: startMs, endTime: endMs, limit: 200, ...(cursor ? { cursor } : {}),
      });
      for (const row of list<Record<string, unknown>>(r.result, 'open-interest')) out.push({ tsMs: num(row.timestamp, 'timestamp'), openInterest: num(row.openInterest, 'openInterest') });
      cursor = r.result.nextPageCursor || undefined;
      if (!cursor) break;
    }
    return dedupeSorted(out);
  }

  // ---- streams -----------------------------------------------------------------------------

  /** The public WebSocket streams (one connection, opened on first use). */
  get streams(): BybitStreams {
    if (!this.#streams) {
      const ws = this.#options.ws;
      this.#streams = new BybitStreams(this.endpoints.wsPublicUrl, { ...ws, random: this.#deps.random }, {
        closedSince: async (symbol, interval, fromMs) => this.fetchCandles(symbol, interval, fromMs, (await this.serverTime()) + 1),
        lastClosedTs: async (symbol, interval) => {
          const now = await this.serverTime();
          const c = await this.fetchCandles(symbol, interval, now - 1000 * INTERVAL_MS[interval], now + 1); // one request
          return c.length ? c.tsMs[c.length - 1] : undefined;
        },
      }, (e) => {
        this.#streamErrors.push(e);
        if (this.#streamErrors.length > 100) this.#streamErrors.shift();
      });
    }
    return this.#streams;
  }

  /**
   * The private WebSocket (order / execution / position / wallet pushes). Needs keys and, in
   * custom mode, `wsPrivateUrl`. The secret signs the auth inside a closure; it is never stored on
   * the stream.
   */
  privateStream(handlers: PrivateHandlers): BybitPrivateStream {
    this.#needKeys('privateStream');
    const url = this.endpoints.wsPrivateUrl;
    if (!url) throw new ConfigError("privateStream needs wsPrivateUrl in mode 'custom'", 'wsPrivateUrl');
    return new BybitPrivateStream(url, { ...this.#options.ws, random: this.#deps.random }, this.#options.apiKey!, BybitPrivateStream.signer(this.#options.apiSecret!), handlers);
  }

  /** core's Exchange.streamCandles: every closed candle exactly once, in order (backfilled over REST). */
  async streamCandles(symbols: readonly SymbolId[], interval: Interval, onCandle: (c: ClosedCandle) => void, options: CandleStreamOptions = {}): Promise<Unsubscribe> {
    toBybitInterval(interval);
    const { unsubscribe } = await this.streams.klines(symbols, interval, onCandle, options);
    return unsubscribe;
  }

  // ---- trading -----------------------------------------------------------------------------

  #needKeys(what: string): void {
    if (!this.hasKeys) throw new ConfigError(`${what} needs apiKey and apiSecret`, 'apiKey');
  }

  /** Places an order (idempotent by clientOrderId = orderLinkId; see placeOrderIdempotent). */
  async placeOrder(req: OrderRequest): Promise<Order> {
    return (await this.placeOrderDetailed(req)).order;
  }

  async placeOrderDetailed(req: OrderRequest): Promise<PlaceOutcome> {
    this.#needKeys('placeOrder');
    return placeOrderIdempotent(this.#transport, req, this.#options.maxRetries + 1);
  }

  /**
   * Sets the leverage of a symbol (both sides; one-way mode). Bybit's 110043 "leverage not modified"
   * means it already is: not an error. Returns whether it changed.
   */
  async setLeverage(symbol: SymbolId, leverage: number): Promise<boolean> {
    this.#needKeys('setLeverage');
    if (!(leverage >= 1) || !Number.isFinite(leverage)) throw new ConfigError(`leverage must be a number >= 1, got ${leverage}`, 'leverage');
    try {
      await this.#transport.request('private', 'POST', 'v5/position/set-leverage', { category: 'linear', symbol, buyLeverage: String(leverage), sellLeverage: String(leverage) }, true);
      return true;
    } catch (err) {
      if (err instanceof BybitApiError && err.retCode === 110043) return false;
      throw err;
    }
  }

  /** Sets the unified account's margin mode (isolated: each position's loss is capped at its margin). */
  async setMarginMode(mode: 'isolated' | 'cross'): Promise<void> {
    this.#needKeys('setMarginMode');
    await this.#transport.request('private', 'POST', 'v5/account/set-margin-mode', { setMarginMode: mode === 'isolated' ? 'ISOLATED_MARGIN' : 'REGULAR_MARGIN' }, true);
  }

  async cancelOrder(symbol: SymbolId, orderId: string): Promise<void> {
    this.#needKeys('cancelOrder');
    try {
      await this.#transport.request('private', 'POST', 'v5/order/cancel', { category: 'linear', symbol, orderId }, true);
    } catch (err) {
      // 110001 "order does not exist": after a retried (timed-out) cancel the first one may have
      // worked. Cancelled already -> done; anything else (filled, unknown) -> the error stands.
      if (!(err instanceof BybitApiError) || err.retCode !== 110001) throw err;
      const r = await this.#transport.request<unknown>('private', 'GET', 'v5/order/realtime', { category: 'linear', symbol, orderId });
      const row = list<Record<string, unknown>>(r.result, 'order/realtime').find((o) => o.orderId === orderId);
      if (!row || parseOrder(row).status !== 'cancelled') throw err;
    }
  }

  findOrder(symbol: SymbolId, clientOrderId: string): Promise<Order | undefined> {
    this.#needKeys('findOrder');
    return findOrderByLinkId(this.#transport, symbol, clientOrderId);
  }

  /**
   * The symbol's most recent closed orders (filled, cancelled, rejected), newest first (Bybit keeps
   * up to 50 per page): how executions the trader did not place itself, such as a position's
   * stop-loss or take-profit, are seen with their exchange price and fee.
   */
  async orderHistory(symbol: SymbolId, limit = 50): Promise<Order[]> {
    this.#needKeys('orderHistory');
    const r = await this.#transport.request<unknown>('private', 'GET', 'v5/order/history', { category: 'linear', symbol, limit });
    return list<Record<string, unknown>>(r.result, 'order/history').map(parseOrder);
  }

  async openOrders(symbol?: SymbolId): Promise<Order[]> {
    this.#needKeys('openOrders');
    const r = await this.#transport.request<unknown>('private', 'GET', 'v5/order/realtime', { category: 'linear', ...(symbol ? { symbol } : { settleCoin: 'USDT' }) });
    return list<Record<string, unknown>>(r.result, 'order/realtime').map(parseOrder).filter((o) => o.status === 'new' || o.status === 'partially_filled');
  }

  async positions(symbol?: SymbolId): Promise<Position[]> {
    this.#needKeys('positions');
    const r = await this.#transport.request<unknown>('private', 'GET', 'v5/position/list', { category: 'linear', ...(symbol ? { symbol } : { settleCoin: 'USDT' }) });
    const out: Position[] = [];
    for (const row of list<Record<string, unknown>>(r.result, 'position/list')) {
      const p = parsePosition(row);
      if (p) out.push(p);
    }
    return out;
  }

  /** USDT equity and available balance of the unified account. */
  async balance(): Promise<Balance> {
    this.#needKeys('balance');
    const r = await this.#transport.request<unknown>('private', 'GET', 'v5/account/wallet-balance', { accountType: 'UNIFIED', coin: 'USDT' });
    const acct = list<Record<string, unknown>>(r.result, 'wallet-balance')[0];
    if (!acct) throw new BybitProtocolError('/v5/account/wallet-balance', 'no account in the list');
    return parseWallet(acct);
  }

  /** Closes the WebSocket streams (REST needs no closing). */
  close(): void {
    this.#streams?.close();
    this.#streams = undefined;
  }
}

function dedupeSorted<T extends { tsMs: number }>(rows: T[]): T[] {
  rows.sort((a, b) => a.tsMs - b.tsMs);
  return rows.filter((r, i) => i === 0 || r.tsMs !== rows[i - 1]!.tsMs);
}
