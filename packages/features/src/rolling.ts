/**
 * Small float64 state machines shared by every indicator: a fixed-size ring of the last n values
 * with a running sum, an exponential average seeded by the simple mean of its first `period`
 * inputs (as technicalindicators' EMA/WEMA), and Wilder's running-sum smoothing (its
 * WilderSmoothing, used inside ADX). Batch and streaming both drive these one value at a time, so
 * they cannot drift apart.
 */

/** The last `size` values, oldest first, with their running sum. O(1) per push. */
export class Ring {
  readonly size: number;
  readonly buf: Float64Array;
  /** Index where the next value goes (= index of the oldest value once full). */
  pos = 0;
  count = 0;
  /**
   * Running sum; re-summed exactly each time the ring wraps, so rounding drift stays within a
   * window's worth of ulps (CCI's tp - SMA cancellation needs that for its 1e-9 agreement).
   */
  sum = 0;
  /** How many values in the window are non-zero: an all-zero window has a sum of exactly 0. */
  nonZero = 0;

  constructor(size: number) {
    this.size = size;
    this.buf = new Float64Array(size);
  }

  /**
   * Adds x; returns the value that fell out (NaN while filling). Kept small (the re-sum at a wrap
   * is its own method) so that V8 inlines it into the kernels.
   */
  push(x: number): number {
    const full = this.count === this.size;
    const old = full ? this.buf[this.pos]! : NaN;
    if (full) {
      this.sum = this.sum - old + x;
      if (old !== 0) this.nonZero--;
    } else {
      this.sum += x;
      this.count++;
    }
    if (x !== 0) this.nonZero++;
    this.buf[this.pos] = x;
    if (++this.pos === this.size) this.wrap();
    else if (this.nonZero === 0) this.sum = 0;
    return old;
  }

  /** At each wrap: back to slot 0 and the running sum re-summed exactly (bounded drift). */
  private wrap(): void {
    this.pos = 0;
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.buf[i]!;
    this.sum = this.nonZero === 0 ? 0 : s;
  }

  get full(): boolean {
    return this.count === this.size;
  }

  /** The k-th most recent value (0 = latest). */
  ago(k: number): number {
    let j = this.pos - 1 - k;
    if (j < 0) j += this.size;
    return this.buf[j]!;
  }

  mean(): number {
    return this.sum / this.count;
  }

  max(): number {
    let m = -Infinity;
    for (let i = 0; i < this.count; i++) if (this.buf[i]! > m) m = this.buf[i]!;
    return m;
  }

  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.count; i++) if (this.buf[i]! < m) m = this.buf[i]!;
    return m;
  }

  /**
   * Sum of squared deviations from the window mean, as a second pass around the running mean
   * (never sum(x^2) - n*mean^2, which loses ~8 digits on prices near 1e5). The running sum is
   * re-summed exactly at every wrap; an error d in the mean adds only n*d^2 here.
   */
  sumSqDev(): number {
    const n = this.count;
    const m = this.sum / n;
    const b = this.buf;
    // Four independent accumulators: the adds of one chain wait on each other (latency-bound).
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const d0 = b[i]! - m;
      const d1 = b[i + 1]! - m;
      const d2 = b[i + 2]! - m;
      const d3 = b[i + 3]! - m;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    for (; i < n; i++) {
      const d = b[i]! - m;
      q0 += d * d;
    }
    return q0 + q1 + (q2 + q3);
  }
}

/**
 * Exponential average with alpha, seeded with the simple mean of the first `period` inputs
 * (technicalindicators EMA: alpha = 2/(period+1); WEMA/Wilder: alpha = 1/period).
 */
export class SeededEma {
  readonly period: number;
  readonly alpha: number;
  private n = 0;
  private acc = 0;
  value = NaN;

  constructor(period: number, alpha: number) {
    this.period = period;
    this.alpha = alpha;
  }

  static ema(period: number): SeededEma {
    return new SeededEma(period, 2 / (period + 1));
  }

  static wilder(period: number): SeededEma {
    return new SeededEma(period, 1 / period);
  }

  /** Feeds x; returns the average, NaN until `period` inputs were seen. */
  push(x: number): number {
    if (this.n >= this.period) {
      this.value = (x - this.value) * this.alpha + this.value;
      return this.value;
    }
    this.acc += x;
    this.n++;
    if (this.n === this.period) this.value = this.acc / this.period;
    return this.value;
  }
}

/** Wilder's running sum: the sum of the first `period` inputs, then s - s/period + x. */
export class WilderSum {
  readonly period: number;
  private n = 0;
  value = NaN;
  private acc = 0;

  constructor(period: number) {
    this.period = period;
  }

  push(x: number): number {
    if (this.n >= this.period) {
      this.value = this.value - this.value / this.period + x;
      return this.value;
    }
    this.acc += x;
    this.n++;
    if (this.n === this.period) this.value = this.acc;
    return this.value;
  }
}

/** a / b, or `fallback` where b is 0 or the result is not finite (flat or zero-volume bars). */
export function safeDiv(a: number, b: number, fallback: number): number {
  if (b === 0) return fallback;
  const r = a / b;
  return Number.isFinite(r) ? r : fallback;
}
