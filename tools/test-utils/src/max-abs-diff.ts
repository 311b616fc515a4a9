/**
 * Largest absolute difference of two equally long arrays (0 for two empty ones): how the numeric
 * tests compare a fast path with its reference. Unequal lengths throw, naming both. A NaN on either
 * side makes the result NaN, so a broken value never passes a tolerance.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** What tensorMaxAbsDiff reads of a tensor (a tf.Tensor has both; no tfjs import needed here). */
export interface TensorLike {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/** maxAbsDiff of two tensors' values; different shapes throw, naming both. */
export function tensorMaxAbsDiff(a: TensorLike, b: TensorLike): number {
  if (a.shape.length !== b.shape.length || a.shape.some((n, i) => n !== b.shape[i])) {
    throw new Error(`tensorMaxAbsDiff: shapes differ ([${a.shape.join(', ')}] vs [${b.shape.join(', ')}])`);
  }
  return maxAbsDiff(a.dataSync(), b.dataSync());
}
