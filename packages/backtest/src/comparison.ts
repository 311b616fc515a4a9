/**
 * Strategies side by side: the model's and the naive ones, each a BacktestResult of the same
 * engine, fees and slippage over the same candles. Rows for the table, an equity chart with every
 * curve, and the JSON form.
 */
import type { CandleColumns } from '@task-agnostic/core';
import type { BacktestConfigInput } from './config.js';
import { runSignalBacktest, type BacktestInputs, type BacktestResult } from './engine.js';
import { naiveSignals, type NaiveStrategyOptions } from './naive-strategies.js';
import { escapeXml, lineChart } from './svg-chart.js';

export interface StrategyRun {
  readonly name: string;
  readonly description: string;
  readonly result: BacktestResult;
  /** A confidence interval of the annualised Sharpe ratio (from the caller's statistics), with its level. */
  readonly sharpeInterval?: { readonly lo: number; readonly hi: number; readonly level: number };
}

export interface ComparisonRow {
  readonly name: string;
  readonly description: string;
  readonly totalReturn: number;
  readonly sharpe: number;
  readonly sharpeInterval: { readonly lo: number; readonly hi: number; readonly level: number } | null;
  readonly sortino: number;
  readonly maxDrawdown: number;
  readonly turnover: number;
  readonly feesPaid: number;
  readonly trades: number;
  readonly exposure: number;
  readonly bars: number;
}

/** Runs every naive strategy through the signal path with `config` (the model's fees and slippage). */
export function runNaiveStrategies(candles: CandleColumns, config: BacktestConfigInput | undefined, o: NaiveStrategyOptions = {}, inputs: BacktestInputs = {}): StrategyRun[] {
  return naiveSignals(candles, o).map((s) => ({ name: s.name, description: s.description, result: runSignalBacktest(candles, s.signal, config, inputs) }));
}

export function comparisonRows(runs: readonly StrategyRun[]): ComparisonRow[] {
  return runs.map((r) => {
    const m = r.result.metrics;
    return {
      name: r.name,
      description: r.description,
      totalReturn: m.totalReturn,
      sharpe: m.sharpe,
      sharpeInterval: r.sharpeInterval ?? null,
      sortino: m.sortino,
      maxDrawdown: m.maxDrawdown,
      turnover: m.turnover,
      feesPaid: m.feesPaid,
      trades: m.trades,
      exposure: m.exposure,
      bars: m.bars,
    };
  });
}

/** Per-bar simple returns of a run's equity curve (the first from the initial equity). */
export function barReturns(r: BacktestResult): Float64Array {
  const e = r.equity;
  const out = new Float64Array(e.length);
  let prev = r.initialEquity;
  for (let t = 0; t < e.length; t++) {
    out[t] = prev > 0 ? e[t]! / prev - 1 : 0;
    prev = e[t]!;
  }
  return out;
}

const COLORS = ['#2563eb', '#9ca3af', '#16a34a', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];
const pct = (v: number, d = 2) => (Number.isFinite(v) ? `${(v * 100).toFixed(d)}%` : v > 0 ? '∞' : '-∞');
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : v > 0 ? '∞' : '-∞');

/** The comparison as an HTML fragment: every equity curve in one chart, and the table. */
export function renderComparisonHtml(runs: readonly StrategyRun[], title = 'Against the naive strategies'): string {
  if (!runs.length) return '';
  const tsMs = runs[0]!.result.candles.tsMs;
  // The series legend fills the chart's top line; the title goes in the caption above it.
  const chart = lineChart({
    title: '',
    tsMs,
    series: runs.map((r, i) => ({ label: r.name, values: r.result.equity, color: COLORS[i % COLORS.length]! })),
    yFormat: (v) => v.toLocaleString('en-US', { maximumFractionDigits: 0 }),
  });
  const rows = comparisonRows(runs)
    .map((r) => {
      const ci = r.sharpeInterval ? ` [${num(r.sharpeInterval.lo)}, ${num(r.sharpeInterval.hi)}]` : '';
      return `<tr><td style="text-align:left" title="${escapeXml(r.description)}">${escapeXml(r.name)}</td><td>${pct(r.totalReturn)}</td><td>${num(r.sharpe)}${ci}</td><td>${num(r.sortino)}</td><td>${pct(r.maxDrawdown)}</td><td>${num(r.turnover, 1)}</td><td>${r.feesPaid.toFixed(2)}</td><td>${r.trades}</td><td>${pct(r.exposure, 1)}</td></tr>`;
    })
    .join('');
  const level = runs.find((r) => r.sharpeInterval)?.sharpeInterval?.level;
  const head = `<tr><th>Strategy</th><th>Return</th><th>Sharpe${level ? ` [${(level * 100).toFixed(0)}% CI]` : ''}</th><th>Sortino</th><th>Max drawdown</th><th>Turnover</th><th>Fees paid</th><th>Trades</th><th>Exposure</th></tr>`;
  return `<div class="box"><b>${escapeXml(title)}: equity, same engine, fees and slippage</b>${chart}</div><div class="box"><table class="metrics"><caption>${escapeXml(title)} (${runs[0]!.result.metrics.bars} bars)</caption><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}
