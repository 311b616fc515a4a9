// The data-parallel benches' training batch: n rows of the reference size (T 96, F 32), N(0, 1)
// inputs, one-hot targets for the classification heads (direction 3, regime 4) and N(0, 1) targets
// for the regression heads (volatility, return); the same rows for the same n in every bench.
import { Rng } from '@task-agnostic/core';
import type { MultiTaskBatch } from '@task-agnostic/training';
import { BENCH_B, BENCH_F, BENCH_HEAD_OUTPUTS, BENCH_T } from './train-flops.js';

/** Which of BENCH_HEAD_OUTPUTS are classification heads (one-hot targets). */
const CLASSIFIES = [true, false, true, false] as const;

export function benchBatch(n: number = BENCH_B): MultiTaskBatch {
  const rng = new Rng('bench-batch');
  const x = new Float32Array(n * BENCH_T * BENCH_F).map(() => rng.normal());
  const dims = [...BENCH_HEAD_OUTPUTS];
  const targets = dims.map((o, i) => {
    const t = new Float32Array(n * o);
    for (let r = 0; r < n; r++) {
      if (CLASSIFIES[i]) t[r * o + Math.floor(rng.next() * o)] = 1;
      else t[r] = rng.normal();
    }
    return t;
  });
  return { x, n, targets, targetDims: dims };
}
