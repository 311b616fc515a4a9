import type { Fill, Trade } from '@task-agnostic/core';
import type { FundingPayment, IntrabarStats } from './account-types.js';
import { comparisonRows, type ComparisonRow, type StrategyRun } from './comparison.js';
import type { BacktestConfig } from './config.js';
import type { BacktestResult } from './engine.js';
import type { BacktestMetrics } from './metrics.js';
import type { MonthlyReturn } from './monthly.js';

/** The report as data: everything the HTML shows, plus the full curves, fills and trades. */
export interface BacktestReportJson {
  readonly format: 'task-agnostic-backtest-report';
  readonly version: 1;
  readonly symbol: string;
  readonly period: { readonly startMs: number; readonly endMs: number; readonly bars: number; readonly barMs: number; readonly barsPerYear: number };
  readonly config: BacktestConfig;
  readonly fillTiming: BacktestConfig['fillTiming'];
  readonly intrabar: IntrabarStats & { readonly description: string };
  readonly gapRule: string;
  readonly metrics: BacktestMetrics;
  readonly benchmarkMetrics: BacktestMetrics;
  readonly monthly: readonly MonthlyReturn[];
  readonly benchmarkMonthly: readonly MonthlyReturn[];
  readonly liquidations: number;
  readonly clippedTargets: number;
  readonly curves: { readonly tsMs: number[]; readonly equity: number[]; readonly benchmark: number[] };
  readonly trades: readonly Trade[];
  readonly fills: readonly Fill[];
  readonly fundingPayments: readonly FundingPayment[];
  /** Present when the report was built with strategies beside this one: their table rows and equity curves (at the curves' tsMs). */
  readonly strategies?: readonly (ComparisonRow & { readonly equity: number[] })[];
}

export const GAP_RULE =
  'A bar that opens beyond a stop, take-profit or liquidation price fills at the open: worse than the stop, better than the take-profit (liquidations close at the bankruptcy price).';

/** One sentence on how stop / take-profit order inside a bar was decided. */
export function describeIntrabar(s: IntrabarStats): string {
  if (s.rule === 'lower_timeframe') {
    return `Lower-timeframe replay: ${s.ambiguousBars} bar(s) touched both the stop (or liquidation) and the take-profit; ${s.resolvedByLowerTimeframe} were ordered by the lower-timeframe candles, ${s.resolvedWorstCase} fell back to the worst case (adverse first); ${s.ambiguousLowerTimeframeCandles} lower-timeframe candle(s) were themselves ambiguous (adverse first).`;
  }
  return `Worst case: in ${s.ambiguousBars} bar(s) that touched both the stop (or liquidation) and the take-profit, the adverse event was assumed to come first (no lower-timeframe candles given).`;
}

export function backtestReportJson(r: BacktestResult, comparison?: readonly StrategyRun[]): BacktestReportJson {
  const n = r.candles.length;
  const rows = comparison ? comparisonRows(comparison) : undefined;
  return {
    format: 'task-agnostic-backtest-report',
    version: 1,
    symbol: r.symbol,
    period: { startMs: r.candles.tsMs[0]!, endMs: r.candles.tsMs[n - 1]!, bars: n, barMs: r.barMs, barsPerYear: r.barsPerYear },
    config: r.config,
    fillTiming: r.fillTiming,
    intrabar: { ...r.intrabar, description: describeIntrabar(r.intrabar) },
    gapRule: GAP_RULE,
    metrics: r.metrics,
    benchmarkMetrics: r.benchmarkMetrics,
    monthly: r.monthly,
    benchmarkMonthly: r.benchmarkMonthly,
    liquidations: r.liquidations,
    clippedTargets: r.clippedTargets,
    curves: { tsMs: Array.from(r.candles.tsMs), equity: Array.from(r.equity), benchmark: Array.from(r.benchmark) },
    trades: r.trades,
    fills: r.fills,
    fundingPayments: r.fundingPayments,
    ...(comparison && rows ? { strategies: rows.map((row, i) => ({ ...row, equity: Array.from(comparison[i]!.result.equity) })) } : {}),
  };
}

/** The JSON text. Non-finite numbers (an Infinity profit factor) are written as null. */
export function renderReportJson(r: BacktestResult, indent = 0, comparison?: readonly StrategyRun[]): string {
  return JSON.stringify(backtestReportJson(r, comparison), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent || undefined);
}
