/**
 * The decision policy: each fusion's thresholds fitted on the validation split (beside the source
 * design's values) and a fusion function that uses them. Fitting is a search over candidates drawn
 * from the model's own validation signals (quantiles of its confidence or signal strength), each
 * scored by a caller-supplied objective (the trainer backtests it net of fees and slippage over the
 * validation bars); the best one with enough trades on every symbol wins. This file never sees a
 * test row: it only knows the outputs and the scores it is handed.
 */
import { ConfigError } from '@task-agnostic/core';
import type { TaskOutputs, TradingDecision } from '@task-agnostic/core';
import { computeAgreement } from './agreement.js';
import { consistencyFusion } from './consistency-fusion.js';
import { DEFAULT_CONSISTENCY_FUSION_CONFIG, DEFAULT_WEIGHTED_FUSION_CONFIG, parseConsistencyFusionConfig, parseWeightedFusionConfig } from './config.js';
import type { ConsistencyFusionConfig, FusionContext, WeightedFusionConfig } from './config.js';
import { directionView } from './direction.js';
import { weightedSignal, weightedSignalFusion } from './weighted-fusion.js';

export type FusionMethod = 'consistency' | 'weighted';

/** One fusion's fitted policy, as it travels in the model artifact. */
export interface FusionPolicy {
  /** Fitted values: consistency {minConfidence, minAgreement}; weighted {entry, strong}. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** The source design's values of the same keys. */
  readonly seed: Readonly<Record<string, number>>;
  /** Other fitted choices (consistency: directionRule). */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  /** The risk gate's entry thresholds that go with the fusion's. */
  readonly gate: { readonly minConfidence: number; readonly minAgreement: number };
  /** Heads whose signal the policy reads. */
  readonly requiredHeads: readonly string[];
  /**
   * Risk settings fitted with the thresholds (how positions are held: the gate's exits mode, the
   * resize band), merged over the configured risk config by the trainer and the trader alike.
   */
  readonly risk?: Readonly<Record<string, unknown>>;
}

/** The source design's thresholds of a fusion config. */
export function seedThresholds(method: FusionMethod, config?: unknown): Record<string, number> {
  if (method === 'consistency') {
    const c = config === undefined ? DEFAULT_CONSISTENCY_FUSION_CONFIG : parseConsistencyFusionConfig(config);
    return { minConfidence: c.minConfidence, minAgreement: c.minAgreement };
  }
  const c = config === undefined ? DEFAULT_WEIGHTED_FUSION_CONFIG : parseWeightedFusionConfig(config);
  return { entry: c.thresholds.entry, strong: c.thresholds.strong };
}

/** A fusion config with a policy's thresholds and options put in (the rest of `config` kept). */
export function withPolicy(method: 'consistency', config: unknown, policy: Pick<FusionPolicy, 'thresholds' | 'options'>): ConsistencyFusionConfig;
export function withPolicy(method: 'weighted', config: unknown, policy: Pick<FusionPolicy, 'thresholds' | 'options'>): WeightedFusionConfig;
export function withPolicy(method: FusionMethod, config: unknown, policy: Pick<FusionPolicy, 'thresholds' | 'options'>): ConsistencyFusionConfig | WeightedFusionConfig;
export function withPolicy(method: FusionMethod, config: unknown, policy: Pick<FusionPolicy, 'thresholds' | 'options'>): ConsistencyFusionConfig | WeightedFusionConfig {
  const t = policy.thresholds;
  const num = (k: string): number => {
    const v = t[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`the ${method} policy has no finite '${k}' threshold`, `decisionPolicy.fusions.${method}.thresholds.${k}`);
    return v;
  };
  if (method === 'consistency') {
    const base = parseConsistencyFusionConfig(config ?? {});
    const rule = policy.options?.directionRule;
    return parseConsistencyFusionConfig({
      ...base,
      minConfidence: num('minConfidence'),
      minAgreement: num('minAgreement'),
      ...(rule === 'argmax' || rule === 'up-vs-down' ? { directionRule: rule } : {}),
    });
  }
  const base = parseWeightedFusionConfig(config ?? {});
  return parseWeightedFusionConfig({ ...base, thresholds: { entry: num('entry'), strong: num('strong') } });
}

export type Fuse = (outputs: TaskOutputs, context?: FusionContext) => TradingDecision;

