import type { Regime } from '@task-agnostic/core';
import type { SharedFusionConfig } from './config.js';

export interface Exits {
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
}

/** Source RiskParameters regime multipliers: [stop-loss, take-profit] x the base values. */
export const REGIME_EXIT_MULTIPLIERS: Readonly<Record<Regime, readonly [number, number]>> = {
  bull: [1, 1.2],
  bear: [1, 1.2],
  sideways: [0.67, 0.6],
  low_volatility: [0.67, 0.6],
  high_volatility: [1.67, 1.6],
};

/**
 * Regime-aware stop-loss and take-profit (source: get_stop_loss / get_take_profit): the base
 * values times the regime multipliers, widened x1.5 / x1.3 above the high volatility percentile.
 * Without a regime the base values are used; without a volatility percentile no widening.
 */
export function regimeExits(regime: Regime | undefined, volatilityPercentile: number | undefined, config: SharedFusionConfig): Exits {
  const [ms, mt] = regime ? REGIME_EXIT_MULTIPLIERS[regime] : [1, 1];
  let stop = config.exits.baseStopLossPct * ms;
  let take = config.exits.baseTakeProfitPct * mt;
  if (volatilityPercentile !== undefined && volatilityPercentile > config.volatilityBands.highPercentile) {
    stop *= config.exits.stopWidening;
    take *= config.exits.takeProfitWidening;
  }
  return { stopLossPct: stop, takeProfitPct: take };
}
