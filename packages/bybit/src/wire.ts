import type { Balance, Fill, Order, OrderStatus, Position, SymbolId } from '@task-agnostic/core';
import { BybitProtocolError } from './errors.js';

/** A number from Bybit's string-encoded field; '' reads as NaN only where `emptyOk`. */
export function num(v: unknown, field: string, emptyOk = false): number {
  if (v === '' || v === null || v === undefined) {
    if (emptyOk) return NaN;
    throw new BybitProtocolError(field, `field '${field}' is missing`);
  }
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new BybitProtocolError(field, `field '${field}' is not a number: ${JSON.stringify(v).slice(0, 40)}`);
  return n;
}

/** Optional price: '' or '0' mean "not set". */
export function optPrice(v: unknown, field: string): number | undefined {
  if (v === '' || v === null || v === undefined || v === '0') return undefined;
  const n = num(v, field);
  return n > 0 ? n : undefined;
}

export function list<T = Record<string, unknown>>(result: unknown, field: string): T[] {
  const l = (result as { list?: unknown } | undefined)?.list;
  if (!Array.isArray(l)) throw new BybitProtocolError(field, `result.list is missing`);
  return l as T[];
}

export interface Instrument {
  readonly symbol: SymbolId;
  readonly status: string;
  readonly baseCoin: string;
  readonly quoteCoin: string;
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxOrderQty: number;
  readonly minNotional: number;
  readonly maxLeverage: number;
  readonly fundingIntervalMin: number;
}

export function parseInstrument(r: Record<string, unknown>): Instrument {
  const pf = (r.priceFilter ?? {}) as Record<string, unknown>;
  const lf = (r.lotSizeFilter ?? {}) as Record<string, unknown>;
  const lev = (r.leverageFilter ?? {}) as Record<string, unknown>;
  return {
    symbol: String(r.symbol),
    status: String(r.status),
    baseCoin: String(r.baseCoin),
    quoteCoin: String(r.quoteCoin),
    tickSize: num(pf.tickSize, 'priceFilter.tickSize'),
    qtyStep: num(lf.qtyStep, 'lotSizeFilter.qtyStep'),
    minOrderQty: num(lf.minOrderQty, 'lotSizeFilter.minOrderQty'),
    maxOrderQty: num(lf.maxOrderQty, 'lotSizeFilter.maxOrderQty'),
    minNotional: num(lf.minNotionalValue ?? '0', 'lotSizeFilter.minNotionalValue'),
    maxLeverage: num(lev.maxLeverage, 'leverageFilter.maxLeverage'),
    fundingIntervalMin: num(r.fundingInterval ?? 0, 'fundingInterval'),
  };
}

export interface Ticker {
  readonly symbol: SymbolId;
  readonly lastPrice: number;
  readonly markPrice: number;
  readonly indexPrice: number;
  readonly bid1Price: number;
  readonly bid1Size: number;
  readonly ask1Price: number;
  readonly ask1Size: number;
  readonly highPrice24h: number;
  readonly lowPrice24h: number;
  readonly volume24h: number;
  readonly turnover24h: number;
  readonly openInterest: number;
  readonly fundingRate: number;
  readonly nextFundingTimeMs: number;
}

export function parseTicker(r: Record<string, unknown>): Ticker {
  const n = (k: string): number => num(r[k], k, true);
  return {
    symbol: String(r.symbol), lastPrice: num(r.lastPrice, 'lastPrice'), markPrice: n('markPrice'), indexPrice: n('indexPrice'),
    bid1Price: n('bid1Price'), bid1Size: n('bid1Size'), ask1Price: n('ask1Price'), ask1Size: n('ask1Size'),
    highPrice24h: n('highPrice24h'), lowPrice24h: n('lowPrice24h'), volume24h: n('volume24h'), turnover24h: n('turnover24h'),
    openInterest: n('openInterest'), fundingRate: n('fundingRate'), nextFundingTimeMs: n('nextFundingTime'),
  };
}

export interface BookLevel {
  readonly price: number;
  readonly size: number;
}

export interface OrderBookSnapshot {
  readonly symbol: SymbolId;
  /** Best first. */
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly updateId: number;
  readonly tsMs: number;
}

export function parseLevels(v: unknown, field: string): BookLevel[] {
  if (!Array.isArray(v)) throw new BybitProtocolError(field, `'${field}' is not an array of levels`);
  return v.map((l: unknown, i) => {
    if (!Array.isArray(l) || l.length < 2) throw new BybitProtocolError(field, `${field}[${i}] is not [price, size]`);
    return { price: num(l[0], `${field}[${i}].price`), size: num(l[1], `${field}[${i}].size`) };
  });
}

