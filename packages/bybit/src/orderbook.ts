import { BybitProtocolError } from './errors.js';
import { parseLevels, type BookLevel, type OrderBookSnapshot } from './wire.js';

export interface BookMessage {
  readonly type: 'snapshot' | 'delta';
  readonly symbol: string;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly updateId: number;
  readonly tsMs: number;
}

export function parseBookMessage(type: unknown, data: unknown, ts: unknown): BookMessage {
  const d = data as { s?: unknown; b?: unknown; a?: unknown; u?: unknown } | undefined;
  if ((type !== 'snapshot' && type !== 'delta') || !d || typeof d !== 'object') throw new BybitProtocolError('orderbook', 'push is neither a snapshot nor a delta');
  const u = Number(d.u);
  if (!Number.isInteger(u)) throw new BybitProtocolError('orderbook', 'push has no update id u');
  return { type, symbol: String(d.s), bids: parseLevels(d.b, 'b'), asks: parseLevels(d.a, 'a'), updateId: u, tsMs: Number(ts) };
}

/** Thrown by `apply` when a delta's update id does not follow the last one. */
export class OrderBookGapError extends Error {
  constructor(readonly expected: number, readonly got: number) {
    super(`orderbook update id gap: expected ${expected}, got ${got}`);
  }
}

/**
 * A local order book kept from Bybit's snapshot + delta pushes: a size of 0 removes a level; each
 * delta's `u` must be the previous u + 1 (a snapshot, including one with u = 1 after a service
 * restart, resets the book). A gap throws OrderBookGapError: the caller must resubscribe.
 */
export class LocalOrderBook {
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private u = -1;
  private ts = 0;

  constructor(readonly symbol: string) {}

  get ready(): boolean {
    return this.u >= 0;
  }

  get updateId(): number {
    return this.u;
  }

  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.u = -1;
  }

  apply(m: BookMessage): void {
    if (m.type === 'snapshot') {
      this.bids.clear();
      this.asks.clear();
    } else {
      if (this.u < 0) throw new OrderBookGapError(-1, m.updateId);
      if (m.updateId !== this.u + 1) throw new OrderBookGapError(this.u + 1, m.updateId);
    }
    for (const l of m.bids) if (l.size === 0) this.bids.delete(l.price); else this.bids.set(l.price, l.size);
    for (const l of m.asks) if (l.size === 0) this.asks.delete(l.price); else this.asks.set(l.price, l.size);
    this.u = m.updateId;
    this.ts = m.tsMs;
  }

  /** The best `depth` levels a side, best first. */
  snapshot(depth = Infinity): OrderBookSnapshot {
    const side = (m: Map<number, number>, desc: boolean): BookLevel[] =>
      [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, depth).map(([price, size]) => ({ price, size }));
    return { symbol: this.symbol, bids: side(this.bids, true), asks: side(this.asks, false), updateId: this.u, tsMs: this.ts };
  }
}
