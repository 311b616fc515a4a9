/**
 * The one place the trainer computes intervals for strategy Sharpe ratios (the backtest comparison
 * and the deployment evaluation both call these two functions and nothing else).
 *
 * Stationary bootstrap (Politis and Romano 1994): resampled series are blocks of consecutive bars
 * with geometric lengths (mean `blockLength`, default n^(1/3)), wrapping around; a difference of two
 * strategies resamples the same bars for both (paired), so what they share cancels. Percentile intervals.
 * TODO(issue 17): swap the body for core's bootstrap once it lands; the signatures stay.
 */
import { createRng } from '@task-agnostic/core';

export interface IntervalOptions {
  /** Confidence level (default 0.9). */
  readonly level?: number;
  readonly resamples?: number;
  readonly blockLength?: number;
  readonly seed?: number;
}

export interface Interval {
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
}

export const INTERVAL_METHOD = 'stationary bootstrap (Politis-Romano), mean block n^(1/3) bars, paired for differences, 1000 resamples, percentile interval';

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

function bootstrap(n: number, o: IntervalOptions, stat: (idx: Int32Array) => number): { lo: number; hi: number } {
  const level = o.level ?? 0.9;
  const B = o.resamples ?? 1000;
  const L = o.blockLength ?? Math.max(1, Math.round(Math.cbrt(n)));
  const rng = createRng(o.seed ?? 1);
  const idx = new Int32Array(n);
  const stats = new Float64Array(B);
  const pNew = 1 / L;
  for (let b = 0; b < B; b++) {
    let j = rng.int(n);
    for (let i = 0; i < n; i++) {
      if (i > 0) j = rng.next() < pNew ? rng.int(n) : (j + 1) % n;
      idx[i] = j;
    }
    stats[b] = stat(idx);
  }
  stats.sort();
  const a = (1 - level) / 2;
  const at = (q: number) => stats[Math.min(B - 1, Math.max(0, Math.floor(q * (B - 1))))]!;
  return { lo: at(a), hi: at(1 - a) };
}

/** The annualised Sharpe ratio of per-bar returns with its bootstrap interval. */
export function sharpeInterval(r: ArrayLike<number>, barsPerYear: number, o: IntervalOptions = {}): Interval {
  const estimate = annualSharpe(r, null, barsPerYear);
  if (r.length < 30) return { estimate, lo: -Infinity, hi: Infinity };
  return { estimate, ...bootstrap(r.length, o, (idx) => annualSharpe(r, idx, barsPerYear)) };
}

/** Sharpe(a) - Sharpe(b) on the same bars, with a paired bootstrap interval. */
export function sharpeDifferenceInterval(a: ArrayLike<number>, b: ArrayLike<number>, barsPerYear: number, o: IntervalOptions = {}): Interval {
  if (a.length !== b.length) throw new RangeError(`paired returns differ in length: ${a.length} and ${b.length}`);
  const estimate = annualSharpe(a, null, barsPerYear) - annualSharpe(b, null, barsPerYear);
  if (a.length < 30) return { estimate, lo: -Infinity, hi: Infinity };
  return { estimate, ...bootstrap(a.length, o, (idx) => annualSharpe(a, idx, barsPerYear) - annualSharpe(b, idx, barsPerYear)) };
}
