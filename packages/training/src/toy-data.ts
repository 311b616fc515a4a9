/**
 * TEST SUPPORT ONLY (not exported): a small learnable multi-task problem over random windows,
 * for the loop's tests and the benchmark.
 */
import { Rng } from '@task-agnostic/core';
import type { MultiTaskSplit } from './split.js';

/** Task 0: regression y = mean of the last step's features; task 1: 3 classes by the size of feature 0 over the last two steps. */
export function toySplit(n: number, T: number, F: number, seed: number | string): MultiTaskSplit {
  const rng = new Rng(seed);
  const x = new Float32Array(n * T * F);
  const reg = new Float32Array(n);
  const cls = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < T * F; k++) x[r * T * F + k] = rng.normal();
    let m = 0;
    for (let f = 0; f < F; f++) m += x[r * T * F + (T - 1) * F + f]!;
    reg[r] = m / F + 0.1 * rng.normal();
    const trend = x[r * T * F + (T - 1) * F]! + x[r * T * F + (T - 2) * F]!;
    cls[r] = trend > 0.5 ? 2 : trend < -0.5 ? 0 : 1;
  }
  return { x, n, windowLength: T, featureCount: F, targets: [reg, cls], targetDims: [1, 1] };
}
