import type { RiskConfig } from './params.js';

export type VolatilityRank = 'low' | 'elevated' | 'high';

/** Source bands: above the 80th percentile high, above the 60th elevated. */
export function volatilityRank(percentile: number, p: RiskConfig): VolatilityRank {
  if (percentile > p.volatility.highPercentile) return 'high';
  if (percentile > p.volatility.elevatedPercentile) return 'elevated';
  return 'low';
}

/** Source vol_factor: 0.5 above the 80th percentile, 0.75 above the 60th, else 1. */
export function volatilityFactor(percentile: number, p: RiskConfig): number {
  const r = volatilityRank(percentile, p);
  return r === 'high' ? p.volatility.highFactor : r === 'elevated' ? p.volatility.elevatedFactor : 1;
}

export interface SizeResult {
  readonly sizeFraction: number;
  /** Why it is zero, or the formula with its factors. */
  readonly explain: string;
}

/**
 * RiskParameters::calculate_position_size: 0 below min confidence (0.50) or min agreement (0.60)
 * or with no exposure left; else base 2% x (c - 0.5) / 0.5 x (a - 0.6) / 0.4 x vol factor x 1.5,
 * capped by the remaining exposure (10% - current).
 */
export function positionSize(confidence: number, agreement: number, volatilityPercentile: number, currentExposure: number, p: RiskConfig): SizeResult {
  if (confidence < p.minConfidence) return { sizeFraction: 0, explain: `confidence ${confidence.toFixed(2)} < minimum ${p.minConfidence}` };
  if (agreement < p.minAgreement) return { sizeFraction: 0, explain: `agreement ${agreement.toFixed(2)} < minimum ${p.minAgreement}` };
  const remaining = p.maxTotalExposure - currentExposure;
  if (remaining <= 0) return { sizeFraction: 0, explain: `exposure ${(currentExposure * 100).toFixed(2)}% at the ${(p.maxTotalExposure * 100).toFixed(0)}% limit` };
  const cf = (confidence - p.minConfidence) / (1 - p.minConfidence);
  const af = (agreement - p.minAgreement) / (1 - p.minAgreement);
  const vf = volatilityFactor(volatilityPercentile, p);
  const raw = p.baseSize * cf * af * vf * p.maxPositionMultiplier;
  const size = Math.min(raw, remaining);
  return {
    sizeFraction: size,
    explain:
      `${(p.baseSize * 100).toFixed(1)}% x conf ${cf.toFixed(2)} x agreement ${af.toFixed(2)} x vol ${vf} x ${p.maxPositionMultiplier} = ${(raw * 100).toFixed(3)}%` +
      (size < raw ? `, capped at the remaining exposure ${(remaining * 100).toFixed(3)}%` : ''),
  };
}

/**
 * The source's sizing table (multiplier of the 2% base): confidence 0.90+ -> 1.5 (low vol) / 0.75
 * (high vol); 0.70-0.90 -> 1.0 / 0.5; 0.50-0.70 -> 0.5 / 0.25; below 0.50 -> 0. "High" is above
 * the 80th percentile, where the formula halves; between the 60th and 80th (a band the table does
 * not list) the low-vol multiplier x 0.75, as in the formula.
 */
export function sizingTableMultiplier(confidence: number, volatilityPercentile: number, p: RiskConfig): number {
  if (confidence < p.minConfidence) return 0;
  const low = confidence >= 0.9 ? 1.5 : confidence >= 0.7 ? 1.0 : 0.5;
  return low * volatilityFactor(volatilityPercentile, p);
}

/**
 * Kelly fraction f* = p - (1 - p) / b from trade returns (p = win rate, b = mean win / mean loss);
 * NaN with no wins or no losses to estimate b from. May be negative (no edge).
 */
export function kellyFraction(tradeReturns: ArrayLike<number>): number {
  let wins = 0;
  let losses = 0;
  let sumWin = 0;
  let sumLoss = 0;
  for (let i = 0; i < tradeReturns.length; i++) {
    const r = tradeReturns[i]!;
    if (r > 0) {
      wins++;
      sumWin += r;
    } else if (r < 0) {
      losses++;
      sumLoss -= r;
    }
  }
  const n = wins + losses;
  if (wins === 0 || losses === 0) return NaN;
  const pWin = wins / n;
  const b = sumWin / wins / (sumLoss / losses);
  return pWin - (1 - pWin) / b;
}

/** 1 up to brakeStartDrawdown, 0 from brakeFullDrawdown, linear between. */
export function drawdownBrake(drawdown: number, p: RiskConfig): number {
  const { brakeStartDrawdown: a, brakeFullDrawdown: b } = p.kelly;
  if (drawdown <= a) return 1;
  if (drawdown >= b) return 0;
  return 1 - (drawdown - a) / (b - a);
}

/**
 * Fractional Kelly with a drawdown brake, as a cap on the position (fraction of equity):
 * fraction (0.25) x max(0, f*) x brake(drawdown). NaN when there is not enough history.
 */
