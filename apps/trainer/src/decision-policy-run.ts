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
import { holdingHorizon, holdingVariants, type HoldingVariant } from './holding-variants.js';
import { trialSet, type TrialSet } from './deflation.js';
import { fitGarchVolatility } from './strategies.js';
import { garchVolatilitySeries } from '@task-agnostic/heads';
import { fitTiltPolicy, type TiltFitReport } from './tilt-fit.js';
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
  /** How positions are held: the thresholds fitted under each way of holding (and the chosen one's long-only counterpart), the chosen one, its risk overrides. */
  readonly holding?: {
    readonly chosen: string;
    readonly risk?: Readonly<Record<string, unknown>>;
    readonly sides?: 'long-only';
    readonly variants: readonly { name: string; thresholds: Record<string, number>; objective: number; trades: Record<string, number>; feasible: boolean }[];
  };
}

export interface PolicyFitReport {
  readonly objective: string;
  readonly validation: Record<string, { fromMs: number; toMs: number; bars: number; days: number; minRoundTrips: number }>;
  readonly methods: Partial<Record<FusionMethod, MethodFitReport>>;
  /** The tilt policy's fit (absent in reports written before it existed). */
  readonly tilt?: TiltFitReport;
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

/** Each symbol's validation rows [trainEnd + purgeGap, valEnd) and the model's outputs on them; a ConfigError naming the numbers when one is too short. */
function validationRanges(data: readonly SymbolData[], boundaries: readonly { trainEnd: number; valEnd: number }[], purgeGap: number, model: TaskAgnosticModel, o: PolicyFitOptions) {
  const log = o.log ?? (() => {});
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
  return { ranges, outputs };
}

/**
 * The tilt policy fitted on the validation rows (see tilt-fit.ts): GARCH fitted on each symbol's
 * training rows and filtered up to each validation bar (the fits go into the artifact: the trader
 * forecasts with them); no row at or after valEnd is read.
 */
function fitTiltOnRanges(cfg: TrainerConfig, ranges: ReturnType<typeof validationRanges>['ranges'], outputs: readonly (readonly TaskOutputs[])[], boundaries: readonly { trainEnd: number; valEnd: number }[], log: Log) {
  const garch = Object.fromEntries(ranges.map((r, i) => [r.d.symbol, fitGarchVolatility(r.d.candles.close.subarray(0, r.end), boundaries[i]!.trainEnd)]));
  const tilt = fitTiltPolicy(
    cfg,
    ranges.map((r, i) => ({
      data: r.d,
      start: r.start,
      end: r.end,
      outputs: outputs[i]!,
      forecast: garchVolatilitySeries(garch[r.d.symbol]!, r.d.candles.close.subarray(0, r.end), cfg.naive.garchHorizon).subarray(r.start, r.end),
    })),
    { rebalanceEvery: cfg.naive.rebalanceEvery, garchHorizon: cfg.naive.garchHorizon, garch },
  );
  log(
    `decision policy (tilt): weight ${tilt.policy.weight}${tilt.policy.heads.length ? ` on ${tilt.policy.heads.join(' + ')}` : ' (the vol-targeted baseline)'}, band ${tilt.policy.band}, half-life ${tilt.policy.halfLife}; ` +
      `validation net Sharpe ${tilt.report.chosen.objective.toFixed(2)} (vol-targeted buy-and-hold ${tilt.report.baseline.toFixed(2)}` +
      `${tilt.report.withoutTurnoverControl ? `; best without turnover control: ${tilt.report.withoutTurnoverControl.heads.join('+') || 'baseline'} x${tilt.report.withoutTurnoverControl.weight} ${tilt.report.withoutTurnoverControl.objective.toFixed(2)}` : ''}), ${tilt.report.candidates.length} candidates: ` +
      tilt.report.candidates.map((c) => `${c.heads.length ? c.heads.join('+') : 'baseline'} x${c.weight} band ${c.band} hl ${c.halfLife} ${c.objective.toFixed(2)}`).join(', '),
  );
  return tilt;
}

/**
 * Refits only the tilt policy on the validation split (`trainer calibrate --tilt-only`): the
 * calibration and both fusions' thresholds are kept as they are.
 */
export function fitTiltOnly(cfg: TrainerConfig, model: TaskAgnosticModel, data: readonly SymbolData[], boundaries: readonly { trainEnd: number; valEnd: number }[], purgeGap: number, o: PolicyFitOptions = {}): ReturnType<typeof fitTiltPolicy> & { seconds: number } {
  const t0 = Date.now();
  const { ranges, outputs } = validationRanges(data, boundaries, purgeGap, model, o);
  const tilt = fitTiltOnRanges(cfg, ranges, outputs, boundaries, o.log ?? (() => {}));
  return { ...tilt, seconds: (Date.now() - t0) / 1000 };
}

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
  const { ranges, outputs } = validationRanges(data, boundaries, purgeGap, model, o);
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
    const policyOf = (c: PolicyCandidate, hold?: HoldingVariant): FusionPolicy => ({
      thresholds: c.thresholds,
      seed,
      options: hold?.sides ? { ...c.options, sides: hold.sides } : c.options,
      gate: gateOf(c),
      requiredHeads: req,
      ...(hold?.risk ? { risk: hold.risk } : {}),
    });
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
    const tradesOf = (r: ReturnType<typeof run>) => Object.fromEntries(Object.entries(r.bySymbol).map(([k, v]) => [k, v.trades]));
    // every run scored (all thresholds under every way of holding): the trials of the deflated Sharpe
    const allScored: ReturnType<typeof run>[] = [];
    const search = (hold?: HoldingVariant) => {
      const scored = new Map<PolicyCandidate, ReturnType<typeof run>>();
      const found = searchPolicy(
        candidates,
        (c) => {
          const s = run(policyOf(c, hold));
          scored.set(c, s);
          allScored.push(s);
          return { objective: s.objective, tradesBySymbol: tradesOf(s) };
        },
        minTrades,
      );
      return { result: found, best: scored.get(found.best)! };
    };
    // How to hold: the thresholds are searched under each way of holding (the configured risk first,
    // so ties keep it), and the best that trades enough on every symbol wins; then its long-only
    // counterpart at the same thresholds, kept only if it also trades enough and scores higher.
    const variants = holdingVariants(holdingHorizon(model.tasks));
    const bases = variants.filter((v) => !v.sides);
    const fits = bases.map((v) => ({ v, ...search(v) }));
    // feasible before infeasible, then the higher objective; ties keep the earlier
    let pick = fits[0]!;
    for (const f of fits.slice(1)) {
      if ((f.result.feasible && !pick.result.feasible) || (f.result.feasible === pick.result.feasible && f.best.objective > pick.best.objective)) pick = f;
    }
    let chosen: HoldingVariant = pick.v;
    let { result, best } = pick;
    const longOnlyOf = variants.find((v) => v.sides === 'long-only' && v.name === `${pick.v.name}+long-only`)!;
    const longOnlyRun = run(policyOf(result.best, longOnlyOf));
    allScored.push(longOnlyRun);
    const longOnlyFeasible = Object.entries(minTrades).every(([k, m]) => (tradesOf(longOnlyRun)[k] ?? 0) >= m);
    if (longOnlyFeasible && longOnlyRun.objective > best.objective) {
      chosen = longOnlyOf;
      best = longOnlyRun;
    }
    if (chosen !== bases[0]) log(`decision policy (${method}): holding '${chosen.name}' scored best on validation (${best.objective.toFixed(2)} vs ${fits[0]!.best.objective.toFixed(2)} configured)`);
    const holding = {
      chosen: chosen.name,
      ...(chosen.risk ? { risk: chosen.risk } : {}),
      ...(chosen.sides ? { sides: chosen.sides } : {}),
      variants: [
        ...fits.map((f) => ({ name: f.v.name, thresholds: { ...f.result.best.thresholds }, objective: f.best.objective, trades: tradesOf(f.best), feasible: f.result.feasible })),
        { name: longOnlyOf.name, thresholds: { ...pick.result.best.thresholds }, objective: longOnlyRun.objective, trades: tradesOf(longOnlyRun), feasible: longOnlyFeasible },
      ],
    };
    const seedRun = run(null);
    // Every candidate scored is a trial, feasible or not, under every way of holding: the search looked at all of them.
    const trials = Object.fromEntries(ranges.map((r) => [r.d.symbol, trialSet(allScored.map((s) => s.perBarSharpe[r.d.symbol]!))]));
    if (result.warning) log(`decision policy (${method}): ${result.warning}`);
    const fitted = policyOf(result.best, chosen);
    const policy: FusionPolicy = { ...fitted, options: { ...fitted.options, holding: chosen.name } };
    fusions[method] = { ...policy, thresholds: { ...policy.thresholds }, seed: { ...seed }, options: { ...policy.options }, requiredHeads: [...req] };
    methods[method] = {
      thresholds: { ...result.best.thresholds },
      seed,
      options: { ...policy.options },
      holding,
      objective: best.objective,
      bySymbol: best.bySymbol,
      seedScore: { objective: seedRun.objective, bySymbol: Object.fromEntries(Object.entries(seedRun.bySymbol).map(([k, v]) => [k, { sharpe: v.sharpe, trades: v.trades }])) },
      // every run scored: the thresholds under each way of holding, and the long-only check
      evaluated: allScored.length,
      feasible: result.feasibleCount,
      trials,
      ...(result.warning ? { warning: result.warning } : {}),
    };
    log(
      `decision policy (${method}): ${fmtThresholds(result.best.thresholds)}${result.best.options.directionRule ? ` (${result.best.options.directionRule})` : ''}, holding ${chosen.name}; validation net Sharpe ${best.objective.toFixed(2)} ` +
        `(seed ${seedRun.objective.toFixed(2)}), round trips ${Object.entries(best.bySymbol).map(([s, v]) => `${s} ${v.trades}`).join(', ')} (seed ${Object.entries(seedRun.bySymbol).map(([s, v]) => `${s} ${v.trades}`).join(', ')})`,
    );
  }
  // The tilt policy: the vol-targeted baseline tilted by the heads, on the same validation bars and outputs.
  const tilt = fitTiltOnRanges(cfg, ranges, outputs, boundaries, log);
  const objective = `mean over symbols of the fused strategy's annualised net Sharpe ratio on the validation bars (backtest fees and slippage, through the risk gate), with at least ${perDay} round trips per day on every symbol; the holding variant (exits, resize band) chosen on the same objective`;
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
    tilt: tilt.policy,
  };
  const validation = Object.fromEntries(
    ranges.map((r) => [r.d.symbol, { fromMs: r.d.candles.tsMs[r.start]!, toMs: r.d.candles.tsMs[r.end - 1]!, bars: r.bars, days: r.days, minRoundTrips: minTrades[r.d.symbol]! }]),
  );
  return { policy, report: { objective, validation, methods, tilt: tilt.report, seconds: (Date.now() - t0) / 1000 } };
}
