import type { SymbolId } from '@task-agnostic/core';
import type { FeedState, SimMarket } from './market.js';
import { onStep } from './instruments.js';

export type WireSide = 'Buy' | 'Sell';
export type WireOrderStatus = 'New' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Rejected';

export interface SimOrder {
  orderId: string;
  orderLinkId: string;
  symbol: SymbolId;
  side: WireSide;
  orderType: 'Market' | 'Limit';
  price: number;
  qty: number;
  timeInForce: string;
  reduceOnly: boolean;
  stopLoss: number;
  takeProfit: number;
  orderStatus: WireOrderStatus;
  cumExecQty: number;
  cumExecValue: number;
  cumExecFee: number;
  avgPrice: number;
  createdTime: number;
  updatedTime: number;
}

export interface SimPosition {
  symbol: SymbolId;
  /** Signed size: > 0 long, < 0 short. */
  size: number;
  avgPrice: number;
  stopLoss: number;
  takeProfit: number;
  leverage: number;
  cumRealisedPnl: number;
  createdTime: number;
  updatedTime: number;
}

export interface SimFill {
  orderId: string;
  orderLinkId: string;
  symbol: SymbolId;
  side: WireSide;
  qty: number;
  price: number;
  fee: number;
  isMaker: boolean;
  tsMs: number;
}

export interface AccountOptions {
  readonly initialUsdt: number;
  /** Bybit's base fees for perpetuals: 0.055 % taker, 0.02 % maker. */
  readonly takerFeeRate: number;
  readonly makerFeeRate: number;
  readonly leverage: number;
}

export type AccountEvent = { readonly kind: 'order'; readonly order: SimOrder } | { readonly kind: 'fill'; readonly fill: SimFill; readonly order: SimOrder };

/** A rejection with Bybit's retCode. */
export class SimReject extends Error {
  constructor(readonly retCode: number, readonly retMsg: string, readonly headers: Record<string, string> = {}) {
    super(retMsg);
  }
}

const EPS = 1e-12;

/**
 * One unified-trading account in one-way mode: orders (market and limit, reduce-only, SL/TP
 * attached), one net position per symbol, USDT wallet. Fills against the replayed prices.
 */
export class SimAccount {
  readonly orders: SimOrder[] = [];
  readonly byLinkId = new Map<string, SimOrder>();
  readonly positions = new Map<SymbolId, SimPosition>();
  /** Leverage set per symbol (POST /v5/position/set-leverage). */
  readonly leverages = new Map<SymbolId, number>();
  /** Account margin mode (POST /v5/account/set-margin-mode). */
  marginMode: 'REGULAR_MARGIN' | 'ISOLATED_MARGIN' | 'PORTFOLIO_MARGIN' = 'REGULAR_MARGIN';
  readonly fills: SimFill[] = [];
  wallet: number;
  /** Receives every order update and fill (the private WebSocket listens here). */
  readonly listeners: ((e: AccountEvent) => void)[] = [];
  private nextId = 1;

  constructor(private readonly market: SimMarket, private readonly o: AccountOptions) {
    this.wallet = o.initialUsdt;
  }

  create(req: {
    symbol: SymbolId; side: WireSide; orderType: 'Market' | 'Limit'; qty: number; price?: number; timeInForce?: string;
    reduceOnly?: boolean; stopLoss?: number; takeProfit?: number; orderLinkId?: string;
    /** Internal: fill a market order at this price (stop-loss / take-profit triggers). */
    fillAt?: number;
  }): SimOrder {
    const f = this.market.feed(req.symbol);
    if (!f) throw new SimReject(10001, `params error: symbol invalid`);
    const linkId = req.orderLinkId ?? `sim-${this.nextId}`;
    if (this.byLinkId.has(linkId)) throw new SimReject(110072, 'OrderLinkedID is duplicate');
    if (!(req.qty > 0) || Math.abs(Math.round(req.qty / f.qtyStep) * f.qtyStep - req.qty) > 1e-9) {
      throw new SimReject(10001, `params error: qty ${req.qty} is not a positive multiple of ${f.qtyStep}`);
    }
    if (req.orderType === 'Limit' && !(req.price! > 0)) throw new SimReject(10001, 'params error: price required for Limit');
    if (req.fillAt === undefined) this.checkRules(f, req);
    const pos = this.positions.get(req.symbol);
    let qty = req.qty;
    if (req.reduceOnly) {
      const closing = pos && ((pos.size > 0 && req.side === 'Sell') || (pos.size < 0 && req.side === 'Buy'));
      if (!closing) throw new SimReject(110017, 'Reduce-only rule not satisfied');
      qty = Math.min(qty, Math.abs(pos!.size));
    }
    const now = this.market.nowMs;
    const order: SimOrder = {
      orderId: `${1_000_000_000 + this.nextId++}`,
      orderLinkId: linkId,
      symbol: req.symbol,
      side: req.side,
      orderType: req.orderType,
      price: req.price ?? 0,
      qty,
      timeInForce: req.timeInForce ?? (req.orderType === 'Market' ? 'IOC' : 'GTC'),
      reduceOnly: Boolean(req.reduceOnly),
      stopLoss: req.stopLoss ?? 0,
      takeProfit: req.takeProfit ?? 0,
      orderStatus: 'New',
      cumExecQty: 0,
      cumExecValue: 0,
      cumExecFee: 0,
      avgPrice: 0,
      createdTime: now,
      updatedTime: now,
    };
    this.orders.push(order);
    this.byLinkId.set(linkId, order);
    const last = this.market.lastPrice(f);
    const marketable = order.orderType === 'Market' || (order.side === 'Buy' ? order.price >= last : order.price <= last);
    if (marketable) this.fill(order, f, req.fillAt ?? last, false);
    else {
      if (order.timeInForce === 'IOC' || order.timeInForce === 'FOK') order.orderStatus = 'Cancelled';
      this.emit({ kind: 'order', order });
    }
    return order;
  }

