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

export interface ExitLevels {
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
  /** 'volatility' when the volatility exits applied, else 'regime' (the mode asked for it, or no forecast). */
  readonly basis: 'regime' | 'volatility';
}

/**
 * The gate's exits for a new position. Mode 'regime': the source's (stopLossPct / takeProfitPct above).
 * Mode 'volatility': k x sigma x sqrt(horizonBars) with sigma the volatility head's per-bar forecast,
 * so the stop sits a fixed number of the expected move over the holding horizon away instead of a
 * fixed 1.5% that an ordinary hour of a volatile coin reaches; clamped to [minStopPct, maxStopPct]
 * (take-profit to [minStopPct, 1]). No usable forecast: the regime exits.
 */
export function exitLevels(regime: Regime | undefined, volatilityPercentile: number, volatilityPerBar: number | undefined, p: RiskConfig): ExitLevels {
  const e = p.exits;
  if (e.mode === 'volatility' && volatilityPerBar !== undefined && Number.isFinite(volatilityPerBar) && volatilityPerBar > 0) {
    const move = volatilityPerBar * Math.sqrt(e.horizonBars);
    const clamp = (x: number, hi: number) => Math.min(hi, Math.max(e.minStopPct, x));
    return { stopLossPct: clamp(e.stopVolMultiple * move, e.maxStopPct), takeProfitPct: clamp(e.takeProfitVolMultiple * move, 1), basis: 'volatility' };
  }
  return { stopLossPct: stopLossPct(regime, volatilityPercentile, p), takeProfitPct: takeProfitPct(regime, volatilityPercentile, p), basis: 'regime' };
}