export interface FundingRate {
  readonly symbol: SymbolId;
  readonly rate: number;
  readonly tsMs: number;
}

export interface OpenInterestPoint {
  readonly tsMs: number;
  readonly openInterest: number;
}

const STATUS: Readonly<Record<string, OrderStatus>> = {
  New: 'new', Created: 'new', Untriggered: 'new', PartiallyFilled: 'partially_filled', Filled: 'filled',
  Cancelled: 'cancelled', PartiallyFilledCanceled: 'cancelled', Deactivated: 'cancelled', Triggered: 'new', Rejected: 'rejected',
};

export function parseOrder(r: Record<string, unknown>): Order {
  const status = STATUS[String(r.orderStatus)];
  if (!status) throw new BybitProtocolError('order', `unknown orderStatus '${String(r.orderStatus)}'`);
  const filled = num(r.cumExecQty, 'cumExecQty');
  const price = optPrice(r.price, 'price');
  const type = r.orderType === 'Limit' ? 'limit' : 'market';
  return {
    id: String(r.orderId), clientOrderId: String(r.orderLinkId ?? ''), symbol: String(r.symbol),
    side: r.side === 'Sell' ? 'sell' : 'buy', type, qty: num(r.qty, 'qty'),
    ...(type === 'limit' && price !== undefined ? { price } : {}),
    reduceOnly: r.reduceOnly === true,
    ...(optPrice(r.stopLoss, 'stopLoss') !== undefined ? { stopLossPrice: optPrice(r.stopLoss, 'stopLoss') } : {}),
    ...(optPrice(r.takeProfit, 'takeProfit') !== undefined ? { takeProfitPrice: optPrice(r.takeProfit, 'takeProfit') } : {}),
    status, filledQty: filled,
    ...(filled > 0 ? { avgFillPrice: num(r.avgPrice, 'avgPrice') } : {}),
    ...(r.cumExecFee !== undefined && r.cumExecFee !== '' ? { fee: num(r.cumExecFee, 'cumExecFee') } : {}),
    createdMs: num(r.createdTime, 'createdTime'), updatedMs: num(r.updatedTime, 'updatedTime'),
  };
}

/** A position row, or undefined for the flat placeholder Bybit lists (size 0). */
export function parsePosition(r: Record<string, unknown>): Position | undefined {
  const size = num(r.size, 'size');
  if (!(size > 0)) return undefined;
  const liq = optPrice(r.liqPrice, 'liqPrice');
  const sl = optPrice(r.stopLoss, 'stopLoss');
  const tp = optPrice(r.takeProfit, 'takeProfit');
  return {
    // REST says avgPrice, the private WebSocket says entryPrice.
    symbol: String(r.symbol), side: r.side === 'Sell' ? 'short' : 'long', qty: size, entryPrice: num(r.avgPrice ?? r.entryPrice, 'avgPrice'),
    leverage: num(r.leverage, 'leverage'),
    ...(sl !== undefined ? { stopLossPrice: sl } : {}),
    ...(tp !== undefined ? { takeProfitPrice: tp } : {}),
    ...(liq !== undefined ? { liquidationPrice: liq } : {}),
    unrealizedPnl: num(r.unrealisedPnl, 'unrealisedPnl', true),
    openedMs: num(r.createdTime, 'createdTime'),
  };
}

/** A private `execution` row -> core Fill (reason 'signal': the venue does not say why). */
export function parseExecution(r: Record<string, unknown>): Fill {
  return {
    orderId: String(r.orderId), clientOrderId: String(r.orderLinkId ?? ''), symbol: String(r.symbol), side: r.side === 'Sell' ? 'sell' : 'buy',
    qty: num(r.execQty, 'execQty'), price: num(r.execPrice, 'execPrice'), fee: num(r.execFee, 'execFee'),
    liquidity: r.isMaker === true ? 'maker' : 'taker', reason: 'signal', tsMs: num(r.execTime, 'execTime'),
  };
}

/** A unified-account wallet row (REST list entry or private `wallet` push) -> core Balance. */
export function parseWallet(r: Record<string, unknown>): Balance {
  return { equity: num(r.totalEquity, 'totalEquity'), available: num(r.totalAvailableBalance, 'totalAvailableBalance'), currency: 'USDT' };
}