/**
 * The fusion a method, its config and (optionally) a fitted policy make. With a policy, a decision
 * whose outputs lack a head the policy reads holds and says which signal is absent; without one,
 * the config's (seed) thresholds apply as they are.
 */
export function policyFusion(method: FusionMethod, config: unknown, policy: FusionPolicy | null | undefined): Fuse {
  const cfg = policy ? withPolicy(method, config, policy) : method === 'consistency' ? parseConsistencyFusionConfig(config ?? {}) : parseWeightedFusionConfig(config ?? {});
  const fused: Fuse =
    method === 'consistency' ? (o, ctx) => consistencyFusion(o, cfg as ConsistencyFusionConfig, ctx) : (o, ctx) => weightedSignalFusion(o, cfg as WeightedFusionConfig, ctx);
  const fuse: Fuse = policy?.options?.sides === 'long-only' ? (o, ctx) => longOnly(fused(o, ctx)) : fused;
  if (!policy || policy.requiredHeads.length === 0) return fuse;
  const required = [...policy.requiredHeads];
  return (outputs, context = {}) => {
    const absent = required.filter((h) => (outputs as Record<string, unknown>)[h] === undefined && (outputs.custom as Record<string, unknown> | undefined)?.[h] === undefined);
    if (absent.length === 0) return fuse(outputs, context);
    return {
      tsMs: context.tsMs ?? 0,
      ...(context.symbol ? { symbol: context.symbol } : {}),
      action: 'hold',
      side: 'flat',
      confidence: 0,
      agreement: 0,
      sizeFraction: 0,
      stopLossPct: 0,
      takeProfitPct: 0,
      reasoning: `HOLD: the ${method} decision policy reads the ${absent.join(' and ')} head's signal, which is absent from the model's outputs`,
      outputs,
    };
  };
}

/**
 * A long-only policy (options.sides 'long-only', a choice the fit may make on validation): a short
 * decision closes the long instead (flat), so the strategy is long or out, never short.
 */
export function longOnly(d: TradingDecision): TradingDecision {
  if (d.side !== 'short') return d;
  return { ...d, action: 'sell', side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasoning: `${d.reasoning}; long-only policy: the short lean closes any long (flat)` };
}

