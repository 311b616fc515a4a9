import type { LayerContext, LayerResult } from './types.js';
import { approve, pct, shrinkTo, veto } from './types.js';

/** Market layer: circuit breaker on an extreme bar, extreme volatility, spread, and order size vs book depth. */
export function marketLayer(ctx: LayerContext): LayerResult {
  const m = ctx.state.market;
  const p = ctx.config.market;
  if (ctx.volatilityPercentile >= p.vetoVolatilityPercentile) {
    return veto('market', `volatility percentile ${ctx.volatilityPercentile.toFixed(3)} >= ${p.vetoVolatilityPercentile}`);
  }
  if (!m) return approve('market', ctx.sizeFraction, 'no market state: spread and depth not checked');
  if (m.lastBarMovePct !== undefined && Math.abs(m.lastBarMovePct) > p.maxBarMovePct) {
    return veto('market', `circuit breaker: last bar moved ${pct(m.lastBarMovePct, 1)} (limit ${pct(p.maxBarMovePct, 0)})`);
  }
  if (m.spreadPct !== undefined && m.spreadPct > p.maxSpreadPct) {
    return veto('market', `spread ${pct(m.spreadPct, 3)} > ${pct(p.maxSpreadPct, 3)}`);
  }
  if (m.depthNotional !== undefined) {
    const equity = ctx.state.account.equity;
    const maxNotional = p.maxDepthShare * m.depthNotional;
    if (maxNotional <= 0) return veto('market', 'no liquidity: empty book');
    const notional = ctx.sizeFraction * equity;
    if (notional > maxNotional) {
      return shrinkTo('market', ctx.sizeFraction, maxNotional / equity, `liquidity: order ${notional.toFixed(0)} > ${pct(p.maxDepthShare, 0)} of depth ${m.depthNotional.toFixed(0)}`);
    }
  }
  return approve('market', ctx.sizeFraction);
}
