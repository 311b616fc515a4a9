/**
 * Intervals for the trainer's comparisons: a paired moving-block bootstrap over test rows
 * (neighbouring windows share candles and overlapping labels, so rows are resampled in blocks).
 */
import { DataError, Rng } from '@task-agnostic/core';

/** A difference (a - b, signed so that > 0 means a is better) with its bootstrap interval. */
export interface Difference {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  /** 'better' / 'worse' when the interval excludes 0, else 'no significant difference'. */
  readonly verdict: 'better' | 'worse' | 'no significant difference';
}

/**
 * Paired moving-block bootstrap of stat(idx): resamples of n row indices made of blocks of
 * consecutive rows (overlapping labels make neighbouring rows dependent), percentile interval.
 */
export function blockBootstrap(n: number, stat: (idx: Int32Array) => number, o: { resamples: number; blockLength: number; level: number; seed: number }): { lo: number; hi: number; values: Float64Array } {
  if (n < 2) throw new DataError(`bootstrap needs at least 2 rows, got ${n}`);
  const L = Math.max(1, Math.min(o.blockLength, n));
  const rng = new Rng(o.seed);
  const values = new Float64Array(o.resamples);
  const idx = new Int32Array(n);
  for (let r = 0; r < o.resamples; r++) {
    for (let k = 0; k < n; ) {
      const start = rng.int(n - L + 1);
      for (let j = 0; j < L && k < n; j++) idx[k++] = start + j;
    }
    values[r] = stat(idx);
  }
  const sorted = Float64Array.from(values).sort();
  const a = (1 - o.level) / 2;
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return { lo: at(a), hi: at(1 - a), values };
}

/** A difference with the verdict its interval supports. */
export function difference(value: number, ci: { lo: number; hi: number }): Difference {
  return { value, lo: ci.lo, hi: ci.hi, verdict: ci.lo > 0 ? 'better' : ci.hi < 0 ? 'worse' : 'no significant difference' };
}

