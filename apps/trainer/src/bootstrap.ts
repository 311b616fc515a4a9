/**
 * Intervals for the trainer's comparisons over test windows: core's stationary block bootstrap
 * (neighbouring windows share candles and overlapping labels, so rows are resampled in blocks;
 * the mean block length is the longest label horizon), with the verdict an interval supports.
 */
import { DataError, bootstrapStatistic } from '@task-agnostic/core';

/** A difference (a - b, signed so that > 0 means a is better) with its bootstrap interval. */
export interface Difference {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  /** 'better' / 'worse' when the interval excludes 0, else 'no significant difference'. */
  readonly verdict: 'better' | 'worse' | 'no significant difference';
}

/**
 * Percentile interval of stat(idx) over stationary-bootstrap resamples of the n rows (mean block
 * length `blockLength`): core's bootstrapStatistic, with at least 2 rows required.
 */
export function blockBootstrap(n: number, stat: (idx: Int32Array) => number, o: { resamples: number; blockLength: number; level: number; seed: number }): { lo: number; hi: number } {
  if (n < 2) throw new DataError(`bootstrap needs at least 2 rows, got ${n}`);
  const r = bootstrapStatistic(n, stat, { resamples: o.resamples, confidence: o.level, seed: o.seed, blockLength: Math.max(1, Math.min(o.blockLength, n)) });
  return { lo: r.lo, hi: r.hi };
}

/** A difference with the verdict its interval supports. */
export function difference(value: number, ci: { lo: number; hi: number }): Difference {
  return { value, lo: ci.lo, hi: ci.hi, verdict: ci.lo > 0 ? 'better' : ci.hi < 0 ? 'worse' : 'no significant difference' };
}

/** One series' part of a pooled difference: its rows' timestamps and its signed difference on a subset of them. */
export interface PooledSeries {
  /** Timestamp of each row (ascending); rows of different series at the same timestamp are resampled together. */
  readonly ts: ArrayLike<number>;
  /** The signed difference (> 0 favours a) on all rows. */
  readonly value: number;
  /** The signed difference on the rows listed (with repeats). */
  readonly diff: (rows: Int32Array) => number;
}

/**
 * The mean over series (equal weights) of their differences, with a stationary block bootstrap
 * interval drawn on the series' common timeline: each resample draws blocks of timestamps from the
 * union of all series' timestamps, and every series is scored on its rows at the drawn timestamps.
 * Series observed over the same period (symbols in one market) move together; resampling them
 * jointly keeps that correlation in the interval, where independent resampling per series would
 * narrow it as if they were independent. A series with no row in a resample sits that resample out.
 */
export function pooledDifference(series: readonly PooledSeries[], o: { resamples: number; blockLength: number; level: number; seed: number }): Difference {
  if (series.length === 0) throw new DataError('a pooled difference needs at least one series');
  const all = new Float64Array(series.reduce((s, x) => s + x.ts.length, 0));
  let k = 0;
  for (const s of series) for (let i = 0; i < s.ts.length; i++) all[k++] = s.ts[i]!;
  all.sort();
  let u = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[u - 1]) all[u++] = all[i]!;
  const timeline = all.subarray(0, u);
  // each series' row at each timeline slot (-1: none)
  const maps = series.map((s) => {
    const m = new Int32Array(u).fill(-1);
    let j = 0;
    for (let i = 0; i < s.ts.length; i++) {
      if (i > 0 && !(s.ts[i]! > s.ts[i - 1]!)) throw new DataError(`pooled difference: a series' timestamps are not strictly ascending at row ${i}`);
      while (timeline[j]! < s.ts[i]!) j++;
      m[j] = i;
    }
    return m;
  });
  const buf = series.map(() => new Int32Array(u));
  const stat = (idx: Int32Array): number => {
    let sum = 0;
    let count = 0;
    for (let s = 0; s < series.length; s++) {
      const m = maps[s]!;
      const b = buf[s]!;
      let n = 0;
      for (let i = 0; i < idx.length; i++) {
        const r = m[idx[i]!]!;
        if (r >= 0) b[n++] = r;
      }
      if (n === 0) continue;
      sum += series[s]!.diff(b.subarray(0, n));
      count++;
    }
    return sum / count;
  };
  const ci = blockBootstrap(u, stat, o);
  return difference(series.reduce((s, x) => s + x.value, 0) / series.length, ci);
}
