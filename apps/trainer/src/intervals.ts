/**
 * Intervals and plain verdicts for what the trainer reports (issue 17): a metric of the model and of
 * a competitor (a naive baseline, a single-task model) on the same test windows, resampled together
 * by the stationary block bootstrap; and Sharpe ratios with Lo's interval and the number of trades.
 * The statistics themselves live in @task-agnostic/core.
 */
import {
  bootstrapPairedStatistic,
  judgeDifference,
  sharpeRatio,
  sharpeWithInterval,
  sharpeMoments,
  probabilisticSharpeRatio,
  formatSharpe,
  type VerdictKind,
} from '@task-agnostic/core';
import { fmt } from './format.js';

/** Resamples per interval (1000 is the usual figure; the intervals' own noise is then ~1%). */
export const BOOTSTRAP_RESAMPLES = 1000;

export interface PointInterval {
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
}

/** A competitor compared with the model on the same windows. */
export interface WindowComparison {
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** Test windows compared. */
  readonly n: number;
  readonly confidence: number;
  readonly blockLength: number;
  readonly model: PointInterval;
  readonly other: PointInterval;
  /** model - other. */
  readonly diff: PointInterval;
  readonly verdict: VerdictKind;
  /** "better (95% CI excludes 0)", "no significant difference", "worse", "too few to judge (...)". */
  readonly verdictText: string;
}

/** What the comparison needs of a task: its metrics and the widths of an output and a target row. */
export interface MetricSource {
  readonly kind: string;
  readonly outputDim: number;
  readonly targetDim: number;
  metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number>;
}

const pick = (x: { estimate: number; lo: number; hi: number }): PointInterval => ({ estimate: x.estimate, lo: x.lo, hi: x.hi });

/**
 * `metric` of `outputs` against `targets` on the rows listed (with repeats; a bootstrap resample),
 * gathered into buffers kept between calls (grown when a call lists more rows than any before).
 */
export function metricOnRows(task: MetricSource, metric: string, outputs: Float32Array, targets: Float32Array): (rows: Int32Array) => number {
  const od = task.outputDim;
  const td = task.targetDim;
  let buf = new Float32Array(0);
  let bufY = new Float32Array(0);
  return (rows) => {
    const m = rows.length;
    if (bufY.length < m * td) {
      buf = new Float32Array(m * od);
      bufY = new Float32Array(m * td);
    }
    for (let i = 0; i < m; i++) {
      const r = rows[i]!;
      buf.set(outputs.subarray(r * od, (r + 1) * od), i * od);
      bufY.set(targets.subarray(r * td, (r + 1) * td), i * td);
    }
    return task.metrics(buf.subarray(0, m * od), bufY.subarray(0, m * td), m)[metric] ?? NaN;
  };
}

/**
 * Model vs another forecaster on the same n windows: both metrics and their difference with 95%
 * stationary-bootstrap intervals. The block length follows the dependence of the per-window
 * difference (hit or squared-error contributions), so overlapping windows widen the interval.
 */
export function compareOnWindows(
  task: MetricSource,
  metric: string,
  higherIsBetter: boolean,
  model: Float32Array,
  other: Float32Array,
  targets: Float32Array,
  n: number,
  options: { seed?: number; resamples?: number } = {},
): WindowComparison {
  const od = task.outputDim;
  const td = task.targetDim;
  // Per-window contributions: accuracy (0/1) for classifiers, the metric of one row otherwise.
  const unit = task.kind === 'classification' ? 'accuracy' : metric;
  const contrib = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = targets.subarray(i * td, (i + 1) * td);
    const a = task.metrics(model.subarray(i * od, (i + 1) * od), y, 1)[unit];
    const b = task.metrics(other.subarray(i * od, (i + 1) * od), y, 1)[unit];
    const d = (a ?? NaN) - (b ?? NaN);
    contrib[i] = Number.isFinite(d) ? d : 0;
  }
  const r = bootstrapPairedStatistic(n, metricOnRows(task, metric, model, targets), metricOnRows(task, metric, other, targets), {
    seed: options.seed ?? 0,
    resamples: options.resamples ?? BOOTSTRAP_RESAMPLES,
    blockSeries: contrib,
  });
  const v = judgeDifference(r.diff, { windows: n, higherIsBetter });
  return {
    metric,
    higherIsBetter,
    n,
    confidence: r.diff.confidence,
    blockLength: r.diff.blockLength,
    model: pick(r.a),
    other: pick(r.b),
    diff: pick(r.diff),
    verdict: v.kind,
    verdictText: v.text,
  };
}

/** "0.3575 [0.3311, 0.3822]" */
export function fmtInterval(x: PointInterval | undefined | null, digits = 4): string {
  if (!x) return '-';
  return `${fmt(x.estimate, digits)} [${fmt(x.lo, digits)}, ${fmt(x.hi, digits)}]`;
}

