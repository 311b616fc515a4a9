/**
 * The model's strategy beside the naive ones over one range of one symbol: the model's backtest
 * (fusion -> risk gate -> engine) and buy-and-hold, vol-targeted buy-and-hold and time-series
 * momentum through the same engine, fees and slippage, each with a Sharpe interval. The
 * vol-targeted strategies are sized by heads' GARCH(1,1), fitted on the symbol's training rows only
 * and filtered forward (the forecast at t reads returns up to t).
 */
import { barReturns, comparisonRows, runNaiveStrategies, runSignalBacktest, type StrategyRun } from '@task-agnostic/backtest';
import { sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { fitGarch11, garchVolatilitySeries, type GarchVolatilityModel } from '@task-agnostic/heads';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { backtestSymbol, type SymbolBacktest } from './backtest-run.js';
import type { ThresholdsMode } from './decision-setup.js';
import { headSignals } from './head-strategies.js';
import { tiltBacktest } from './tilt-fit.js';
import { riskConfigOf } from './risk-config.js';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { sharpeDifferenceInterval, sharpeInterval, type Interval } from './edge-stats.js';
import type { Log } from './train-run.js';

/**
 * The GARCH(1,1) of one symbol's log returns, fitted on the returns of bars 1..trainEnd-1 only, and
 * the variance its filter starts from at close[0] (the training returns' mean square).
 */
export function fitGarchVolatility(close: ArrayLike<number>, trainEnd: number): GarchVolatilityModel {
  const n = close.length;
  if (trainEnd < 42 || trainEnd > n) throw new RangeError(`GARCH needs at least 42 training bars inside the ${n} candles, got trainEnd ${trainEnd}`);
  const train = new Float64Array(trainEnd - 1);
  for (let j = 1; j < trainEnd; j++) train[j - 1] = Math.log(close[j]! / close[j - 1]!);
  const p = fitGarch11(train);
  let v0 = 0;
  for (const x of train) v0 += x * x;
  v0 /= train.length;
  return { omega: p.omega, alpha: p.alpha, beta: p.beta, mu: p.mu, initialVariance: v0 };
}

/**
 * forecast[t] = sqrt of the GARCH(1,1) mean variance of the next `horizon` log returns given the
 * returns of bars <= t, with parameters fitted on the returns of bars 1..trainEnd-1 only (heads'
 * garchVolatilitySeries: the numbers the trader's stream makes from the same closes).
 */
export function garchVolatilityForecast(close: ArrayLike<number>, trainEnd: number, horizon: number): Float64Array {
  return garchVolatilitySeries(fitGarchVolatility(close, trainEnd), close, horizon);
}

export interface StrategyComparison {
  readonly symbol: string;
  readonly model: SymbolBacktest;
  /** The model's run first, then the naive strategies. */
  readonly runs: readonly StrategyRun[];
  readonly barsPerYear: number;
}

export const MODEL_STRATEGY = 'model';
/** The tilt policy's run (fusion's tilt-policy, fitted on validation), beside the fused strategy. */
export const TILT_STRATEGY = 'tilt policy';

/** The model's strategy and the naive ones over rows [startRow, endRow) of one symbol. */
export function compareStrategies(cfg: TrainerConfig, model: TaskAgnosticModel, d: SymbolData, trainEnd: number, startRow: number, endRow: number, log: Log = () => {}, thresholds: ThresholdsMode = 'fitted'): StrategyComparison {
  const mb = backtestSymbol(cfg, model, d, startRow, log, thresholds, endRow);
  const risk = riskConfigOf(cfg, d.interval);
  const forecast = garchVolatilityForecast(d.candles.close, trainEnd, cfg.naive.garchHorizon).subarray(startRow, endRow);
  const candles: CandleColumns = sliceColumns(d.candles, startRow, endRow);
  const bpy = mb.result.barsPerYear;
  const btConfig = { ...(cfg.backtest as object), symbol: d.symbol, interval: d.interval };
  const naive = runNaiveStrategies(candles, btConfig, {
    volatilityForecast: forecast,
    targetAnnualVol: risk.sizing.targetAnnualVol,
    maxLeverage: risk.sizing.maxLeverage,
    barsPerYear: bpy,
    momentumLookback: cfg.naive.momentumLookback,
    rebalanceEvery: cfg.naive.rebalanceEvery,
  });
  const modelRun: StrategyRun = { name: MODEL_STRATEGY, description: `the model: ${cfg.fusion.method} fusion -> risk gate (${risk.profile} profile)`, result: mb.result };
  const vt = { targetAnnualVol: risk.sizing.targetAnnualVol, maxLeverage: risk.sizing.maxLeverage, barsPerYear: bpy };
  // the tilt policy fitted on validation (the vol-targeted baseline tilted by the heads), when the model carries one
  const tiltPolicy = thresholds === 'fitted' ? model.decisionPolicy?.tilt : undefined;
  const tilt: StrategyRun[] = tiltPolicy
    ? [
        {
          name: TILT_STRATEGY,
          description:
            `vol-targeted buy-and-hold x clamp(1 + ${tiltPolicy.weight} x score, 0, ${tiltPolicy.maxTilt})${tiltPolicy.heads.length ? `, score from the ${tiltPolicy.heads.join(' + ')} head` : ' (weight 0: the baseline itself)'}` +
            `${tiltPolicy.halfLife ? ` smoothed over a ${tiltPolicy.halfLife}-bar half-life` : ''}, no-trade band ${tiltPolicy.band ?? 0}, fitted on validation; traded as the trader trades it (the risk gate)`,
          result: tiltBacktest(cfg, d, startRow, endRow, mb.outputs, forecast, tiltPolicy, tiltPolicy.base.rebalanceEvery).result,
        },
      ]
    : [];
  const heads: StrategyRun[] = headSignals(mb.outputs, forecast, vt, cfg.naive.rebalanceEvery).map((h) => ({ name: h.name, description: h.description, result: runSignalBacktest(candles, h.signal, btConfig) }));
  const runs = [modelRun, ...naive, ...tilt, ...heads].map((r) => {
    const ci = sharpeInterval(barReturns(r.result), bpy, { seed: cfg.seed });
    return { ...r, sharpeInterval: { lo: ci.lo, hi: ci.hi, level: 0.9 } };
  });
  return { symbol: d.symbol, model: mb, runs, barsPerYear: bpy };
}

/** The naive strategy the decisions issue sets as the bar to beat. */
export const VOL_TARGETED = 'vol-targeted buy-and-hold';

/** The model's (or, `of`, another run's) net Sharpe minus a named strategy's over the same bars, with a paired 90% bootstrap interval (null: no such run). */
export function modelVersus(c: StrategyComparison, name: string, seed: number, of: string = MODEL_STRATEGY): Interval | null {
  const other = c.runs.find((r) => r.name === name);
  const mine = c.runs.find((r) => r.name === of);
  if (!other || !mine) return null;
  return sharpeDifferenceInterval(barReturns(mine.result), barReturns(other.result), c.barsPerYear, { seed });
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/** 'better' / 'worse' when the interval excludes 0, else 'no significant difference'. */
export function differenceVerdict(d: Interval): 'better' | 'worse' | 'no significant difference' {
  return d.lo > 0 ? 'better' : d.hi < 0 ? 'worse' : 'no significant difference';
}

/**
 * The console lines of one symbol's comparison: round trips per 3 days, every strategy's return,
 * Sharpe [90% CI], drawdown, trades, fees and turnover, then the model against vol-targeted buy-and-hold.
 */
export function comparisonLines(c: StrategyComparison, seed: number): { lines: string[]; vsVolTargeted: Interval | null; tiltVsVolTargeted: Interval | null } {
  const rows = comparisonRows(c.runs);
  const cd = c.model.result.candles;
  const days = Math.max(1, cd.tsMs[cd.length - 1]! - cd.tsMs[0]!) / 86_400_000;
  const lines = [`backtest ${c.symbol} (${cd.length} bars, ${rows[0]!.trades} model trades, ${((rows[0]!.trades * 3) / days).toFixed(2)} per 3 days):`];
  for (const r of rows) {
    const ci = r.sharpeInterval;
    lines.push(
      `  ${r.name.padEnd(26)} return ${(r.totalReturn * 100).toFixed(2).padStart(7)}%  Sharpe ${fmt(r.sharpe)} [${ci ? `${fmt(ci.lo)}, ${fmt(ci.hi)}` : '-'}]  max drawdown ${(r.maxDrawdown * 100).toFixed(2)}%  trades ${r.trades}  fees ${r.feesPaid.toFixed(2)}  turnover ${r.turnover.toFixed(1)}`,
    );
  }
  const vs = modelVersus(c, VOL_TARGETED, seed);
  if (vs) lines.push(`  model - ${VOL_TARGETED}: net Sharpe ${fmt(vs.estimate)} [90% CI ${fmt(vs.lo)}, ${fmt(vs.hi)}]: ${differenceVerdict(vs)}`);
  const tv = modelVersus(c, VOL_TARGETED, seed, TILT_STRATEGY);
  if (tv) lines.push(`  ${TILT_STRATEGY} - ${VOL_TARGETED}: net Sharpe ${fmt(tv.estimate)} [90% CI ${fmt(tv.lo)}, ${fmt(tv.hi)}]: ${differenceVerdict(tv)}`);
  return { lines, vsVolTargeted: vs, tiltVsVolTargeted: tv };
}

/** One line over symbols: on how many the model's net Sharpe is above vol-targeted buy-and-hold's, and significantly. */
export function versusSummary(diffs: readonly (Interval | null)[], who = 'model'): string {
  const d = diffs.filter((x): x is Interval => x !== null);
  const above = d.filter((x) => x.estimate > 0).length;
  const better = d.filter((x) => x.lo > 0).length;
  const worse = d.filter((x) => x.hi < 0).length;
  return `${who} vs ${VOL_TARGETED} on net Sharpe: above on ${above} of ${d.length} symbols; significantly better (90% CI above 0) on ${better}, significantly worse on ${worse}`;
}
