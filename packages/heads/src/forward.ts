/**
 * Statistics of the forward window (t, t+h] used by the labels, and of the trailing window
 * (t-h, t] used by the naive baselines. Forward functions read close[t] (the reference price,
 * known at t) and bars t+1..t+h only; trailing functions read bars <= t only.
 */
import { quantileSorted } from '@task-agnostic/core';

/** ln(close[t+h] / close[t]). */
export function forwardLogReturn(close: Float64Array, t: number, h: number): number {
  return Math.log(close[t + h]! / close[t]!);
}

/**
 * Forward realised volatility per bar: sqrt(mean_{k=1..h} r_{t+k}^2) with r_j = ln(close[j] / close[j-1])
 * (zero-mean realised vol, the usual convention for short horizons; r_{t+1} uses the reference close[t]).
 */
export function forwardRealisedVol(close: Float64Array, t: number, h: number): number {
  let s = 0;
  for (let k = t + 1; k <= t + h; k++) {
    const r = Math.log(close[k]! / close[k - 1]!);
    s += r * r;
  }
  return Math.sqrt(s / h);
}

/**
 * Forward maximum drawdown as a fraction: max over k in (t, t+h] of 1 - low[k] / peak_k, where
 * peak_k = max(close[t], high[t+1..k-1]) (the intrabar order of high and low is unknown, so a bar's
 * own high never counts as a peak before its own low). 0 when the path never falls below its peak.
 */
export function forwardDrawdown(close: Float64Array, high: Float64Array, low: Float64Array, t: number, h: number): number {
  let peak = close[t]!;
  let dd = 0;
  for (let k = t + 1; k <= t + h; k++) {
    const d = 1 - low[k]! / peak;
    if (d > dd) dd = d;
    if (high[k]! > peak) peak = high[k]!;
  }
  return dd;
}

/** Trailing realised vol over the returns ending at t: sqrt(mean r_j^2, j = max(1, t-h+1)..t); NaN when t = 0. */
export function trailingRealisedVol(close: Float64Array, t: number, h: number): number {
  const start = Math.max(1, t - h + 1);
  if (t < start) return NaN;
  let s = 0;
  for (let j = start; j <= t; j++) {
    const r = Math.log(close[j]! / close[j - 1]!);
    s += r * r;
  }
  return Math.sqrt(s / (t - start + 1));
}

/** The drawdown of the trailing window: forwardDrawdown of the window starting at max(0, t-h). */
export function trailingDrawdown(close: Float64Array, high: Float64Array, low: Float64Array, t: number, h: number): number {
  const s = Math.max(0, t - h);
  return t > s ? forwardDrawdown(close, high, low, s, t - s) : 0;
}

/** One-bar log returns of bars [1, end): out[j - 1] = ln(close[j] / close[j-1]) (oneBarReturns without its leading 0). */
export function barLogReturns(close: Float64Array, end: number): Float64Array {
  return end < 1 ? new Float64Array(0) : oneBarReturns(close, end).subarray(1);
}

/** Sample standard deviation. */
export function sampleStd(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** 1.4826 x median absolute deviation: a sigma estimate that a few extreme moves cannot inflate. */
export function robustSigma(x: ArrayLike<number>): number {
  const sorted = Float64Array.from(x).sort();
  const med = quantileSorted(sorted, 0.5);
  const dev = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) dev[i] = Math.abs(sorted[i]! - med);
  dev.sort();
  return 1.4826 * quantileSorted(dev, 0.5);
}

/** `points` evenly spaced quantiles (q = 0, 1/(points-1), ..., 1) of x: a compact sorted distribution. */
export function quantileGrid(x: ArrayLike<number>, points: number): number[] {
  const sorted = Float64Array.from(x).sort();
  const out: number[] = new Array(points);
  for (let i = 0; i < points; i++) out[i] = quantileSorted(sorted, i / (points - 1));
  return out;
}

/**
 * Percentile (0..1) of v against a quantile grid from quantileGrid: linear interpolation between
 * grid points, 0 below the minimum and 1 above the maximum.
 */
export function percentileFromGrid(grid: readonly number[], v: number): number {
  const m = grid.length;
  if (m === 0 || Number.isNaN(v)) return NaN;
  if (v <= grid[0]!) return 0;
  if (v >= grid[m - 1]!) return 1;
  let lo = 0;
  let hi = m - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (grid[mid]! <= v) lo = mid;
    else hi = mid;
  }
  const span = grid[hi]! - grid[lo]!;
  const frac = span > 0 ? (v - grid[lo]!) / span : 0;
  return (lo + frac) / (m - 1);
}

/** Class counts of integer labels over rows where valid (and t < end). */
export function classCounts(targets: Float32Array, valid: Uint8Array, k: number, end: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let t = 0; t < end; t++) if (valid[t]) counts[targets[t]!]! += 1;
  return counts;
}

/** Balanced class weights n / (k * count_c) (sklearn's 'balanced'); a class with no examples gets weight 1. */
export function balancedWeights(counts: readonly number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c > 0 ? n / (counts.length * c) : 1));
}

/** Log of the class frequencies with add-one smoothing: logits of the "prior" baseline. */
export function priorLogits(counts: readonly number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0) + counts.length;
  return counts.map((c) => Math.log((c + 1) / n));
}

/** Forward trend t-statistic sum r / sqrt(sum r^2) over r_{t+1..t+h} (0 for a flat window). */
export function forwardTrendZ(close: Float64Array, t: number, h: number): number {
  let s = 0;
  let q = 0;
  for (let k = t + 1; k <= t + h; k++) {
    const r = Math.log(close[k]! / close[k - 1]!);
    s += r;
    q += r * r;
  }
  return q > 0 ? s / Math.sqrt(q) : 0;
}

/** One-bar log returns of every bar: r[k] = ln(close[k] / close[k-1]), r[0] = 0 (reads bars k-1 and k only). */
export function oneBarReturns(close: Float64Array, length: number): Float64Array {
  const r = new Float64Array(length);
  for (let k = 1; k < length; k++) r[k] = Math.log(close[k]! / close[k - 1]!);
  return r;
}

/** forwardRealisedVol from precomputed one-bar returns (same value, no logs in the window loop). */
export function windowRealisedVol(r: Float64Array, t: number, h: number): number {
  let s = 0;
  for (let k = t + 1; k <= t + h; k++) s += r[k]! * r[k]!;
  return Math.sqrt(s / h);
}

/** forwardTrendZ from precomputed one-bar returns. */
export function windowTrendZ(r: Float64Array, t: number, h: number): number {
  let s = 0;
  let q = 0;
  for (let k = t + 1; k <= t + h; k++) {
    s += r[k]!;
    q += r[k]! * r[k]!;
  }
  return q > 0 ? s / Math.sqrt(q) : 0;
}