/** Per-bar simple returns of an equity curve that starts from `initialEquity`. */
export function barReturns(equity: ArrayLike<number>, initialEquity: number): Float64Array {
  const out = new Float64Array(equity.length);
  let prev = initialEquity;
  for (let i = 0; i < equity.length; i++) {
    out[i] = prev > 0 ? equity[i]! / prev - 1 : 0;
    prev = equity[i]!;
  }
  return out;
}

/** A Sharpe ratio as the trainer reports it: annualised, with its interval, trades and bars. */
export interface SharpeReport {
  readonly sharpe: number;
  readonly lo: number;
  readonly hi: number;
  readonly confidence: number;
  readonly bars: number;
  readonly trades: number | null;
  /** Per-period Sharpe ratio and Lo's HAC standard error (for deflating later). */
  readonly perBar: number;
  readonly perBarSe: number;
  /**
   * Probabilistic Sharpe ratio (Bailey & Lopez de Prado): the probability that the true Sharpe
   * ratio is above 0 given the skewness and kurtosis of the returns (one configuration; deflate with
   * core's deflatedSharpeRatio when several were tried).
   */
  readonly psr: number;
  readonly text: string;
}

export function sharpeReport(returns: ArrayLike<number>, barsPerYear: number, trades?: number): SharpeReport {
  // sqrt(q) annualisation, as the backtest's own Sharpe; the standard error is still HAC (Lo 2002).
  const s = sharpeWithInterval(returns, { periodsPerYear: barsPerYear, autocorrelationAdjusted: false, ...(trades !== undefined ? { trades } : {}) });
  return {
    sharpe: s.annualised,
    lo: s.lo,
    hi: s.hi,
    confidence: s.confidence,
    bars: s.n,
    trades: trades ?? null,
    perBar: s.sharpe,
    perBarSe: s.se,
    psr: probabilisticSharpeRatio(sharpeMoments(returns)),
    text: formatSharpe(s),
  };
}

/** Strategy vs benchmark Sharpe on the same bars: the paired bootstrap interval of the difference. */
export interface SharpeDifference {
  readonly diff: PointInterval;
  readonly verdict: VerdictKind;
  readonly verdictText: string;
  readonly bars: number;
  readonly trades: number;
}

export function compareSharpe(strategy: Float64Array, benchmark: Float64Array, barsPerYear: number, trades: number, seed = 0): SharpeDifference {
  const n = Math.min(strategy.length, benchmark.length);
  const k = Math.sqrt(barsPerYear);
  const buf = new Float64Array(n);
  const stat = (src: Float64Array) => (idx: Int32Array): number => {
    for (let i = 0; i < idx.length; i++) buf[i] = src[idx[i]!]!;
    const s = sharpeRatio(buf.subarray(0, idx.length));
    return Number.isFinite(s) ? s * k : 0;
  };
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = strategy[i]! - benchmark[i]!;
  const r = bootstrapPairedStatistic(n, stat(strategy), stat(benchmark), { seed, resamples: BOOTSTRAP_RESAMPLES, blockSeries: d });
  const v = judgeDifference(r.diff, { windows: n, trades });
  return { diff: pick(r.diff), verdict: v.kind, verdictText: v.text, bars: n, trades };
}

/** The Sharpe figures of one backtest: strategy and buy-and-hold with intervals, and their difference. */
export interface BacktestSharpe {
  readonly sharpe: SharpeReport;
  readonly benchmarkSharpe: SharpeReport;
  readonly vsBenchmark: SharpeDifference;
}

export function backtestSharpe(
  r: { equity: Float64Array; benchmark: Float64Array; initialEquity: number; barsPerYear: number; metrics: { trades: number } },
  seed = 0,
): BacktestSharpe {
  const s = barReturns(r.equity, r.initialEquity);
  const b = barReturns(r.benchmark, r.initialEquity);
  return {
    sharpe: sharpeReport(s, r.barsPerYear, r.metrics.trades),
    benchmarkSharpe: sharpeReport(b, r.barsPerYear),
    vsBenchmark: compareSharpe(s, b, r.barsPerYear, r.metrics.trades, seed),
  };
}

/** An annualised return, flagged as an extrapolation when the run is shorter than a year. */
export function annualisedNote(annualised: number, bars: number, barsPerYear: number): string {
  const pctText = Number.isFinite(annualised) ? `${(annualised * 100).toFixed(2)}%` : '-';
  const days = (bars / barsPerYear) * 365;
  return bars < barsPerYear ? `${pctText} (extrapolated from ${days.toFixed(0)} days; not a forecast)` : pctText;
}
