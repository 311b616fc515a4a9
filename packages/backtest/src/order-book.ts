import { DataError } from '@task-agnostic/core';
import type { FillReason, Liquidity, Order, OrderRequest, OrderStatus } from '@task-agnostic/core';
import type { AccountConfig } from './config.js';

/** What the order book needs from the account it belongs to. */
export interface OrderHost {
  readonly config: AccountConfig;
  readonly positionQty: number;
  readonly lastPrice: number;
  nowMs(): number;
  currentSlippage(): number;
  equityAt(price: number): number;
  fill(ts: number, dir: number, qtyAbs: number, ref: number, liquidity: Liquidity, reason: FillReason, order: { id: string; clientOrderId: string }): number;
  setLevels(stopLossPrice: number, takeProfitPrice: number): void;
  activeOrders: number;
}

type OrderRec = { -readonly [K in keyof Order]: Order[K] };

const CLIENT_ID = /^[A-Za-z0-9_-]{1,36}$/;

/**
 * Exchange-style orders on the simulated account. Market orders fill at the next bar's open
 * (next_open) or at once at the last close (same_close); limit orders rest and fill as maker when
 * the price trades through them (at the open when it opens beyond the limit). A clientOrderId seen
 * before returns the existing order (idempotent placement, like Bybit's orderLinkId).
 */
export class OrderBook {
  private readonly active: OrderRec[] = [];
  private readonly byClient = new Map<string, OrderRec>();
  private readonly byId = new Map<string, OrderRec>();
  private seq = 0;

  constructor(
    private readonly host: OrderHost,
    private readonly symbol: string,
  ) {}

  get activeCount(): number {
    return this.active.length;
  }

  place(req: OrderRequest, deferMarket: boolean): Order {
    const seen = this.byClient.get(req.clientOrderId);
    if (seen) return { ...seen };
    validateRequest(req, this.symbol);
    const now = this.host.nowMs();
    const rec: OrderRec = {
      ...req,
      id: `sim-${++this.seq}`,
      status: 'new',
      filledQty: 0,
      createdMs: now,
      updatedMs: now,
    };
    this.byClient.set(rec.clientOrderId, rec);
    this.byId.set(rec.id, rec);
    if (rec.type === 'market' && !deferMarket) {
      if (Number.isNaN(this.host.lastPrice)) this.finish(rec, 'rejected', now);
      else this.execute(rec, now, this.host.lastPrice, 'taker');
    } else {
      this.active.push(rec);
      this.host.activeOrders = this.active.length;
    }
    return { ...rec };
  }

  cancel(orderId: string): void {
    const rec = this.byId.get(orderId);
    if (!rec) throw new DataError(`cancelOrder: no order with id '${orderId}'`);
    if (rec.status !== 'new') return;
    this.finish(rec, 'cancelled', this.host.nowMs());
    this.prune();
  }

  find(clientOrderId: string): Order | undefined {
    const rec = this.byClient.get(clientOrderId);
    return rec ? { ...rec } : undefined;
  }

  open(): Order[] {
    return this.active.map((r) => ({ ...r }));
  }

  /** Fills what the bar allows: market orders at its open, limits when traded through. */
  onBar(ts: number, o: number, h: number, l: number): void {
    for (const rec of this.active) {
      if (rec.status !== 'new') continue;
      if (rec.type === 'market') {
        this.execute(rec, ts, o, 'taker');
        continue;
      }
      const p = rec.price!;
      if (rec.side === 'buy') {
        if (o <= p) this.execute(rec, ts, o, 'maker');
        else if (l <= p) this.execute(rec, ts, p, 'maker');
      } else if (o >= p) this.execute(rec, ts, o, 'maker');
      else if (h >= p) this.execute(rec, ts, p, 'maker');
    }
    this.prune();
  }

  private prune(): void {
    let k = 0;
    for (const rec of this.active) if (rec.status === 'new') this.active[k++] = rec;
    this.active.length = k;
    this.host.activeOrders = k;
  }

  private finish(rec: OrderRec, status: OrderStatus, ts: number): void {
    rec.status = status;
    rec.updatedMs = ts;
  }

  private execute(rec: OrderRec, ts: number, ref: number, liquidity: Liquidity): void {
    const host = this.host;
    const dir = rec.side === 'buy' ? 1 : -1;
    const q = host.positionQty;
    let qty = rec.qty;
    if (rec.reduceOnly) {
      if (q === 0 || q > 0 === dir > 0) return this.finish(rec, 'cancelled', ts);
      qty = Math.min(qty, Math.abs(q));
    }
    const closing = q !== 0 && q > 0 !== dir > 0 ? Math.min(qty, Math.abs(q)) : 0;
    const opening = qty - closing;
    if (opening > 0) {
      const cfg = host.config;
      const slip = liquidity === 'taker' ? host.currentSlippage() : 0;
      const rate = liquidity === 'taker' ? cfg.takerFeeRate : cfg.makerFeeRate;
      const px = ref * (1 + slip);
      const newAbs = (closing > 0 ? 0 : Math.abs(q)) + opening;
      const need = (newAbs * px) / cfg.leverage + qty * px * rate;
      if (need > host.equityAt(ref) * (1 + 1e-12)) return this.finish(rec, 'rejected', ts);
    }
    let cost = 0;
    if (closing > 0) cost += closing * host.fill(ts, dir, closing, ref, liquidity, 'signal', rec);
    if (opening > 0) {
      cost += opening * host.fill(ts, dir, opening, ref, liquidity, 'signal', rec);
      host.setLevels(rec.stopLossPrice ?? NaN, rec.takeProfitPrice ?? NaN);
    }
    rec.filledQty = qty;
    rec.avgFillPrice = cost / qty;
    this.finish(rec, 'filled', ts);
  }
}

function validateRequest(req: OrderRequest, symbol: string): void {
  if (req.symbol !== symbol) throw new DataError(`order.symbol '${req.symbol}': this simulated account trades only '${symbol}'`);
  if (req.side !== 'buy' && req.side !== 'sell') throw new DataError(`order.side must be buy or sell, got ${String(req.side)}`);
  if (req.type !== 'market' && req.type !== 'limit') throw new DataError(`order.type must be market or limit, got ${String(req.type)}`);
  if (!(req.qty > 0) || !Number.isFinite(req.qty)) throw new DataError(`order.qty must be a finite number > 0, got ${req.qty}`);
  if (req.type === 'limit' && !(req.price !== undefined && req.price > 0 && Number.isFinite(req.price))) {
    throw new DataError(`order.price: a limit order needs a finite price > 0, got ${req.price}`);
  }
  if (!CLIENT_ID.test(req.clientOrderId)) throw new DataError(`order.clientOrderId must be 1-36 chars of [A-Za-z0-9_-], got '${req.clientOrderId}'`);
  for (const k of ['stopLossPrice', 'takeProfitPrice'] as const) {
    const v = req[k];
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new DataError(`order.${k} must be a finite price > 0, got ${v}`);
  }
}
