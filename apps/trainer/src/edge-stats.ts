/**
 * The one place the trainer computes intervals for strategy Sharpe ratios (the backtest comparison
 * and the deployment evaluation both call these two functions and nothing else). The statistics are
 * core's (issue 17): stationary block bootstrap (Politis and Romano 1994) with the Politis-White
 * automatic block length; a difference of two strategies resamples the same bars for both (paired),
 * so what they share cancels. Percentile intervals.
 */
import { bootstrapPairedStatistic, bootstrapStatistic } from '@task-agnostic/core';

export interface IntervalOptions {
  /** Confidence level (default 0.9). */
  readonly level?: number;
  readonly resamples?: number;
  /** Mean block length; default Politis-White on the returns (on the paired difference for a difference). */
  readonly blockLength?: number;
  readonly seed?: number;
}

export interface Interval {
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
}

export const INTERVAL_METHOD = "stationary bootstrap (core: Politis-Romano, Politis-White block length), paired for differences, 1000 resamples, percentile interval";

/** Annualised Sharpe of per-bar returns: mean / sample std x sqrt(barsPerYear); 0 for a constant series. */
export function annualSharpe(r: ArrayLike<number>, idx: ArrayLike<number> | null, barsPerYear: number): number {
  const n = idx ? idx.length : r.length;
  if (n < 2) return 0;
  let s = 0;
  let s2 = 0;
  const first = r[idx ? idx[0]! : 0]!;
  for (let i = 0; i < n; i++) {
    const x = r[idx ? idx[i]! : i]! - first;
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  const v = (s2 - s * mean) / (n - 1);
  const sd = v > 1e-30 ? Math.sqrt(v) : 0;
  return sd > 0 ? ((mean + first) / sd) * Math.sqrt(barsPerYear) : 0;
}

function coreOptions(o: IntervalOptions): { confidence: number; resamples: number; seed: number; blockLength?: number } {
  return { confidence: o.level ?? 0.9, resamples: o.resamples ?? 1000, seed: o.seed ?? 1, ...(o.blockLength !== undefined ? { blockLength: o.blockLength } : {}) };
}

/** The annualised Sharpe ratio of per-bar returns with its bootstrap interval. */
export function sharpeInterval(r: ArrayLike<number>, barsPerYear: number, o: IntervalOptions = {}): Interval {
  const estimate = annualSharpe(r, null, barsPerYear);
  if (r.length < 30) return { estimate, lo: -Infinity, hi: Infinity };
  const b = bootstrapStatistic(r.length, (idx) => annualSharpe(r, idx, barsPerYear), { ...coreOptions(o), blockSeries: r });
  return { estimate, lo: b.lo, hi: b.hi };
}

/** Sharpe(a) - Sharpe(b) on the same bars, with a paired bootstrap interval. */
export function sharpeDifferenceInterval(a: ArrayLike<number>, b: ArrayLike<number>, barsPerYear: number, o: IntervalOptions = {}): Interval {
  if (a.length !== b.length) throw new RangeError(`paired returns differ in length: ${a.length} and ${b.length}`);
  const estimate = annualSharpe(a, null, barsPerYear) - annualSharpe(b, null, barsPerYear);
  if (a.length < 30) return { estimate, lo: -Infinity, hi: Infinity };
  const d = Float64Array.from(a, (x, i) => x - b[i]!);
  // Identical returns: the difference is 0 in every resample.
  if (d.every((x) => x === 0)) return { estimate, lo: estimate, hi: estimate };
  const r = bootstrapPairedStatistic(a.length, (idx) => annualSharpe(a, idx, barsPerYear), (idx) => annualSharpe(b, idx, barsPerYear), { ...coreOptions(o), blockSeries: d });
  return { estimate, lo: r.diff.lo, hi: r.diff.hi };
}
