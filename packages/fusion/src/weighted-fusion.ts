import type { TaskOutputs, TradingDecision } from '@task-agnostic/core';
import { computeAgreement } from './agreement.js';
import type { Lean } from './agreement.js';
import { checkTaskOutputs } from './check-outputs.js';
import { DEFAULT_WEIGHTED_FUSION_CONFIG, parseWeightedFusionConfig } from './config.js';
import type { FusionContext, WeightedFusionConfig, WeightedFusionConfigInput } from './config.js';
import { normalCdf } from './direction.js';
import { regimeExits } from './exits.js';

const parsed = new WeakMap<object, WeightedFusionConfig>();

/** Parses a config once per object (configs are treated as immutable), so hot loops pay zod once. */
function resolveConfig(config: unknown): WeightedFusionConfig {
  if (config === undefined) return DEFAULT_WEIGHTED_FUSION_CONFIG;
  if (typeof config !== 'object' || config === null) return parseWeightedFusionConfig(config);
  let c = parsed.get(config);
  if (!c) {
    c = parseWeightedFusionConfig(config);
    parsed.set(config, c);
  }
  return c;
}

/** The source's signal classes. */
export type SignalType = 'strong_buy' | 'buy' | 'hold' | 'sell' | 'strong_sell';

/** Source table: >= 0.40 strong buy, >= 0.15 buy, -0.15..0.15 hold, <= -0.15 sell, <= -0.40 strong sell. */
export function classifySignal(signal: number, thresholds: WeightedFusionConfig['thresholds']): SignalType {
  if (signal >= thresholds.strong) return 'strong_buy';
  if (signal >= thresholds.entry) return 'buy';
  if (signal <= -thresholds.strong) return 'strong_sell';
  if (signal <= -thresholds.entry) return 'sell';
  return 'hold';
}

export interface WeightedSignal {
  readonly signal: number;
  readonly confidence: number;
  readonly type: SignalType;
  readonly notes: readonly string[];
}

/**
 * The variant design's pipeline, step by step: signal += 0.35 x (p_up - p_down);
 * (+ returnWeight x clamp(mu/sigma)); confidence *= 1 - 0.3 x volatility level (its percentile);
 * signal *= 1.2 in a trending regime; signal *= 1 - 0.5 x P(high risk).
 * The starting confidence is the direction head's probability of the side the signal points to
 * (the source does not say where its 0.72 starts; this is ours).
 */
export function weightedSignal(outputs: TaskOutputs, cfg: WeightedFusionConfig): WeightedSignal {
  const notes: string[] = [];
  let signal = 0;
  const d = outputs.direction;
  if (d) {
    const s = cfg.directionWeight * (d.up - d.down);
    signal += s;
    notes.push(`direction: signal += ${cfg.directionWeight} x (${d.up.toFixed(2)} - ${d.down.toFixed(2)}) = ${s >= 0 ? '+' : ''}${s.toFixed(4)}`);
  }
  const r = outputs.return;
  if (r && cfg.returnWeight > 0) {
    const z = r.std > 0 ? Math.max(-1, Math.min(1, r.expected / r.std)) : Math.sign(r.expected);
    signal += cfg.returnWeight * z;
    notes.push(`return: signal += ${cfg.returnWeight} x clamp(mu/sigma) ${z.toFixed(2)}`);
  }
  if (!d && !(r && cfg.returnWeight > 0)) notes.push('no direction head (and returnWeight 0): no directional signal');
  if (outputs.regime) {
    if ((cfg.trendingRegimes as readonly string[]).includes(outputs.regime.label)) {
      signal *= cfg.trendingBoost;
      notes.push(`regime ${outputs.regime.label} is trending: signal x${cfg.trendingBoost}`);
    } else notes.push(`regime ${outputs.regime.label}: no boost`);
  }
  if (outputs.risk) {
    const f = 1 - cfg.riskDampening * outputs.risk.probs.high;
    signal *= f;
    notes.push(`risk P(high) ${outputs.risk.probs.high.toFixed(2)}: signal x${f.toFixed(3)}`);
  }
  let confidence: number;
  if (d) confidence = signal > 0 ? d.up : signal < 0 ? d.down : d.sideways;
  else if (r && r.std > 0) confidence = normalCdf(Math.abs(r.expected) / r.std);
  else confidence = 0;
  if (outputs.volatility) {
    const f = 1 - cfg.volatilityConfidencePenalty * outputs.volatility.percentile;
    confidence *= f;
    notes.push(`volatility level ${outputs.volatility.percentile.toFixed(2)}: confidence x${f.toFixed(3)}`);
  }
  return { signal, confidence, type: classifySignal(signal, cfg.thresholds), notes };
}

/**
 * Weighted-signal fusion (the variant design): the signal's class sets the action and the share of
 * a full position (strong 100%, normal 50% of fullPositionFraction = 3% of equity). Agreement is
 * scored against the chosen side as in consistencyFusion; stops are regime-aware. Missing heads
 * are skipped and named in the reasoning.
 */
export function weightedSignalFusion(
  outputs: TaskOutputs,
  config?: WeightedFusionConfig | WeightedFusionConfigInput,
  context: FusionContext = {},
): TradingDecision {
  const cfg = resolveConfig(config);
  const missing = checkTaskOutputs(outputs);
  const ws = weightedSignal(outputs, cfg);
  const action: TradingDecision['action'] = ws.type === 'strong_buy' || ws.type === 'buy' ? 'buy' : ws.type === 'hold' ? 'hold' : 'sell';
  const lean: Lean = action === 'buy' ? 'long' : action === 'sell' ? 'short' : 'neutral';
  const ag = computeAgreement(lean, outputs, cfg);
  const share = ws.type === 'strong_buy' || ws.type === 'strong_sell' ? cfg.positionShares.strong : action === 'hold' ? 0 : cfg.positionShares.normal;
  const sizeFraction = share * cfg.fullPositionFraction;
  const ex = action === 'hold' ? { stopLossPct: 0, takeProfitPct: 0 } : regimeExits(outputs.regime?.label, outputs.volatility?.percentile, cfg);
  const parts = [
    ...ws.notes,
    `signal ${ws.signal >= 0 ? '+' : ''}${ws.signal.toFixed(4)} -> ${ws.type.replace('_', ' ').toUpperCase()}` +
      (action === 'hold' ? '' : ` (${(share * 100).toFixed(0)}% of ${(cfg.fullPositionFraction * 100).toFixed(1)}% = ${(sizeFraction * 100).toFixed(2)}% of equity)`),
    `confidence ${ws.confidence.toFixed(2)}`,
    ...ag.notes,
    `agreement ${ag.agreement.toFixed(2)}`,
  ];
  if (action !== 'hold') parts.push(`stop ${(ex.stopLossPct * 100).toFixed(2)}%, take-profit ${(ex.takeProfitPct * 100).toFixed(2)}% (regime ${outputs.regime?.label ?? 'unknown: base exits'})`);
  if (missing.length) parts.push(`missing heads: ${missing.join(', ')}`);
  return {
    tsMs: context.tsMs ?? 0,
    ...(context.symbol ? { symbol: context.symbol } : {}),
    action,
    side: lean === 'neutral' ? 'flat' : lean,
    confidence: ws.confidence,
    agreement: ag.agreement,
    sizeFraction,
    stopLossPct: ex.stopLossPct,
    takeProfitPct: ex.takeProfitPct,
    reasoning: parts.join('; '),
    outputs,
  };
}
