import type { LayerContext, LayerResult } from './types.js';
import { approve, veto } from './types.js';

/**
 * Exchange layer: connectivity, the account's state readable, no order in flight with an unknown
 * outcome, stale data, rate-limit budget (an order and its stop need requests left).
 */
export function exchangeLayer(ctx: LayerContext): LayerResult {
  const x = ctx.state.exchange;
  const p = ctx.config.exchange;
  if (!x) return approve('exchange', ctx.sizeFraction, 'no exchange state: not checked');
  if (!x.connected) return veto('exchange', 'not connected');
  if (x.accountError !== undefined) return veto('exchange', `account state unknown (${x.accountError})`);
  if (x.unresolvedOrders !== undefined && x.unresolvedOrders > 0) {
    return veto('exchange', `${x.unresolvedOrders} order(s) unresolved (sent, outcome not known yet): no new entries until the exchange answers`);
  }
  const age = ctx.state.nowMs - x.lastDataMs;
  if (age > p.maxDataAgeMs) return veto('exchange', `market data is stale: last update ${(age / 1000).toFixed(0)} s ago (limit ${(p.maxDataAgeMs / 1000).toFixed(0)} s)`);
  if (x.rateLimitRemaining !== undefined && x.rateLimitRemaining < p.minRateLimitRemaining) {
    return veto('exchange', `rate-limit budget ${x.rateLimitRemaining} requests < ${p.minRateLimitRemaining}`);
  }
  return approve('exchange', ctx.sizeFraction, `data ${(age / 1000).toFixed(0)} s old`);
}
