/**
 * What the risk gate's exchange and market layers see live: the WebSocket's connection state and
 * the age of its last message, the REST client's remaining rate-limit budget, and per traded symbol
 * the spread and top-of-book depth from the order-book stream. The engine adds the circuit breaker
 * (the last bar's largest move) from the candle itself.
 */
import type { SymbolId, Unsubscribe } from '@task-agnostic/core';
import type { BybitClient, OrderBookSnapshot } from '@task-agnostic/bybit';

export interface LiveMarketSnapshot {
  readonly connected: boolean;
  /** Wall-clock ms since the last WebSocket message (any topic). */
  readonly lastMessageAgeMs: number;
  /** Fewest requests left in a private endpoint's rate-limit window (undefined before the first signed response). */
  readonly rateLimitRemaining?: number;
  /** (ask - bid) / mid of the symbol's book; undefined before its first book. */
  readonly spreadPct?: number;
  /** Quote notional within `bandPct` of the mid on the thinner side of the book. */
  readonly depthNotional?: number;
}

/** The engine asks this once per candle, just before the gate. */
export type MarketFeed = (symbol: SymbolId) => LiveMarketSnapshot | undefined;

/** Spread and depth of a book snapshot (depth: the thinner side's notional within bandPct of the mid). */
export function bookStats(b: Pick<OrderBookSnapshot, 'bids' | 'asks'>, bandPct: number): { spreadPct: number; depthNotional: number } | undefined {
  const bid = b.bids[0];
  const ask = b.asks[0];
  if (!bid || !ask || !(ask.price > 0) || !(bid.price > 0)) return undefined;
  const mid = (bid.price + ask.price) / 2;
  let bidDepth = 0;
  for (const l of b.bids) {
    if (l.price < mid * (1 - bandPct)) break;
    bidDepth += l.price * l.size;
  }
  let askDepth = 0;
  for (const l of b.asks) {
    if (l.price > mid * (1 + bandPct)) break;
    askDepth += l.price * l.size;
  }
  return { spreadPct: (ask.price - bid.price) / mid, depthNotional: Math.min(bidDepth, askDepth) };
}

/** Subscribes to each symbol's order book on the client's public stream and answers MarketFeed queries. */
export class LiveMarketFeed {
  private readonly books = new Map<SymbolId, { spreadPct: number; depthNotional: number }>();
  private readonly offs: Unsubscribe[] = [];

  constructor(private readonly client: BybitClient, private readonly bandPct = 0.005, private readonly now: () => number = Date.now) {}

  /** Subscribes to `orderbook.50.<symbol>` for every symbol. */
  start(symbols: readonly SymbolId[]): this {
    for (const s of symbols) {
      this.offs.push(
        this.client.streams.orderBook(s, 50, (b) => {
          const st = bookStats(b, this.bandPct);
          if (st) this.books.set(s, st);
          else this.books.delete(s);
        }),
      );
    }
    return this;
  }

  readonly snapshot: MarketFeed = (symbol) => {
    const socket = this.client.streams.socket;
    const last = socket.lastMessageAtMs;
    const rl = this.client.rateLimitRemaining();
    const book = this.books.get(symbol);
    return {
      connected: socket.isOpen,
      lastMessageAgeMs: last > 0 ? Math.max(0, this.now() - last) : Infinity,
      ...(rl !== undefined ? { rateLimitRemaining: rl } : {}),
      ...(book ? book : {}),
    };
  };

  stop(): void {
    // best effort (the socket may be gone): never a floating rejection
    for (const off of this.offs.splice(0)) void Promise.resolve().then(() => off()).catch(() => undefined);
  }
}
