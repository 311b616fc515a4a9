import { ConfigError, type Order, type OrderRequest, type SymbolId } from '@task-agnostic/core';
import { BybitApiError, BybitNetworkError } from './errors.js';
import type { BybitTransport } from './transport.js';
import { list, parseOrder } from './wire.js';

/** Bybit: orderLinkId is at most 36 characters of [A-Za-z0-9_-]. */
export const ORDER_LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
/** retCode 110072: "OrderLinkedID is duplicate" (the order exists already). */
export const RET_DUPLICATE_LINK_ID = 110072;

const fmt = (x: number): string => {
  // Plain decimal text (Bybit rejects exponent notation); 10 significant decimals are plenty.
  const s = x.toFixed(10).replace(/\.?0+$/, '');
  return s === '' || s === '-0' ? '0' : s;
};

export function validateOrderRequest(req: OrderRequest): void {
  if (!ORDER_LINK_ID.test(req.clientOrderId)) throw new ConfigError(`clientOrderId '${req.clientOrderId}' must be 1-36 characters of [A-Za-z0-9_-] (Bybit orderLinkId)`, 'clientOrderId');
  if (!(req.qty > 0) || !Number.isFinite(req.qty)) throw new ConfigError(`qty must be a positive number, got ${req.qty}`, 'qty');
  if (req.type === 'limit' && !(req.price! > 0)) throw new ConfigError('a limit order needs a positive price', 'price');
  for (const k of ['stopLossPrice', 'takeProfitPrice'] as const) {
    const v = req[k];
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new ConfigError(`${k} must be a positive price`, k);
  }
}

/** The POST /v5/order/create body for a request (one-way mode, linear). */
export function orderCreateBody(req: OrderRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    category: 'linear', symbol: req.symbol, side: req.side === 'buy' ? 'Buy' : 'Sell', orderType: req.type === 'limit' ? 'Limit' : 'Market',
    qty: fmt(req.qty), orderLinkId: req.clientOrderId, positionIdx: 0,
  };
  if (req.type === 'limit') {
    body.price = fmt(req.price!);
    body.timeInForce = 'GTC';
  }
  if (req.reduceOnly) body.reduceOnly = true;
  if (req.stopLossPrice !== undefined || req.takeProfitPrice !== undefined) {
    body.tpslMode = 'Full';
    if (req.stopLossPrice !== undefined) body.stopLoss = fmt(req.stopLossPrice);
    if (req.takeProfitPrice !== undefined) body.takeProfit = fmt(req.takeProfitPrice);
  }
  return body;
}

/** The order with this orderLinkId: open orders first (realtime), then history; undefined if none. */
export async function findOrderByLinkId(t: BybitTransport, symbol: SymbolId, linkId: string): Promise<Order | undefined> {
  for (const path of ['v5/order/realtime', 'v5/order/history']) {
    const r = await t.request<unknown>('private', 'GET', path, { category: 'linear', symbol, orderLinkId: linkId });
    const row = list<Record<string, unknown>>(r.result, path).find((o) => o.orderLinkId === linkId);
    if (row) return parseOrder(row);
  }
  return undefined;
}

export interface PlaceOutcome {
  readonly order: Order;
  /** Placement attempts sent (1 unless a timeout made us retry). */
  readonly attempts: number;
  /** True when the order was found by its orderLinkId after an unclear outcome. */
  readonly recovered: boolean;
}

/**
 * Places an order idempotently. A timeout or network error leaves the outcome unknown, so before
 * sending again the order is looked up by its orderLinkId: found -> that is the order; not found ->
 * place again (same orderLinkId, so Bybit itself rejects a late duplicate with 110072).
 */
export async function placeOrderIdempotent(t: BybitTransport, req: OrderRequest, maxAttempts: number): Promise<PlaceOutcome> {
  validateOrderRequest(req);
  const body = orderCreateBody(req);
  let lastErr: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      await t.request<unknown>('private', 'POST', 'v5/order/create', body, false);
      const order = await findOrderByLinkId(t, req.symbol, req.clientOrderId);
      if (order) return { order, attempts: attempt, recovered: false };
      lastErr = new BybitApiError('/v5/order/create', -1, 'order accepted but not found by orderLinkId');
    } catch (err) {
      lastErr = err;
      const duplicate = err instanceof BybitApiError && err.retCode === RET_DUPLICATE_LINK_ID;
      if (!(err instanceof BybitNetworkError) && !duplicate) throw err;
      const existing = await findOrderByLinkId(t, req.symbol, req.clientOrderId);
      if (existing) return { order: existing, attempts: attempt, recovered: true };
      if (duplicate) throw err;
    }
  }
  throw lastErr;
}
