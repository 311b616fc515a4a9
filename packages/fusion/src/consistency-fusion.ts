import type { TaskOutputs, TradingDecision } from '@task-agnostic/core';
import { computeAgreement, volatilityBand } from './agreement.js';
import { checkTaskOutputs } from './check-outputs.js';
import { DEFAULT_CONSISTENCY_FUSION_CONFIG, parseConsistencyFusionConfig } from './config.js';
import type { ConsistencyFusionConfig, ConsistencyFusionConfigInput, FusionContext } from './config.js';
import { directionView } from './direction.js';
import { regimeExits } from './exits.js';

/** The source agreement matrix's verdicts: TRADE (0.95), CAUTION (0.70), NO TRADE (0.30). */
export type AgreementLevel = 'trade' | 'caution' | 'no_trade';

/** Agreement at or above which the matrix says TRADE rather than CAUTION (ours: between 0.70 and 0.95). */
export const FULL_AGREEMENT = 0.8;

/** TRADE at >= 0.8, CAUTION at >= minAgreement (0.60), else NO TRADE. */
export function agreementLevel(agreement: number, minAgreement: number): AgreementLevel {
  if (agreement >= Math.max(FULL_AGREEMENT, minAgreement)) return 'trade';
  if (agreement >= minAgreement) return 'caution';
  return 'no_trade';
}

const parsed = new WeakMap<object, ConsistencyFusionConfig>();

/** Parses a config once per object (configs are treated as immutable), so hot loops pay zod once. */
function resolveConfig(config: unknown): ConsistencyFusionConfig {
  if (config === undefined) return DEFAULT_CONSISTENCY_FUSION_CONFIG;
  if (typeof config !== 'object' || config === null) return parseConsistencyFusionConfig(config);
  let c = parsed.get(config);
  if (!c) {
    c = parseConsistencyFusionConfig(config);
    parsed.set(config, c);
  }
  return c;
}

const pct = (x: number, d = 2): string => `${(x * 100).toFixed(d)}%`;

/**
 * The source design's DecisionFusion. The direction head gives the side and its probability;
 * consistency = mean of the regime and return agreements; confidence = p x (1 - w + w x consistency);
 * agreement = consistency x the volatility caution factor. Buy/sell when confidence >= minConfidence
 * and agreement >= minAgreement, else hold. Proposed size = 2% x volatility factor x
 * (confidence - min) / (1 - min); stops from regime and volatility. Missing heads are named in
 * the reasoning; a present head with bad values throws a DataError.
 */
export function consistencyFusion(
  outputs: TaskOutputs,
  config?: ConsistencyFusionConfig | ConsistencyFusionConfigInput,
  context: FusionContext = {},
): TradingDecision {
  const cfg = resolveConfig(config);
  const missing = checkTaskOutputs(outputs);
  const view = directionView(outputs, cfg.returnDeadband, cfg.directionRule);
  // The return head cannot confirm a side it chose itself.
  const crossCheck = view.source === 'return' ? { ...outputs, return: undefined } : outputs;
  const ag = computeAgreement(view.lean, crossCheck, cfg);
  const w = cfg.consistencyWeight;
  const confidence = view.confidence * (1 - w + w * ag.consistency);
  const level = agreementLevel(ag.agreement, cfg.minAgreement);

  const parts: string[] = [view.note, ...ag.notes];
  parts.push(
    `consistency ${ag.consistency.toFixed(2)}, agreement ${ag.agreement.toFixed(2)} (${level.replace('_', ' ')}); ` +
      `confidence ${confidence.toFixed(2)} = ${view.confidence.toFixed(2)} x (1 - ${w} + ${w} x ${ag.consistency.toFixed(2)})`,
  );

  let action: TradingDecision['action'] = 'hold';
  let why = '';
  if (view.lean === 'neutral') why = 'no side';
  else if (confidence < cfg.minConfidence) why = `confidence ${confidence.toFixed(2)} < minimum ${cfg.minConfidence}`;
  else if (ag.agreement < cfg.minAgreement) why = `agreement ${ag.agreement.toFixed(2)} < minimum ${cfg.minAgreement}: tasks conflict`;
  else action = view.lean === 'long' ? 'buy' : 'sell';

  let sizeFraction = 0;
  let stopLossPct = 0;
  let takeProfitPct = 0;
  if (action !== 'hold') {
    const volP = outputs.volatility?.percentile;
    const band = volP === undefined ? 'normal' : volatilityBand(volP, cfg.volatilityBands);
    const volFactor = band === 'high' ? cfg.volatilitySizeFactors.high : band === 'elevated' ? cfg.volatilitySizeFactors.elevated : 1;
    const confFactor = (confidence - cfg.minConfidence) / (1 - cfg.minConfidence);
    sizeFraction = cfg.baseSizeFraction * volFactor * confFactor;
    const ex = regimeExits(outputs.regime?.label, volP, cfg);
    stopLossPct = ex.stopLossPct;
    takeProfitPct = ex.takeProfitPct;
    parts.push(
      `${action.toUpperCase()} ${view.lean}: size ${pct(sizeFraction, 3)} = ${pct(cfg.baseSizeFraction, 1)} x vol ${volFactor} x conf ${confFactor.toFixed(2)}` +
        `${volP === undefined ? ' (volatility head missing: no volatility scaling)' : ''}; ` +
        `stop ${pct(stopLossPct)}, take-profit ${pct(takeProfitPct)} (regime ${outputs.regime?.label ?? 'unknown: base exits'})`,
    );
  } else {
    parts.push(`HOLD: ${why}`);
  }
  if (missing.length) parts.push(`missing heads: ${missing.join(', ')}`);

  return {
    tsMs: context.tsMs ?? 0,
    ...(context.symbol ? { symbol: context.symbol } : {}),
    action,
    side: action === 'buy' ? 'long' : action === 'sell' ? 'short' : 'flat',
    confidence,
    agreement: ag.agreement,
    sizeFraction,
    stopLossPct,
    takeProfitPct,
    reasoning: parts.join('; '),
    outputs,
  };
}
