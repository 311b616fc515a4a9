/**
 * An in-memory multi-task split: windows [n, T, F] and per-task targets [n, targetDim], all
 * rows aligned (row r of every array belongs to the same window).
 */
import { DataError } from '@task-agnostic/core';
import type { MultiTaskBatch } from './step.js';

export interface MultiTaskSplit {
  readonly x: Float32Array;
  readonly n: number;
  readonly windowLength: number;
  readonly featureCount: number;
  readonly targets: readonly Float32Array[];
  readonly targetDims: readonly number[];
  /** The candle index each window ends at (for audits of the split boundaries). */
  readonly endRows?: Int32Array;
  /** Which series (symbol) each window comes from, when several are pooled. */
  readonly seriesIds?: Int32Array;
  /**
   * Sampling weights of the windows (training split only, e.g. dataset.recencyHalfLifeDays): when
   * present, trainMultiTask draws each batch's windows with probability proportional to them, with
   * replacement. Finite, >= 0, at least one > 0.
   */
  readonly sampleWeights?: Float64Array;
}

export function checkSplit(s: MultiTaskSplit, what: string): void {
  const per = s.windowLength * s.featureCount;
  if (s.x.length !== s.n * per) throw new DataError(`${what}: windows hold ${s.x.length} values, expected n*T*F = ${s.n}*${s.windowLength}*${s.featureCount}`);
  s.targets.forEach((t, i) => {
    if (t.length !== s.n * s.targetDims[i]!) throw new DataError(`${what}: targets of task ${i} hold ${t.length} values, expected ${s.n}*${s.targetDims[i]}`);
  });
  for (let k = 0; k < s.x.length; k++) if (!Number.isFinite(s.x[k]!)) throw new DataError(`${what}: window value ${k} is ${s.x[k]}`);
  if (s.sampleWeights) {
    if (s.sampleWeights.length !== s.n) throw new DataError(`${what}: ${s.sampleWeights.length} sample weights for ${s.n} windows`);
    sampleWeightSums(s.sampleWeights, `${what}: `);
  }
}

/**
 * Checks sample weights (each finite and >= 0, not all 0 unless there are none; errors start with
 * `prefix`) and returns their sum and sum of squares.
 */
export function sampleWeightSums(w: ArrayLike<number>, prefix = ''): { sum: number; sumSq: number } {
  let sum = 0;
  let sumSq = 0;
  for (let r = 0; r < w.length; r++) {
    const v = w[r]!;
    if (!(Number.isFinite(v) && v >= 0)) throw new DataError(`${prefix}sample weight ${r} is ${v} (weights must be finite and >= 0)`);
    sum += v;
    sumSq += v * v;
  }
  if (w.length > 0 && !(sum > 0)) throw new DataError(`${prefix}every sample weight is 0: no window can be drawn`);
  return { sum, sumSq };
}

/** Kish's effective sample size of weights: (sum w)^2 / sum w^2 (n for equal weights). */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  const { sum, sumSq } = sampleWeightSums(w);
  return sumSq > 0 ? (sum * sum) / sumSq : 0;
}

/** Rows [start, end) as a batch (copies). */
export function sliceBatch(s: MultiTaskSplit, start: number, end: number): MultiTaskBatch {
  const per = s.windowLength * s.featureCount;
  return {
    x: s.x.slice(start * per, end * per),
    n: end - start,
    targets: s.targets.map((t, i) => t.slice(start * s.targetDims[i]!, end * s.targetDims[i]!)),
    targetDims: s.targetDims,
  };
}

/** The rows listed in `idx` as a batch. */
export function gatherBatch(s: MultiTaskSplit, idx: ArrayLike<number>): MultiTaskBatch {
  const per = s.windowLength * s.featureCount;
  const n = idx.length;
  const x = new Float32Array(n * per);
  const targets = s.targets.map((_, i) => new Float32Array(n * s.targetDims[i]!));
  for (let r = 0; r < n; r++) {
    const src = idx[r]!;
    x.set(s.x.subarray(src * per, (src + 1) * per), r * per);
    s.targets.forEach((t, i) => {
      const d = s.targetDims[i]!;
      targets[i]!.set(t.subarray(src * d, (src + 1) * d), r * d);
    });
  }
  return { x, n, targets, targetDims: s.targetDims };
}

/** The rows listed in `idx` as a split (copies), with their end rows and series ids when `s` has them. */
export function gatherSplit(s: MultiTaskSplit, idx: ArrayLike<number>): MultiTaskSplit {
  const b = gatherBatch(s, idx);
  return {
    ...b,
    windowLength: s.windowLength,
    featureCount: s.featureCount,
    ...(s.endRows ? { endRows: Int32Array.from(idx, (r) => s.endRows![r]!) } : {}),
    ...(s.seriesIds ? { seriesIds: Int32Array.from(idx, (r) => s.seriesIds![r]!) } : {}),
    ...(s.sampleWeights ? { sampleWeights: Float64Array.from(idx, (r) => s.sampleWeights![r]!) } : {}),
  };
}

/** Keeps only the listed tasks' targets (curriculum phases train subsets). */
export function selectTasks(s: MultiTaskSplit, taskIdx: readonly number[]): MultiTaskSplit {
  return { ...s, targets: taskIdx.map((i) => s.targets[i]!), targetDims: taskIdx.map((i) => s.targetDims[i]!) };
}
