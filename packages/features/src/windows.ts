/** Windows [N, T, F] cut from a feature matrix: one contiguous copy per window, no intermediates. */
import { DataError } from '@task-agnostic/core';
import type { FeatureMatrix } from './batch.js';

/**
 * The window ending at row e holds rows e-T+1..e (all must be >= warmup and < rows). Writes into
 * `out` when given (length >= N*T*F), else allocates. Returns the filled array.
 */
export function makeWindows(m: FeatureMatrix, endRows: ArrayLike<number>, windowLength: number, out?: Float32Array): Float32Array {
  const T = windowLength;
  if (!Number.isInteger(T) || T < 1) throw new DataError(`windowLength is ${T}; use a whole number >= 1`);
  const F = m.cols;
  const N = endRows.length;
  const size = N * T * F;
  const dst = out ?? new Float32Array(size);
  if (dst.length < size) throw new DataError(`out has ${dst.length} slots, ${N} windows of [${T}, ${F}] need ${size}`);
  const first = m.warmup + T - 1;
  for (let n = 0; n < N; n++) {
    const e = endRows[n]!;
    if (!Number.isInteger(e) || e < first || e >= m.rows) {
      throw new DataError(`endRows[${n}] = ${e}: a window of ${T} rows must end in [${first}, ${m.rows - 1}] (warm-up ${m.warmup})`);
    }
    dst.set(m.data.subarray((e - T + 1) * F, (e + 1) * F), n * T * F);
  }
  return dst;
}

/** Every valid end row from `from` (default: the first possible) to rows-1, stepping by `stride`. */
export function validEndRows(m: FeatureMatrix, windowLength: number, stride = 1, from = 0): Int32Array {
  const start = Math.max(from, m.warmup + windowLength - 1);
  if (start >= m.rows) return new Int32Array(0);
  const out = new Int32Array(Math.floor((m.rows - 1 - start) / stride) + 1);
  for (let i = 0; i < out.length; i++) out[i] = start + i * stride;
  return out;
}