/** One candidate of the search: thresholds and options. */
export interface PolicyCandidate {
  readonly thresholds: Readonly<Record<string, number>>;
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

/** Sorted unique quantiles (type 7) of `values` at the probabilities `qs`. */
export function quantiles(values: readonly number[], qs: readonly number[]): number[] {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return [];
  const out = qs.map((q) => {
    const h = (v.length - 1) * q;
    const lo = Math.floor(h);
    return v[lo]! + (h - lo) * ((v[Math.min(lo + 1, v.length - 1)] ?? v[lo]!) - v[lo]!);
  });
  return [...new Set(out.map((x) => +x.toPrecision(6)))].sort((a, b) => a - b);
}

const CONFIDENCE_QUANTILES = [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const SIGNAL_QUANTILES = [0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

/**
 * The candidates a fit searches, from the model's signals on the validation bars: consistency ->
 * minConfidence at quantiles of the confidence each side would have, minAgreement at the distinct
 * agreement values seen (at most 4), both direction rules; weighted -> entry at quantiles of |signal|,
 * strong at 1.5x, 2x and 3x entry. The seed values are always among them.
 */
export function policyCandidates(method: FusionMethod, outputs: readonly TaskOutputs[], config?: unknown): PolicyCandidate[] {
  const seed = seedThresholds(method, config);
  const out: PolicyCandidate[] = [];
  const key = (c: PolicyCandidate): string => JSON.stringify(c);
  const seen = new Set<string>();
  const push = (c: PolicyCandidate): void => {
    const k = key(c);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(c);
    }
  };
  if (method === 'consistency') {
    const cfg = parseConsistencyFusionConfig(config ?? {});
    for (const rule of ['argmax', 'up-vs-down'] as const) {
      const conf: number[] = [];
      const agree: number[] = [];
      for (const o of outputs) {
        const view = directionView(o, cfg.returnDeadband, rule);
        if (view.lean === 'neutral') continue;
        const cross = view.source === 'return' ? { ...o, return: undefined } : o;
        const ag = computeAgreement(view.lean, cross, cfg);
        conf.push(view.confidence * (1 - cfg.consistencyWeight + cfg.consistencyWeight * ag.consistency));
        agree.push(+ag.agreement.toFixed(6));
      }
      // Just below each quantile, so the quantile's own bar passes (>=).
      const cs = quantiles(conf, CONFIDENCE_QUANTILES).map((c) => Math.max(0, Math.min(0.99, c - 1e-6)));
      let as = [...new Set(agree)].sort((a, b) => a - b);
      if (as.length > 4) as = quantiles(as, [0, 0.4, 0.7, 1]);
      as = as.map((a) => Math.max(0, Math.min(0.99, a - 1e-6)));
      for (const c of cs) for (const a of as) push({ thresholds: { minConfidence: +c.toFixed(6), minAgreement: +a.toFixed(6) }, options: { directionRule: rule } });
    }
    push({ thresholds: seed, options: { directionRule: 'argmax' } });
    return out;
  }
  const cfg = parseWeightedFusionConfig(config ?? {});
  const mags = outputs.map((o) => Math.abs(weightedSignal(o, cfg).signal)).filter((x) => x > 0);
  for (const e of quantiles(mags, SIGNAL_QUANTILES)) {
    if (!(e > 0)) continue;
    for (const m of [1.5, 2, 3]) push({ thresholds: { entry: +e.toPrecision(6), strong: +(e * m).toPrecision(6) }, options: {} });
  }
  push({ thresholds: seed, options: {} });
  return out;
}

/** What the objective reports for one candidate. */
export interface CandidateScore {
  /** The objective (higher is better), e.g. the mean over symbols of the net Sharpe ratio. */
  readonly objective: number;
  /** Round trips (closed trades) per symbol. */
  readonly tradesBySymbol: Readonly<Record<string, number>>;
  /** Anything else to keep beside it (per-symbol Sharpe, fees, turnover). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface PolicySearchResult {
  readonly best: PolicyCandidate;
  readonly score: CandidateScore;
  /** Whether the best met the minimum trades on every symbol (else: the most-trading candidate, with a warning). */
  readonly feasible: boolean;
  readonly evaluated: number;
  readonly feasibleCount: number;
  readonly warning?: string;
}

/**
 * Scores every candidate and keeps the one with the highest objective among those with at least
 * `minTradesBySymbol[s]` round trips on every symbol. When none qualifies, the candidate whose worst
 * symbol trades most (ties: objective) is kept, with a warning. Ties on the objective go to the
 * earlier candidate, so the search is deterministic.
 */
export function searchPolicy(
  candidates: readonly PolicyCandidate[],
  evaluate: (c: PolicyCandidate) => CandidateScore,
  minTradesBySymbol: Readonly<Record<string, number>>,
): PolicySearchResult {
  if (candidates.length === 0) throw new ConfigError('no threshold candidates to search (the model gave no signal on the validation bars)', 'decisionPolicy');
  let best: { c: PolicyCandidate; s: CandidateScore } | null = null;
  let fallback: { c: PolicyCandidate; s: CandidateScore; worst: number } | null = null;
  let feasibleCount = 0;
  for (const c of candidates) {
    const s = evaluate(c);
    const ratios = Object.entries(minTradesBySymbol).map(([sym, min]) => (s.tradesBySymbol[sym] ?? 0) / Math.max(1, min));
    const worst = ratios.length ? Math.min(...ratios) : 0;
    const obj = Number.isFinite(s.objective) ? s.objective : -Infinity;
    if (worst >= 1) {
      feasibleCount++;
      if (!best || obj > (Number.isFinite(best.s.objective) ? best.s.objective : -Infinity)) best = { c, s };
    }
    if (!fallback || worst > fallback.worst || (worst === fallback.worst && obj > fallback.s.objective)) fallback = { c, s, worst };
  }
  if (best) return { best: best.c, score: best.s, feasible: true, evaluated: candidates.length, feasibleCount };
  const f = fallback!;
  const need = Object.entries(minTradesBySymbol).map(([s, m]) => `${s} ${m}`).join(', ');
  const got = Object.entries(f.s.tradesBySymbol).map(([s, n]) => `${s} ${n}`).join(', ');
  return {
    best: f.c,
    score: f.s,
    feasible: false,
    evaluated: candidates.length,
    feasibleCount: 0,
    warning: `no threshold candidate reached the minimum round trips on every symbol (need ${need}; the most-trading candidate made ${got}): kept it`,
  };
}