export function kellyCap(tradeReturns: ArrayLike<number>, drawdown: number, p: RiskConfig): number {
  if (tradeReturns.length < p.kelly.minTrades) return NaN;
  const f = kellyFraction(tradeReturns);
  if (Number.isNaN(f)) return NaN;
  return p.kelly.fraction * Math.max(0, f) * drawdownBrake(drawdown, p);
}

/**
 * The conviction factor of the account-sized modes: confidence x agreement, in [0, 1]. Unlike the
 * source formula it is not rescaled from the entry thresholds (minConfidence / minAgreement only
 * gate): thresholds fitted on validation may sit anywhere, and a trade just past one should not be
 * sized near zero.
 */
export function convictionFactor(confidence: number, agreement: number, _p?: RiskConfig): number {
  return Math.max(0, Math.min(1, confidence)) * Math.max(0, Math.min(1, agreement));
}

/**
 * Volatility target: the fraction of equity whose volatility is the target,
 * targetAnnualVol / (forecast per bar x sqrt(barsPerYear)), capped at maxLeverage; then x conviction
 * and capped by the remaining exposure. NaN / missing forecast: size 0 with the reason.
 */
export function volTargetSize(confidence: number, agreement: number, volatilityPerBar: number | undefined, currentExposure: number, p: RiskConfig): SizeResult {
  const s = p.sizing;
  if (volatilityPerBar === undefined || !Number.isFinite(volatilityPerBar) || volatilityPerBar < 0) {
    return { sizeFraction: 0, explain: `volatility target: no volatility forecast (the decision carries no volatility head output${volatilityPerBar === undefined ? '' : `, got ${String(volatilityPerBar)}`})` };
  }
  const annual = Math.max(volatilityPerBar, s.minVolatility) * Math.sqrt(s.barsPerYear);
  const raw = s.targetAnnualVol / annual;
  const lev = Math.min(raw, s.maxLeverage);
  return scaled(`vol target ${pct(s.targetAnnualVol)} / forecast ${pct(annual)} = ${raw.toFixed(3)}x${raw > s.maxLeverage ? ` capped at ${s.maxLeverage}x` : ''}`, lev, confidence, agreement, currentExposure, p);
}

/**
 * Risk per trade: the fraction of equity that loses riskPerTrade at the stop, riskPerTrade / stopLossPct,
 * capped at maxLeverage; then x conviction and capped by the remaining exposure.
 */
export function riskPerTradeSize(confidence: number, agreement: number, stopLossPct: number, currentExposure: number, p: RiskConfig): SizeResult {
  const s = p.sizing;
  if (!(stopLossPct > 0)) return { sizeFraction: 0, explain: `risk per trade: no stop distance (${String(stopLossPct)})` };
  const raw = s.riskPerTrade / stopLossPct;
  const lev = Math.min(raw, s.maxLeverage);
  return scaled(`risk ${pct(s.riskPerTrade)} / stop ${pct(stopLossPct)} = ${raw.toFixed(3)}x${raw > s.maxLeverage ? ` capped at ${s.maxLeverage}x` : ''}`, lev, confidence, agreement, currentExposure, p);
}

/**
 * Decision mode: the size the decision proposes (a policy that sizes itself), capped at maxLeverage
 * and by the remaining exposure (maxTotalExposure - the other symbols'). No proposed size: 0.
 */
export function decisionSize(proposed: number, currentExposure: number, p: RiskConfig): SizeResult {
  if (!(proposed > 0)) return { sizeFraction: 0, explain: 'the decision proposes no size' };
  const remaining = p.maxTotalExposure - currentExposure;
  if (remaining <= 0) return { sizeFraction: 0, explain: `exposure ${pct(currentExposure)} at the ${pct(p.maxTotalExposure)} limit` };
  const cap = Math.min(p.sizing.maxLeverage, remaining);
  const size = Math.min(proposed, cap);
  return {
    sizeFraction: size,
    explain: `the decision's size ${pct(proposed)}` + (size < proposed ? `, capped at ${pct(cap)} (${cap === p.sizing.maxLeverage ? `max leverage ${p.sizing.maxLeverage}x` : 'the remaining exposure'})` : ''),
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function scaled(head: string, leverage: number, confidence: number, agreement: number, currentExposure: number, p: RiskConfig): SizeResult {
  if (confidence < p.minConfidence) return { sizeFraction: 0, explain: `confidence ${confidence.toFixed(2)} < minimum ${p.minConfidence}` };
  if (agreement < p.minAgreement) return { sizeFraction: 0, explain: `agreement ${agreement.toFixed(2)} < minimum ${p.minAgreement}` };
  const remaining = p.maxTotalExposure - currentExposure;
  if (remaining <= 0) return { sizeFraction: 0, explain: `exposure ${pct(currentExposure)} at the ${pct(p.maxTotalExposure)} limit` };
  const k = convictionFactor(confidence, agreement, p);
  const raw = leverage * k;
  const size = Math.min(raw, remaining);
  return {
    sizeFraction: size,
    explain: `${head} x conviction ${k.toFixed(2)} = ${pct(raw)}` + (size < raw ? `, capped at the remaining exposure ${pct(remaining)}` : ''),
  };
}