  cancel(symbol: SymbolId, orderId?: string, orderLinkId?: string): SimOrder {
    const o = this.orders.find((x) => x.symbol === symbol && ((orderId && x.orderId === orderId) || (orderLinkId && x.orderLinkId === orderLinkId)));
    if (!o || (o.orderStatus !== 'New' && o.orderStatus !== 'PartiallyFilled')) throw new SimReject(110001, 'Order does not exist.');
    o.orderStatus = 'Cancelled';
    o.updatedTime = this.market.nowMs;
    this.emit({ kind: 'order', order: o });
    return o;
  }

  /** Called for each newly closed bar of `f` (index i): resting limits, then stop-loss/take-profit. */
  onBarClosed(f: FeedState, i: number): void {
    const c = f.candles;
    const high = c.high[i]!;
    const low = c.low[i]!;
    for (const o of this.orders) {
      if (o.symbol !== f.symbol || o.orderType !== 'Limit' || (o.orderStatus !== 'New' && o.orderStatus !== 'PartiallyFilled')) continue;
      if ((o.side === 'Buy' && low <= o.price) || (o.side === 'Sell' && high >= o.price)) this.fill(o, f, o.price, true);
    }
    const p = this.positions.get(f.symbol);
    if (!p || Math.abs(p.size) < EPS) return;
    const long = p.size > 0;
    // Stop first when both are touched inside one bar (the conservative assumption).
    let exit = 0;
    if (p.stopLoss > 0 && (long ? low <= p.stopLoss : high >= p.stopLoss)) exit = p.stopLoss;
    else if (p.takeProfit > 0 && (long ? high >= p.takeProfit : low <= p.takeProfit)) exit = p.takeProfit;
    if (exit > 0) {
      this.create({ symbol: f.symbol, side: long ? 'Sell' : 'Buy', orderType: 'Market', qty: Math.abs(p.size), reduceOnly: true, orderLinkId: `tpsl-${this.nextId}`, fillAt: exit });
    }
  }

  private fill(o: SimOrder, f: FeedState, price: number, maker: boolean): void {
    const qty = o.qty - o.cumExecQty;
    const fee = qty * price * (maker ? this.o.makerFeeRate : this.o.takerFeeRate);
    o.cumExecQty += qty;
    o.cumExecValue += qty * price;
    o.cumExecFee += fee;
    o.avgPrice = o.cumExecValue / o.cumExecQty;
    o.orderStatus = 'Filled';
    o.updatedTime = this.market.nowMs;
    this.fills.push({ orderId: o.orderId, orderLinkId: o.orderLinkId, symbol: o.symbol, side: o.side, qty, price, fee, isMaker: maker, tsMs: this.market.nowMs });
    this.wallet -= fee;
    const signed = o.side === 'Buy' ? qty : -qty;
    const now = this.market.nowMs;
    let p = this.positions.get(o.symbol);
    if (!p) {
      p = { symbol: o.symbol, size: 0, avgPrice: 0, stopLoss: 0, takeProfit: 0, leverage: this.leverageOf(o.symbol), cumRealisedPnl: 0, createdTime: now, updatedTime: now };
      this.positions.set(o.symbol, p);
    }
    if (Math.abs(p.size) < EPS || Math.sign(p.size) === Math.sign(signed)) {
      if (Math.abs(p.size) < EPS) p.createdTime = now;
      p.avgPrice = (p.avgPrice * Math.abs(p.size) + price * qty) / (Math.abs(p.size) + qty);
      p.size += signed;
    } else {
      const closed = Math.min(Math.abs(p.size), qty);
      const pnl = closed * (price - p.avgPrice) * Math.sign(p.size);
      this.wallet += pnl;
      p.cumRealisedPnl += pnl;
      const rest = p.size + signed;
      if (Math.abs(rest) < EPS) {
        p.size = 0;
        p.avgPrice = 0;
        p.stopLoss = 0;
        p.takeProfit = 0;
      } else if (Math.sign(rest) !== Math.sign(p.size)) {
        p.size = rest;
        p.avgPrice = price;
        p.createdTime = now;
      } else {
        p.size = rest;
      }
    }
    p.size = Math.round(p.size / f.qtyStep) * f.qtyStep;
    if (Math.abs(p.size) > EPS) {
      if (o.stopLoss > 0) p.stopLoss = o.stopLoss;
      if (o.takeProfit > 0) p.takeProfit = o.takeProfit;
    }
    p.updatedTime = now;
    this.emit({ kind: 'fill', fill: this.fills[this.fills.length - 1]!, order: o });
    this.emit({ kind: 'order', order: o });
  }

