import { ConfigError, candleAt, lowerBound, sliceColumns } from '@task-agnostic/core';
import type { Balance, CandleColumns, CandleSeries, ClosedCandle, Exchange, Fill, Interval, Order, OrderRequest, Position, SymbolId, Unsubscribe, Candle } from '@task-agnostic/core';
import type { SimulatedAccount } from './account.js';

/**
 * core's Exchange interface over a SimulatedAccount, so the trader's loop runs unchanged against a
 * paper venue. Orders, positions and balance come from the account. Candles: either fed from
 * outside with `onBar` (live candles from Bybit for paper trading), or served and replayed from an
 * in-memory series given here (offline paper runs): `streamCandles` then passes each candle to the
 * account first (fills at its open, stops inside it) and to the callback after.
 */
export class SimulatedExchange implements Exchange {
  readonly name = 'simulated';

  constructor(
    readonly account: SimulatedAccount,
    private readonly series?: CandleSeries,
  ) {
    if (series && series.symbol !== account.config.symbol) {
      throw new ConfigError(`series symbol '${series.symbol}' differs from the account's '${account.config.symbol}'`, 'symbol');
    }
  }

  /** Feeds one closed candle from any source to the account; returns the fills it caused. */
  onBar(candle: Candle): Fill[] {
    return this.account.onBar(candle);
  }

  private requireSeries(symbol: SymbolId, interval: Interval): CandleColumns {
    if (!this.series) throw new ConfigError('this simulated exchange has no candle series: feed candles with onBar() or pass a series', 'series');
    if (symbol !== this.series.symbol || interval !== this.series.interval) {
      throw new ConfigError(`no candles for ${symbol} ${interval}: the series holds ${this.series.symbol} ${this.series.interval}`, 'symbol');
    }
    return this.series.candles;
  }

  async fetchCandles(symbol: SymbolId, interval: Interval, startMs: number, endMs: number): Promise<CandleColumns> {
    const c = this.requireSeries(symbol, interval);
    return sliceColumns(c, lowerBound(c, startMs), lowerBound(c, endMs));
  }

  /** Replays the series' candles after the account's last bar, one per event-loop turn, until unsubscribed. */
  async streamCandles(symbols: readonly SymbolId[], interval: Interval, onCandle: (c: ClosedCandle) => void): Promise<Unsubscribe> {
    const symbol = symbols[0];
    if (symbols.length !== 1 || symbol === undefined) throw new ConfigError(`a simulated exchange streams exactly one symbol, got ${symbols.length}`, 'symbols');
    const c = this.requireSeries(symbol, interval);
    let stopped = false;
    let i = lowerBound(c, this.account.lastBarTs + 1);
    const next = (): void => {
      if (stopped || i >= c.length) return;
      const candle = candleAt(c, i++);
      this.account.onBar(candle);
      onCandle({ symbol, interval, candle });
      setImmediate(next);
    };
    setImmediate(next);
    return () => {
      stopped = true;
    };
  }

  async placeOrder(req: OrderRequest): Promise<Order> {
    return this.account.placeOrder(req);
  }

  async cancelOrder(symbol: SymbolId, orderId: string): Promise<void> {
    this.checkSymbol(symbol);
    this.account.cancelOrder(orderId);
  }

  async findOrder(symbol: SymbolId, clientOrderId: string): Promise<Order | undefined> {
    return symbol === this.account.config.symbol ? this.account.findOrder(clientOrderId) : undefined;
  }

  async openOrders(symbol?: SymbolId): Promise<Order[]> {
    return symbol === undefined || symbol === this.account.config.symbol ? this.account.openOrders() : [];
  }

  async positions(symbol?: SymbolId): Promise<Position[]> {
    const p = this.account.position();
    return p && (symbol === undefined || symbol === p.symbol) ? [p] : [];
  }

  async balance(): Promise<Balance> {
    return this.account.balance();
  }

  private checkSymbol(symbol: SymbolId): void {
    if (symbol !== this.account.config.symbol) throw new ConfigError(`this simulated exchange trades only '${this.account.config.symbol}', not '${symbol}'`, 'symbol');
  }
}
