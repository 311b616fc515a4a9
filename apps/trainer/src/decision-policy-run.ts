/**
 * The decision policy at training time: both fusions' thresholds fitted on the validation bars of
 * every symbol, to maximise the fused strategy's net Sharpe ratio (the backtest engine with its fees
 * and slippage, through the risk gate) subject to a minimum number of round trips per day on every
 * symbol. Only rows [trainEnd + purgeGap, valEnd) are predicted and backtested: no test candle is
 * read, so changing the test candles changes nothing fitted. The policy goes into the artifact
 * beside the source values; `decisionOf` turns it into the fusion and risk settings that the
 * trainer's backtest (and, the same way, the trader) use.
 */
import { barReturns } from '@task-agnostic/backtest';
import { ConfigError, INTERVAL_MS, sharpeRatio, type TaskOutputs } from '@task-agnostic/core';
import { policyCandidates, searchPolicy, seedThresholds, type FusionMethod, type FusionPolicy, type PolicyCandidate } from '@task-agnostic/fusion';
import type { DecisionPolicy, TaskAgnosticModel } from '@task-agnostic/model';
import { backtestOutputs } from './backtest-run.js';
import { decisionSetup, fmtThresholds } from './decision-setup.js';
import { trialSet, type TrialSet } from './deflation.js';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import type { Log } from './train-run.js';

export interface PolicyFitOptions {
  /** Round trips per day each symbol must make on validation (default 0.4, i.e. 1.2 per 3 days). */
  readonly minRoundTripsPerDay?: number;
  /** Validation days each symbol needs for a fit (default 14). */
  readonly minValidationDays?: number;
  readonly log?: Log;
}

export interface MethodFitReport {
  readonly thresholds: Record<string, number>;
  readonly seed: Record<string, number>;
  readonly options: Record<string, string | number | boolean>;
  readonly objective: number;
  readonly bySymbol: Record<string, { sharpe: number; trades: number; totalReturn: number; turnover: number; feesPaid: number }>;
  readonly seedScore: { objective: number; bySymbol: Record<string, { sharpe: number; trades: number }> };
  readonly evaluated: number;
  readonly feasible: number;
  /**
   * Per symbol, the candidates tried as the deflated Sharpe ratio needs them: how many (N) and the
   * sample variance of their per-bar net Sharpe ratios on the validation bars (V). Absent in reports
   * written before it existed.
   */
  readonly trials?: Record<string, TrialSet>;
  readonly warning?: string;
}

export interface PolicyFitReport {
  readonly objective: string;
  readonly validation: Record<string, { fromMs: number; toMs: number; bars: number; days: number; minRoundTrips: number }>;
  readonly methods: Partial<Record<FusionMethod, MethodFitReport>>;
  readonly seconds: number;
}

/** The heads a method's signal comes from, for this model. */
function requiredHeads(method: FusionMethod, taskIds: readonly string[], fusionConfig: unknown): string[] {
  if (taskIds.includes('direction')) return ['direction'];
  if (method === 'consistency' && taskIds.includes('return')) return ['return'];
  const rw = (fusionConfig as { returnWeight?: number } | undefined)?.returnWeight ?? 0;
  if (method === 'weighted' && rw > 0 && taskIds.includes('return')) return ['return'];
  return ['direction'];
}

const METHODS: readonly FusionMethod[] = ['consistency', 'weighted'];

/**
 * Fits both fusions' thresholds on the validation rows [trainEnd + purgeGap, valEnd) of every symbol.
 * Throws a ConfigError naming the numbers when a symbol's validation range is too short.
 */
