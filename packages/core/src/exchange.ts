import type { CandleColumns, SymbolId } from './candle.js';
import type { Candle } from './candle.js';
import type { Interval } from './interval.js';
import type { Balance, Order, OrderRequest, Position } from './trading.js';

/** A closed candle delivered by a stream. */
export interface ClosedCandle {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly candle: Candle;
}

export interface Unsubscribe {
  (): Promise<void> | void;
}

/**
 * The one interface every venue implements: Bybit (live/testnet/demo) and the simulated account
 * (paper trading, backtests) are two implementations, so the trader's loop is the same for both.
 */
export interface Exchange {
  readonly name: string;
  /** Closed candles in [startMs, endMs), oldest first. */
  fetchCandles(symbol: SymbolId, interval: Interval, startMs: number, endMs: number): Promise<CandleColumns>;
  /** Calls `onCandle` once per closed candle, in order. */
  streamCandles(symbols: readonly SymbolId[], interval: Interval, onCandle: (c: ClosedCandle) => void): Promise<Unsubscribe>;
  placeOrder(req: OrderRequest): Promise<Order>;
  cancelOrder(symbol: SymbolId, orderId: string): Promise<void>;
  /** Looks an order up by its client id (orderLinkId); undefined when the venue never saw it. */
  findOrder(symbol: SymbolId, clientOrderId: string): Promise<Order | undefined>;
  openOrders(symbol?: SymbolId): Promise<Order[]>;
  positions(symbol?: SymbolId): Promise<Position[]>;
  balance(): Promise<Balance>;
}
