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
