import type { OrderRequest } from '@task-agnostic/core';
import type { OpenPosition } from './state.js';

/** What the trader must do when the kill switch is engaged: close everything, then stop trading. */
export interface FlattenIntent {
  readonly reason: string;
  /** One reduce-only market order per open position, opposite side, full quantity. */
  readonly orders: readonly OrderRequest[];
}

/** Bybit orderLinkId rules: <= 36 chars of [A-Za-z0-9_-]. */
function clientId(symbol: string, nowMs: number): string {
  return `kill-${symbol.replace(/[^A-Za-z0-9_-]/g, '')}-${nowMs}`.slice(0, 36);
}

/** Reduce-only market orders that flatten every open position (idempotent per position and time via clientOrderId). */
export function flattenOrders(positions: readonly OpenPosition[], nowMs: number): OrderRequest[] {
  const out: OrderRequest[] = [];
  for (const p of positions) {
    if (!(p.qty > 0)) continue;
    out.push({
      symbol: p.symbol,
      side: p.side === 'long' ? 'sell' : 'buy',
      type: 'market',
      qty: p.qty,
      reduceOnly: true,
      clientOrderId: clientId(p.symbol, nowMs),
    });
  }
  return out;
}
