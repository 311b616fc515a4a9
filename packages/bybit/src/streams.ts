import { ConfigError, type ClosedCandle, type Interval, type SymbolId, type Unsubscribe } from '@task-agnostic/core';
import { CandleStream, type CandleSource, type CandleStreamOptions } from './candle-stream.js';
import { BybitProtocolError } from './errors.js';
import { toBybitInterval } from './intervals.js';
import { LocalOrderBook, OrderBookGapError, parseBookMessage } from './orderbook.js';
import { BybitSocket, type SocketOptions, type WsPush } from './ws-socket.js';
import { num, parseTicker, type OrderBookSnapshot, type Ticker } from './wire.js';

export interface PublicTrade {
  readonly symbol: SymbolId;
  readonly tsMs: number;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly qty: number;
  readonly id: string;
}

export interface StreamStats {
  orderbookResyncs: number;
  orderbookGaps: number;
}

interface TopicHandler {
  onPush(msg: WsPush): void;
  onConnected(): void;
}

/**
 * Public WebSocket streams over one connection (own `ws` client rather than ccxt.pro: the
 * reconnect, resubscribe, REST backfill and update-id checks must be ours to be exactly-once):
 * klines (closed candles exactly once, in order), order book (snapshot + deltas, gap -> resync),
 * public trades and tickers (snapshot + deltas merged).
 */
export class BybitStreams {
  readonly socket: BybitSocket;
  private readonly handlers = new Map<string, TopicHandler>();
  readonly stats: StreamStats = { orderbookResyncs: 0, orderbookGaps: 0 };
  private started = false;

  constructor(url: string, options: SocketOptions, private readonly source: CandleSource, private readonly onError: (err: Error) => void = () => undefined) {
    this.socket = new BybitSocket(url, options, {
      onPush: (m) => this.handlers.get(m.topic)?.onPush(m),
      onOpen: () => {
        for (const h of this.handlers.values()) h.onConnected();
      },
      onError: (e) => this.onError(e),
    });
  }

  private add(topic: string, h: TopicHandler): Unsubscribe {
    if (this.handlers.has(topic)) throw new ConfigError(`already subscribed to ${topic} on this client: unsubscribe first or share the callback`, 'topic');
    this.handlers.set(topic, h);
    this.socket.subscribe([topic]);
    if (!this.started) {
      this.started = true;
      this.socket.start();
    }
    return () => {
      this.handlers.delete(topic);
      this.socket.unsubscribe([topic]);
    };
  }

  /** Closed candles of `symbols`, exactly once and in order (see CandleStream). */
  async klines(symbols: readonly SymbolId[], interval: Interval, onCandle: (c: ClosedCandle) => void, options: CandleStreamOptions = {}): Promise<{ stream: CandleStream; unsubscribe: Unsubscribe }> {
    const stream = new CandleStream(symbols, interval, this.source, onCandle, { onError: this.onError, ...options });
    await stream.init();
    const bi = toBybitInterval(interval);
    const offs = symbols.map((s) =>
      this.add(`kline.${bi}.${s}`, {
        onPush: (m) => stream.onPush(s, m.data),
        onConnected: () => stream.onConnected(),
      }),
    );
    // Already connected (another topic opened the socket): catch up now; otherwise onConnected will.
    if (this.socket.isOpen || options.fromMs !== undefined) stream.onConnected();
    return {
      stream,
      unsubscribe: () => {
        stream.stop();
        // unsubscribing is best effort (the socket may be gone): never a floating rejection
        for (const off of offs) void Promise.resolve().then(() => off()).catch(() => undefined);
      },
    };
  }

  /** The local book after every update; a gap in update ids triggers a resubscribe (fresh snapshot). */
  orderBook(symbol: SymbolId, depth: 1 | 50 | 200 | 500, onBook: (b: OrderBookSnapshot) => void): Unsubscribe {
    const topic = `orderbook.${depth}.${symbol}`;
    const book = new LocalOrderBook(symbol);
    return this.add(topic, {
      onPush: (m) => {
        const msg = parseBookMessage(m.type, m.data, m.ts);
        if (msg.type === 'delta' && !book.ready) return; // waiting for the resync snapshot
        try {
          book.apply(msg);
        } catch (err) {
          if (!(err instanceof OrderBookGapError)) throw err;
          this.stats.orderbookGaps++;
          this.stats.orderbookResyncs++;
          book.reset();
          this.onError(err);
          this.socket.resubscribe(topic);
          return;
        }
        onBook(book.snapshot(depth));
      },
      onConnected: () => book.reset(),
    });
  }

  trades(symbol: SymbolId, onTrades: (t: PublicTrade[]) => void): Unsubscribe {
    return this.add(`publicTrade.${symbol}`, {
      onPush: (m) => {
        if (!Array.isArray(m.data)) throw new BybitProtocolError('publicTrade', 'data is not an array');
        onTrades(
          (m.data as Record<string, unknown>[]).map((t) => ({
            symbol: String(t.s), tsMs: num(t.T, 'T'), side: t.S === 'Sell' ? 'sell' : 'buy', price: num(t.p, 'p'), qty: num(t.v, 'v'), id: String(t.i),
          })),
        );
      },
      onConnected: () => undefined,
    });
  }

  /** Ticker updates: the first push is a snapshot, later ones deltas merged into it. */
  ticker(symbol: SymbolId, onTicker: (t: Ticker) => void): Unsubscribe {
    let state: Record<string, unknown> | undefined;
    return this.add(`tickers.${symbol}`, {
      onPush: (m) => {
        const d = m.data as Record<string, unknown>;
        if (m.type === 'snapshot' || !state) {
          if (m.type !== 'snapshot') return; // a delta before any snapshot cannot be applied
          state = { ...d };
        } else state = { ...state, ...d };
        onTicker(parseTicker(state));
      },
      onConnected: () => {
        state = undefined;
      },
    });
  }

  close(): void {
    this.handlers.clear();
    this.socket.close();
  }
}