export function fitDecisionPolicy(
  cfg: TrainerConfig,
  model: TaskAgnosticModel,
  data: readonly SymbolData[],
  boundaries: readonly { trainEnd: number; valEnd: number }[],
  purgeGap: number,
  o: PolicyFitOptions = {},
): { policy: DecisionPolicy; report: PolicyFitReport } {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const perDay = o.minRoundTripsPerDay ?? 0.4;
  const minDays = o.minValidationDays ?? 14;
  const ranges = data.map((d, i) => {
    const b = boundaries[i]!;
    const start = Math.min(b.trainEnd + purgeGap, b.valEnd);
    const barsPerDay = 86_400_000 / INTERVAL_MS[d.interval];
    const bars = b.valEnd - start;
    return { d, start, end: b.valEnd, bars, days: bars / barsPerDay, barsPerDay };
  });
  const short = ranges.filter((r) => r.days < minDays || r.bars < 50);
  if (short.length) {
    const what = short
      .map((r) => {
        const from = r.bars > 0 ? new Date(r.d.candles.tsMs[r.start]!).toISOString().slice(0, 10) : '-';
        const to = r.bars > 0 ? new Date(r.d.candles.tsMs[r.end - 1]!).toISOString().slice(0, 10) : '-';
        return `${r.d.symbol} has ${r.bars} bars (${r.days.toFixed(1)} days${r.bars > 0 ? `, ${from} to ${to}` : ''})`;
      })
      .join('; ');
    const need = Math.max(50, Math.ceil(minDays * ranges[0]!.barsPerDay));
    throw new ConfigError(
      `the validation split is too short to fit the decision thresholds: after the ${purgeGap}-bar purge gap ${what}; a fit needs at least ${minDays} days (${need} bars at ${data[0]!.interval}) on every symbol. ` +
        `Start validation earlier (--val-start, or a larger data.split.valFraction), or keep the source thresholds with --thresholds seed.`,
      'data.split',
    );
  }
  const outputs: TaskOutputs[][] = ranges.map((r) => {
    log(`decision policy: predicting ${r.bars} validation bars of ${r.d.symbol}`);
    return model.predictCandles(
      r.d.candles,
      Array.from({ length: r.bars }, (_, k) => r.start + k),
    );
  });
  const minTrades = Object.fromEntries(ranges.map((r) => [r.d.symbol, Math.max(1, Math.ceil(r.days * perDay))]));
  const taskIds = model.tasks.map((t) => t.id);
  const fusions: DecisionPolicy['fusions'] = {};
  const methods: PolicyFitReport['methods'] = {};
  for (const method of METHODS) {
    const fusionConfig = cfg.fusion.method === method ? cfg.fusion.config : {};
    const seed = seedThresholds(method, fusionConfig);
    const req = requiredHeads(method, taskIds, fusionConfig);
    const gateOf = (c: PolicyCandidate) =>
      method === 'consistency' ? { minConfidence: c.thresholds.minConfidence!, minAgreement: c.thresholds.minAgreement! } : { minConfidence: 0, minAgreement: 0 };
    const policyOf = (c: PolicyCandidate): FusionPolicy => ({ thresholds: c.thresholds, seed, options: c.options, gate: gateOf(c), requiredHeads: req });
    const run = (p: FusionPolicy | null) => {
      const setup = decisionSetup(method, fusionConfig, cfg.risk, p ? { version: 1, fittedOn: { split: 'validation', symbols: [], fromMs: 0, toMs: 0 }, objective: '', fusions: { [method]: p } } : null, p ? 'fitted' : 'seed');
      const bySymbol: MethodFitReport['bySymbol'] = {};
      const perBarSharpe: Record<string, number> = {};
      let sum = 0;
      ranges.forEach((r, i) => {
        const res = backtestOutputs(cfg, r.d, r.start, r.end, outputs[i]!, setup.fuse, setup.risk).result;
        const m = res.metrics;
        const sharpe = Number.isFinite(m.sharpe) ? m.sharpe : 0;
        bySymbol[r.d.symbol] = { sharpe, trades: m.trades, totalReturn: m.totalReturn, turnover: m.turnover, feesPaid: m.feesPaid };
        perBarSharpe[r.d.symbol] = sharpeRatio(barReturns(res));
        sum += sharpe;
      });
      return { objective: sum / ranges.length, bySymbol, perBarSharpe };
    };
    const candidates = policyCandidates(method, outputs.flat(), fusionConfig);
    log(`decision policy: ${method} fusion, ${candidates.length} threshold candidates x ${ranges.length} symbols`);
    const scored = new Map<PolicyCandidate, ReturnType<typeof run>>();
    const result = searchPolicy(
      candidates,
      (c) => {
        const s = run(policyOf(c));
        scored.set(c, s);
        return { objective: s.objective, tradesBySymbol: Object.fromEntries(Object.entries(s.bySymbol).map(([k, v]) => [k, v.trades])) };
      },
      minTrades,
    );
    const best = scored.get(result.best)!;
    const seedRun = run(null);
    // Every candidate scored is a trial, feasible or not: the search looked at all of them.
    const trials = Object.fromEntries(ranges.map((r) => [r.d.symbol, trialSet([...scored.values()].map((s) => s.perBarSharpe[r.d.symbol]!))]));
    if (result.warning) log(`decision policy (${method}): ${result.warning}`);
    const policy = policyOf(result.best);
    fusions[method] = { ...policy, thresholds: { ...policy.thresholds }, seed: { ...seed }, options: { ...policy.options }, requiredHeads: [...req] };
    methods[method] = {
      thresholds: { ...result.best.thresholds },
      seed,
      options: { ...result.best.options },
      objective: best.objective,
      bySymbol: best.bySymbol,
      seedScore: { objective: seedRun.objective, bySymbol: Object.fromEntries(Object.entries(seedRun.bySymbol).map(([k, v]) => [k, { sharpe: v.sharpe, trades: v.trades }])) },
      evaluated: result.evaluated,
      feasible: result.feasibleCount,
      trials,
      ...(result.warning ? { warning: result.warning } : {}),
    };
    log(
      `decision policy (${method}): ${fmtThresholds(result.best.thresholds)}${result.best.options.directionRule ? ` (${result.best.options.directionRule})` : ''}; validation net Sharpe ${best.objective.toFixed(2)} ` +
        `(seed ${seedRun.objective.toFixed(2)}), round trips ${Object.entries(best.bySymbol).map(([s, v]) => `${s} ${v.trades}`).join(', ')} (seed ${Object.entries(seedRun.bySymbol).map(([s, v]) => `${s} ${v.trades}`).join(', ')})`,
    );
  }
  const objective = `mean over symbols of the fused strategy's annualised net Sharpe ratio on the validation bars (backtest fees and slippage, through the risk gate), with at least ${perDay} round trips per day on every symbol`;
  const policy: DecisionPolicy = {
    version: 1,
    fittedOn: {
      split: 'validation',
      symbols: data.map((d) => d.symbol),
      fromMs: Math.min(...ranges.map((r) => r.d.candles.tsMs[r.start]!)),
      toMs: Math.max(...ranges.map((r) => r.d.candles.tsMs[r.end - 1]!)),
    },
    objective,
    fusions,
  };
  const validation = Object.fromEntries(
    ranges.map((r) => [r.d.symbol, { fromMs: r.d.candles.tsMs[r.start]!, toMs: r.d.candles.tsMs[r.end - 1]!, bars: r.bars, days: r.days, minRoundTrips: minTrades[r.d.symbol]! }]),
  );
  return { policy, report: { objective, validation, methods, seconds: (Date.now() - t0) / 1000 } };
}
