import { decisionSize, kellyCap, positionSize, riskPerTradeSize, sizingTableMultiplier, volTargetSize } from '../sizing.js';
import { exitLevels } from '../stops.js';
import type { LayerContext, LayerResult } from './types.js';
import { approve, pct, shrinkTo, veto } from './types.js';

/**
 * Position layer. Source mode: the source sizing (formula or table) from confidence, agreement and
 * volatility, capped by the remaining exposure, optionally by fractional Kelly; the fusion's proposal
 * is an upper bound (risk never enlarges a trade). volTarget / riskPerTrade modes: the size is the
 * mode's (see sizing.ts), with the same Kelly cap; fusion's proposal only says which side to take.
 * decision mode: the decision's own size (a policy that sizes itself), capped at max leverage and
 * the remaining exposure, with the same Kelly cap.
 */
export function positionLayer(ctx: LayerContext): LayerResult {
  const { decision: d, config: p } = ctx;
  let riskSize: number;
  let explain: string;
  const mode = p.sizing.mode;
  if (mode === 'volTarget') {
    const r = volTargetSize(d.confidence, d.agreement, d.outputs?.volatility?.expected, ctx.exposure, p);
    riskSize = r.sizeFraction;
    explain = r.explain;
  } else if (mode === 'decision') {
    const r = decisionSize(d.sizeFraction, ctx.exposure, p);
    riskSize = r.sizeFraction;
    explain = r.explain;
  } else if (mode === 'riskPerTrade') {
    const r = riskPerTradeSize(d.confidence, d.agreement, exitLevels(ctx.regime, ctx.volatilityPercentile, d.outputs?.volatility?.expected, p).stopLossPct, ctx.exposure, p);
    riskSize = r.sizeFraction;
    explain = r.explain;
  } else if (p.sizingMethod === 'table') {
    const m = sizingTableMultiplier(d.confidence, ctx.volatilityPercentile, p);
    const remaining = Math.max(0, p.maxTotalExposure - ctx.exposure);
    riskSize = Math.min(p.baseSize * m, remaining);
    explain = m === 0 ? `confidence ${d.confidence.toFixed(2)} < ${p.minConfidence}` : `table ${m}x of ${pct(p.baseSize, 1)}, remaining exposure ${pct(remaining, 3)}`;
    if (d.agreement < p.minAgreement) {
      riskSize = 0;
      explain = `agreement ${d.agreement.toFixed(2)} < minimum ${p.minAgreement}`;
    }
  } else {
    const r = positionSize(d.confidence, d.agreement, ctx.volatilityPercentile, ctx.exposure, p);
    riskSize = r.sizeFraction;
    explain = r.explain;
  }
  if (riskSize <= 0) return veto('position', explain);
  if (p.kelly.enabled && ctx.state.strategy) {
    const a = ctx.state.account;
    const peak = a.peakEquity ?? a.weekHighEquity;
    const dd = peak > 0 ? Math.max(0, (peak - a.equity) / peak) : 0;
    const cap = kellyCap(ctx.state.strategy.recentTradeReturns, dd, p);
    if (!Number.isNaN(cap)) {
      if (cap <= 0) return veto('position', `fractional Kelly ${cap.toFixed(4)} (drawdown ${pct(dd)}): no edge`);
      if (cap < riskSize) {
        explain += `; Kelly cap ${pct(cap, 3)} (drawdown ${pct(dd)})`;
        riskSize = cap;
      }
    }
  }
  if (mode !== 'source') return approve('position', riskSize, explain);
  const proposed = ctx.sizeFraction;
  if (proposed <= 0) return veto('position', 'the decision proposes no size');
  return riskSize < proposed ? shrinkTo('position', proposed, riskSize, explain) : approve('position', proposed, explain);
}
