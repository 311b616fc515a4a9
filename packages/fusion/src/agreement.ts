import type { Regime, TaskOutputs } from '@task-agnostic/core';
import type { SharedFusionConfig } from './config.js';

/** The direction a fusion leans to before sizing. */
export type Lean = 'long' | 'short' | 'neutral';

/**
 * Agreement of a direction with a regime, the source design's table
 * (DecisionFusion::check_regime_consistency): long+bull 1.0, short+bear 1.0, neutral+sideways 1.0,
 * long+low-volatility 0.7, short+high-volatility 0.6, long+bear 0.2, short+bull 0.2, otherwise 0.5.
 */
export function regimeAgreement(lean: Lean, regime: Regime): number {
  if (lean === 'long' && regime === 'bull') return 1.0;
  if (lean === 'short' && regime === 'bear') return 1.0;
  if (lean === 'neutral' && regime === 'sideways') return 1.0;
  if (lean === 'long' && regime === 'low_volatility') return 0.7;
  if (lean === 'short' && regime === 'high_volatility') return 0.6;
  if (lean === 'long' && regime === 'bear') return 0.2;
  if (lean === 'short' && regime === 'bull') return 0.2;
  return 0.5;
}

/**
 * Agreement of a direction with the sign of the expected return, "likewise": the same side 1.0,
 * the opposite side 0.2, neutral with no move (|mu| <= deadband) 1.0, otherwise 0.5.
 */
export function returnAgreement(lean: Lean, expectedReturn: number, deadband: number): number {
  const flat = Math.abs(expectedReturn) <= deadband;
  if (lean === 'neutral') return flat ? 1.0 : 0.5;
  if (flat) return 0.5;
  const up = expectedReturn > 0;
  return (lean === 'long') === up ? 1.0 : 0.2;
}

/** Which volatility band a percentile falls in (source: above 0.6 elevated, above 0.8 high). */
export function volatilityBand(percentile: number, bands: SharedFusionConfig['volatilityBands']): 'normal' | 'elevated' | 'high' {
  if (percentile > bands.highPercentile) return 'high';
  if (percentile > bands.elevatedPercentile) return 'elevated';
  return 'normal';
}

export interface AgreementResult {
  /** Consistency of regime and return with the lean: the mean of the available checks (source formula). */
  readonly consistency: number;
  /** consistency x the volatility caution factor, in [0, 1]. */
  readonly agreement: number;
  readonly regime: number | null;
  readonly return: number | null;
  readonly volatilityFactor: number;
  /** Human-readable parts for the reasoning. */
  readonly notes: readonly string[];
}

const pct = (x: number, d = 2): string => `${(x * 100).toFixed(d)}%`;

/**
 * How much the other heads agree with `lean`. consistency = mean of the regime and return checks
 * that are available (source: (regime_agreement + return_agreement) / 2); with neither head, 0.5
 * ("otherwise" in the source table: unknown, not agreement). agreement = consistency x a factor
 * below 1 when volatility is elevated or high (the agreement matrix's "volatility warns").
 */
export function computeAgreement(lean: Lean, outputs: TaskOutputs, config: SharedFusionConfig): AgreementResult {
  const notes: string[] = [];
  let sum = 0;
  let n = 0;
  let reg: number | null = null;
  let ret: number | null = null;
  if (outputs.regime) {
    reg = regimeAgreement(lean, outputs.regime.label);
    sum += reg;
    n++;
    notes.push(`regime ${outputs.regime.label} vs ${lean}: ${reg.toFixed(2)}`);
  }
  if (outputs.return) {
    ret = returnAgreement(lean, outputs.return.expected, config.returnDeadband);
    sum += ret;
    n++;
    notes.push(`expected return ${outputs.return.expected >= 0 ? '+' : ''}${pct(outputs.return.expected)} vs ${lean}: ${ret.toFixed(2)}`);
  }
  const consistency = n > 0 ? sum / n : 0.5;
  if (n === 0) notes.push('no regime or return head to cross-check: consistency 0.50');
  let volatilityFactor = 1;
  if (outputs.volatility) {
    const band = volatilityBand(outputs.volatility.percentile, config.volatilityBands);
    if (band === 'high') volatilityFactor = config.volatilityAgreementFactors.high;
    else if (band === 'elevated') volatilityFactor = config.volatilityAgreementFactors.elevated;
    if (volatilityFactor < 1) {
      notes.push(`volatility ${band} (percentile ${outputs.volatility.percentile.toFixed(2)}) warns: agreement x${volatilityFactor.toFixed(2)}`);
    }
  }
  return { consistency, agreement: consistency * volatilityFactor, regime: reg, return: ret, volatilityFactor, notes };
}
