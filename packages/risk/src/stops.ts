import type { Regime } from '@task-agnostic/core';
import type { RiskConfig } from './params.js';

/** Source get_stop_loss multipliers of the base stop (1.5%). */
const STOP_MULT: Readonly<Record<Regime, number>> = { bull: 1, bear: 1, sideways: 0.67, low_volatility: 0.67, high_volatility: 1.67 };
/** Source get_take_profit multipliers of the base take-profit (2.5%). */
const TAKE_MULT: Readonly<Record<Regime, number>> = { bull: 1.2, bear: 1.2, sideways: 0.6, low_volatility: 0.6, high_volatility: 1.6 };

/** RiskParameters::get_stop_loss: base x regime multiplier, x1.5 above the 80th volatility percentile. Unknown regime: base. */
export function stopLossPct(regime: Regime | undefined, volatilityPercentile: number, p: RiskConfig): number {
  const base = p.baseStopLoss * (regime ? STOP_MULT[regime] : 1);
  return volatilityPercentile > p.volatility.highPercentile ? base * p.volatility.stopWidening : base;
}

/** RiskParameters::get_take_profit: base x regime multiplier, x1.3 above the 80th volatility percentile. Unknown regime: base. */
export function takeProfitPct(regime: Regime | undefined, volatilityPercentile: number, p: RiskConfig): number {
  const base = p.baseTakeProfit * (regime ? TAKE_MULT[regime] : 1);
  return volatilityPercentile > p.volatility.highPercentile ? base * p.volatility.takeProfitWidening : base;
}
