import type { Fill, FillReason, Liquidity, OrderSide, PositionSide, Trade } from '@task-agnostic/core';

/**
 * Columnar, growable records of fills and trades. A backtest can make hundreds of thousands of
 * fills; keeping them in typed arrays (and building the Fill / Trade objects only when read) keeps
 * the loop free of allocations and the garbage collector out of the benchmark.
 */

export const REASONS: readonly FillReason[] = ['signal', 'stop_loss', 'take_profit', 'liquidation', 'flatten'];
/** Index of a reason in REASONS (a switch: cheaper in the fill path than a keyed property lookup). */
export function reasonCode(r: FillReason): number {
  switch (r) {
    case 'signal':
      return 0;
    case 'stop_loss':
      return 1;
    case 'take_profit':
      return 2;
    case 'liquidation':
      return 3;
    case 'flatten':
      return 4;
  }
}

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/**
 * Rows of `stride` numbers in fixed-size chunks: appending never copies, and the chunks are small
 * enough to stay cheap for the garbage collector.
 */
class ChunkedRows {
  length = 0;
  private readonly chunks: Float64Array[] = [];
  private cur: Float64Array = new Float64Array(0);
  constructor(private readonly stride: number) {}

  /** Offset of a new row in `this.cur` (the row is written by the caller through `row()`). */
  append(): Float64Array {
    if ((this.length & MASK) === 0) {
      this.cur = new Float64Array(CHUNK * this.stride);
      this.chunks.push(this.cur);
    }
    this.length++;
    return this.cur;
  }
  /** Offset of the last appended row inside the chunk `append` returned. */
  lastOffset(): number {
    return ((this.length - 1) & MASK) * this.stride;
  }
  get(i: number, field: number): number {
    return this.chunks[i >> CHUNK_BITS]![(i & MASK) * this.stride + field]!;
  }
  column(field: number): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i, field);
    return out;
  }
}

/** An order a fill belongs to (orders placed through the Exchange-style API). */
export interface OrderRef {
  readonly id: string;
  readonly clientOrderId: string;
}

export class FillLog {
  private readonly rows = new ChunkedRows(5);
  private readonly orders = new Map<number, OrderRef>();
  private readonly cache: Fill[] = [];

  constructor(private readonly symbol: string) {}

  get length(): number {
    return this.rows.length;
  }

  push(ts: number, buy: boolean, qty: number, price: number, fee: number, maker: boolean, reason: number, order: OrderRef | undefined): void {
    const c = this.rows.append();
    const o = this.rows.lastOffset();
    c[o] = ts;
    c[o + 1] = price;
    c[o + 2] = qty;
    c[o + 3] = fee;
    // bit 0: buy; bit 1: maker; bits 2..4: reason code
    c[o + 4] = (buy ? 1 : 0) | (maker ? 2 : 0) | (reason << 2);
    if (order !== undefined) this.orders.set(this.rows.length - 1, order);
  }

  /** The fills as objects (built once per new row, then cached). */
  toArray(): Fill[] {
    for (let i = this.cache.length; i < this.length; i++) this.cache.push(this.at(i));
    return this.cache;
  }

  at(i: number): Fill {
    const r = this.rows;
    const f = r.get(i, 4);
    const reason = REASONS[f >> 2]!;
    const order = this.orders.get(i);
    const side: OrderSide = f & 1 ? 'buy' : 'sell';
    const liquidity: Liquidity = f & 2 ? 'maker' : 'taker';
    return {
      orderId: order ? order.id : `${reason}-${i + 1}`,
      ...(order ? { clientOrderId: order.clientOrderId } : {}),
      symbol: this.symbol,
      side,
      qty: r.get(i, 2),
      price: r.get(i, 1),
      fee: r.get(i, 3),
      liquidity,
      reason,
      tsMs: r.get(i, 0),
    };
  }
}

export class TradeLog {
  private readonly rows = new ChunkedRows(10);
  private readonly cache: Trade[] = [];

  constructor(private readonly symbol: string) {}

  get length(): number {
    return this.rows.length;
  }

  push(long: boolean, qty: number, entryMs: number, entryPrice: number, exitMs: number, exitPrice: number, reason: number, pnl: number, fees: number, funding: number): void {
    const c = this.rows.append();
    const o = this.rows.lastOffset();
    c[o] = long ? 1 : -1;
    c[o + 1] = qty;
    c[o + 2] = entryMs;
    c[o + 3] = entryPrice;
    c[o + 4] = exitMs;
    c[o + 5] = exitPrice;
    c[o + 6] = reason;
    c[o + 7] = pnl;
    c[o + 8] = fees;
    c[o + 9] = funding;
  }

  /** Net pnl per trade (a copy). */
  get pnl(): Float64Array {
    return this.rows.column(7);
  }
  /** pnl / entry notional per trade (a copy). */
  get returnPct(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.rows.get(i, 7) / (this.rows.get(i, 1) * this.rows.get(i, 3));
    return out;
  }

  toArray(): Trade[] {
    for (let i = this.cache.length; i < this.length; i++) this.cache.push(this.at(i));
    return this.cache;
  }

  at(i: number): Trade {
    const r = this.rows;
    const side: PositionSide = r.get(i, 0) > 0 ? 'long' : 'short';
    return {
      symbol: this.symbol,
      side,
      qty: r.get(i, 1),
      entryMs: r.get(i, 2),
      entryPrice: r.get(i, 3),
      exitMs: r.get(i, 4),
      exitPrice: r.get(i, 5),
      exitReason: REASONS[r.get(i, 6)]!,
      pnl: r.get(i, 7),
      fees: r.get(i, 8),
      funding: r.get(i, 9),
      returnPct: r.get(i, 7) / (r.get(i, 1) * r.get(i, 3)),
    };
  }
}
