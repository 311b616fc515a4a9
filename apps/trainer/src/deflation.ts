/**
 * The deflated Sharpe ratio where the trainer tries configurations (issue 17): the decision policy
 * backtests a grid of thresholds on the validation bars and keeps the best, so the Sharpe ratio of
 * the kept strategy is the maximum of `trials` noisy estimates. Bailey & Lopez de Prado (2014):
 * SR0 = sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))) is the Sharpe ratio the best of N
 * unskilled trials with Sharpe variance V shows by luck; DSR = PSR(SR0) is the probability that the
 * true Sharpe ratio exceeds it. The formulas are core's; this file turns the trials into N and V
 * and reports the result with the numbers behind it.
 */
import { expectedMaxSharpe, probabilisticSharpeRatio, sharpeMoments, MIN_TRADES_TO_JUDGE, MIN_WINDOWS_TO_JUDGE } from '@task-agnostic/core';

/** The configurations a fit tried, as the deflation needs them (per-bar Sharpe ratios). */
export interface TrialSet {
  /** Configurations tried (N). */
  readonly count: number;
  /** Sample variance (n - 1) of their per-bar Sharpe ratios (V); 0 for one trial. */
  readonly sharpeVariance: number;
}

/** N and V of a set of trials' per-bar Sharpe ratios (non-finite ones count as 0, as in the fit's objective). */
export function trialSet(perBarSharpes: readonly number[]): TrialSet {
  const x = perBarSharpes.map((s) => (Number.isFinite(s) ? s : 0));
  const n = x.length;
  if (n === 0) throw new RangeError('trialSet needs at least one trial');
  if (n === 1) return { count: 1, sharpeVariance: 0 };
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { count: n, sharpeVariance: v };
}

export interface DeflatedSharpeReport {
  readonly trials: number;
  /** V, per bar. */
  readonly trialsSharpeVariance: number;
  /** SR0, the expected best Sharpe of the trials under no skill: per bar and annualised (x sqrt(bars per year)). */
  readonly sr0: number;
  readonly sr0Annualised: number;
  /** The deflated strategy's Sharpe ratio: per bar and annualised. */
  readonly sharpe: number;
  readonly sharpeAnnualised: number;
  readonly bars: number;
  readonly trades: number | null;
  /** P(true Sharpe > 0) and P(true Sharpe > SR0) given the returns' skewness and kurtosis. */
  readonly psr: number;
  readonly dsr: number;
  /** One line, e.g. "DSR 0.41 (P[true Sharpe > 1.23, the best of 57 unskilled trials by luck]); PSR 0.77; 2208 bars, 31 trades". */
  readonly text: string;
}

const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/**
 * The deflated Sharpe ratio of `returns` (per bar) given the trials that were tried to pick the
 * strategy. Fewer than 30 bars or 10 trades: the figures are given but marked "too few to judge".
 */
export function deflateSharpe(returns: ArrayLike<number>, trials: TrialSet, barsPerYear: number, trades?: number): DeflatedSharpeReport {
  const what = trials.count === 1 ? 'one configuration, nothing deflated' : `the best of ${trials.count} unskilled trials by luck`;
  return deflateAgainst(returns, expectedMaxSharpe(trials.count, trials.sharpeVariance), trials, what, barsPerYear, trades);
}

/**
 * Walk-forward: each fold picked its thresholds from its own trials, so the stitched returns are
 * held to the bar-weighted mean of the folds' SR0 (trials and V reported as bar-weighted means).
 * Out-of-sample returns were not selected on, so this is a conservative reading: the stitched
 * Sharpe must clear what the folds' in-sample winners would show by luck.
 */
export function deflateStitched(parts: readonly { readonly returns: ArrayLike<number>; readonly trials: TrialSet }[], barsPerYear: number, trades?: number): DeflatedSharpeReport {
  const all = new Float64Array(parts.reduce((a, p) => a + p.returns.length, 0));
  let o = 0;
  let sr0 = 0;
  let count = 0;
  let v = 0;
  for (const p of parts) {
    all.set(Array.from(p.returns), o);
    o += p.returns.length;
    sr0 += expectedMaxSharpe(p.trials.count, p.trials.sharpeVariance) * p.returns.length;
    count += p.trials.count * p.returns.length;
    v += p.trials.sharpeVariance * p.returns.length;
  }
  const n = Math.max(1, all.length);
  const counts = parts.map((p) => p.trials.count);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const what = hi === 1 ? 'one configuration per fold, nothing deflated' : `the folds' best of ${lo === hi ? lo : `${lo}-${hi}`} unskilled trials by luck, bar-weighted`;
  return deflateAgainst(all, sr0 / n, { count: Math.round(count / n), sharpeVariance: v / n }, what, barsPerYear, trades);
}

function deflateAgainst(returns: ArrayLike<number>, sr0: number, trials: TrialSet, what: string, barsPerYear: number, trades?: number): DeflatedSharpeReport {
  const m = sharpeMoments(returns);
  const psr = probabilisticSharpeRatio(m, 0);
  const dsr = probabilisticSharpeRatio(m, sr0);
  const k = Math.sqrt(barsPerYear);
  const few = m.n < MIN_WINDOWS_TO_JUDGE || (trades !== undefined && trades < MIN_TRADES_TO_JUDGE) ? '; too few to judge' : '';
  return {
    trials: trials.count,
    trialsSharpeVariance: trials.sharpeVariance,
    sr0,
    sr0Annualised: sr0 * k,
    sharpe: m.sharpe,
    sharpeAnnualised: m.sharpe * k,
    bars: m.n,
    trades: trades ?? null,
    psr,
    dsr,
    text: `DSR ${f2(dsr)} (P[true Sharpe > ${f2(sr0 * k)}, ${what}]); PSR ${f2(psr)}; Sharpe ${f2(m.sharpe * k)}, ${m.n} bars${trades !== undefined ? `, ${trades} trades` : ''}${few}`,
  };
}