  private emit(e: AccountEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** The instrument's rules, as Bybit applies them to a new order (qty bounds, min notional, price ticks). */
  private checkRules(f: FeedState, req: { orderType: 'Market' | 'Limit'; qty: number; price?: number; reduceOnly?: boolean; stopLoss?: number; takeProfit?: number }): void {
    const r = f.rules;
    if (req.qty < r.minOrderQty - 1e-12) throw new SimReject(10001, `The number of contracts is below the minimum order qty ${r.minOrderQty}`);
    const max = req.orderType === 'Market' ? r.maxMktOrderQty : r.maxOrderQty;
    if (req.qty > max + 1e-12) throw new SimReject(10001, `The number of contracts exceeds the maximum order qty ${max}`);
    for (const [name, p] of [['price', req.price], ['stopLoss', req.stopLoss], ['takeProfit', req.takeProfit]] as const) {
      if (p !== undefined && p > 0 && !onStep(p, r.tickSize)) throw new SimReject(10001, `params error: ${name} ${p} is not a multiple of the tick size ${r.tickSize}`);
    }
    const px = req.orderType === 'Limit' ? req.price! : this.market.lastPrice(f);
    if (!req.reduceOnly && req.qty * px < r.minNotional) {
      throw new SimReject(110094, `Order does not meet minimum order value ${r.minNotional}USDT`);
    }
  }

  /** Leverage of a symbol (set-leverage; default: the simulator's leverage option, capped by the instrument). */
  leverageOf(symbol: SymbolId): number {
    const f = this.market.feed(symbol);
    return this.leverages.get(symbol) ?? Math.min(this.o.leverage, f ? f.rules.maxLeverage : this.o.leverage);
  }

  /** POST /v5/position/set-leverage: 110043 when unchanged (Bybit's "leverage not modified"), 10001 above the instrument's maximum. */
  setLeverage(symbol: SymbolId, buy: number, sell: number): void {
    const f = this.market.feed(symbol);
    if (!f) throw new SimReject(10001, 'params error: symbol invalid');
    if (!(buy >= 1) || buy !== sell) throw new SimReject(10001, 'params error: buyLeverage must equal sellLeverage in one-way mode and be >= 1');
    if (buy > f.rules.maxLeverage) throw new SimReject(10001, `leverage ${buy} exceeds the maximum ${f.rules.maxLeverage} of ${symbol}`);
    if (buy === this.leverageOf(symbol)) throw new SimReject(110043, 'leverage not modified');
    this.leverages.set(symbol, buy);
    const p = this.positions.get(symbol);
    if (p) p.leverage = buy;
  }

  unrealised(symbol: SymbolId): number {
    const p = this.positions.get(symbol);
    const f = this.market.feed(symbol);
    if (!p || !f || Math.abs(p.size) < EPS) return 0;
    return p.size * (this.market.lastPrice(f) - p.avgPrice);
  }

  equity(): number {
    let e = this.wallet;
    for (const s of this.positions.keys()) e += this.unrealised(s);
    return e;
  }

  /** Equity minus the initial margin of positions and open orders. */
  available(): number {
    let im = 0;
    for (const p of this.positions.values()) {
      const f = this.market.feed(p.symbol);
      if (f && Math.abs(p.size) > EPS) im += (Math.abs(p.size) * this.market.lastPrice(f)) / p.leverage;
    }
    for (const o of this.orders) {
      if (o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled') im += ((o.qty - o.cumExecQty) * o.price) / this.o.leverage;
    }
    return this.equity() - im;
  }
}
