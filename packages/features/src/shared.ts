/**
 * Windows several features read (the last 20 closes feed Bollinger, distance to SMA and the
 * regression slope; the last 20 log returns feed realised vol, skewness, kurtosis and vol of vol).
 * The engine advances each shared window once per bar before the kernels run, and the windowed
 * statistics are computed at most once per bar (memoised by bar index), so a feature set pays for
 * each window once however many features read it.
 */
import type { BarContext } from './context.js';
import { Ring } from './rolling.js';

export interface SharedWindow {
  advance(ctx: BarContext): void;
}

/** The last n values of one candle field (close, volume). */
export class FieldWindow implements SharedWindow {
  readonly ring: Ring;
  private memo = -1;
  private ssd = 0;
  private readonly isClose: boolean;
  constructor(
    readonly size: number,
    field: 'close' | 'volume',
  ) {
    this.ring = new Ring(size);
    this.isClose = field === 'close';
  }
  advance(ctx: BarContext): void {
    // A branch, not ctx[field]: a keyed load by a variable name is far slower in the hot loop.
    this.ring.push(this.isClose ? ctx.close : ctx.volume);
  }
  get full(): boolean {
    return this.ring.full;
  }
  /** Running-sum mean (technicalindicators SMA computes it the same way). */
  mean(): number {
    return this.ring.sum / this.size;
  }
  /** Exact sum of squared deviations from the mean (two passes), once per bar. */
  sumSqDev(index: number): number {
    if (this.memo !== index) this.centredSums(index);
    return this.ssd;
  }
  /**
   * Sum over the full window of (i - (n-1)/2) * (x_i - mean), i = 0 for the oldest value: the
   * regression slope's numerator. Computed in the same pass as sumSqDev, once per bar.
   */
  sumXyDev(index: number): number {
    if (this.memo !== index) this.centredSums(index);
    return this.sxy;
  }
  private sxy = 0;
  /** One pass over a FULL window for both centred sums (Bollinger and the regression slope read it). */
  private centredSums(index: number): void {
    this.memo = index;
    const r = this.ring;
    if (!r.full) {
      this.ssd = r.count > 0 ? r.sumSqDev() : 0;
      this.sxy = 0;
      return;
    }
    const n = this.size;
    const m = r.sum / n; // the running sum, re-summed exactly at every wrap
    const xm = (n - 1) / 2;
    const b = r.buf;
    const p = r.pos; // the oldest value once full: chronological i is buf[(p + i) % n]
    let q = 0;
    let xy = 0;
    let q2 = 0;
    let xy2 = 0;
    for (let j = p; j < n; j++) {
      const d = b[j]! - m;
      q += d * d;
      xy += (j - p - xm) * d;
    }
    for (let j = 0; j < p; j++) {
      const d = b[j]! - m;
      q2 += d * d;
      xy2 += (j + n - p - xm) * d;
    }
    this.ssd = q + q2;
    this.sxy = xy + xy2;
  }
}

/** The last n log returns (from bar 1) and their central moment sums, once per bar. */
export class ReturnWindow implements SharedWindow {
  readonly ring: Ring;
  private memo = -1;
  /** Sums of d^2, d^3, d^4 with d = r - mean (exact, two passes). */
  s2 = 0;
  s3 = 0;
  s4 = 0;
  constructor(readonly size: number) {
    this.ring = new Ring(size);
  }
  advance(ctx: BarContext): void {
    if (ctx.index > 0) this.ring.push(ctx.logReturn);
  }
  get full(): boolean {
    return this.ring.full;
  }
  moments(index: number): this {
    if (this.memo === index) return this;
    this.memo = index;
    const b = this.ring.buf;
    const n = this.size;
    const m = this.ring.sum / n; // running sum, re-summed exactly at every wrap
    // Two interleaved accumulators per sum: a floating-point add waits ~4 cycles for the previous
    // one, so one chain per sum is latency-bound; two chains halve that (the order of an exact
    // two-pass sum changes, its accuracy does not).
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let b2 = 0;
    let b3 = 0;
    let b4 = 0;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const d = b[i]! - m;
      const e = b[i + 1]! - m;
      const d2 = d * d;
      const e2 = e * e;
      a2 += d2;
      a3 += d2 * d;
      a4 += d2 * d2;
      b2 += e2;
      b3 += e2 * e;
      b4 += e2 * e2;
    }
    if (i < n) {
      const d = b[i]! - m;
      const d2 = d * d;
      a2 += d2;
      a3 += d2 * d;
      a4 += d2 * d2;
    }
    this.s2 = a2 + b2;
    this.s3 = a3 + b3;
    this.s4 = a4 + b4;
    return this;
  }
}

/**
 * Maximum of the last n pushed values by a monotonic deque: each value enters and leaves once, so a
 * push is O(1) amortised with no rescans (a trending market keeps its extreme at the window's old
 * end, where a rescan-on-expiry window would rescan almost every bar). Exact: the result is one of
 * the values, never arithmetic on them.
 */
class MaxDeque {
  /** Bars pushed. */
  private t = 0;
  // A ring of capacity n (never more than n live entries) of bar indices and their values, the
  // values strictly decreasing from head to tail.
  private readonly idx: Float64Array;
  private readonly val: Float64Array;
  private head = 0;
  private len = 0;
  constructor(private readonly n: number) {
    this.idx = new Float64Array(n);
    this.val = new Float64Array(n);
  }
  /** Adds x; returns the maximum of the last n values (of all so far while fewer). */
  push(x: number): number {
    const n = this.n;
    const t = this.t++;
    if (this.len > 0 && this.idx[this.head]! <= t - n) {
      this.head = this.head + 1 === n ? 0 : this.head + 1; // expired
      this.len--;
    }
    while (this.len > 0) {
      let tail = this.head + this.len - 1;
      if (tail >= n) tail -= n;
      if (this.val[tail]! > x) break;
      this.len--; // dominated by x for as long as both are in the window
    }
    let at = this.head + this.len;
    if (at >= n) at -= n;
    this.idx[at] = t;
    this.val[at] = x;
    this.len++;
    return this.val[this.head]!;
  }
}

/** The highest high and lowest low of the last n bars (the low side is a max deque of -low). */
export class HighLowWindow implements SharedWindow {
  hh = -Infinity;
  ll = Infinity;
  private seen = 0;
  private readonly highs: MaxDeque;
  private readonly negLows: MaxDeque;
  constructor(readonly size: number) {
    this.highs = new MaxDeque(size);
    this.negLows = new MaxDeque(size);
  }
  advance(ctx: BarContext): void {
    this.seen++;
    this.hh = this.highs.push(ctx.high);
    this.ll = -this.negLows.push(-ctx.low);
  }
  get full(): boolean {
    return this.seen >= this.size;
  }
  extremes(_index: number): this {
    return this;
  }
}

/**
 * Past closes for lagged returns: one ring sized for the longest lag any feature asked for
 * (capacity fixed before the first bar).
 */
export class CloseLags implements SharedWindow {
  private buf = new Float64Array(1);
  private pos = 0;
  private seen = 0;
  private started = false;
  /** Ensures close[t - lag] will be available. Only before the first bar. */
  need(lag: number): this {
    if (this.started) throw new Error('CloseLags.need after the first bar');
    if (lag + 1 > this.buf.length) this.buf = new Float64Array(lag + 1);
    return this;
  }
  advance(ctx: BarContext): void {
    this.started = true;
    const b = this.buf;
    b[this.pos] = ctx.close;
    this.pos = this.pos + 1 === b.length ? 0 : this.pos + 1;
    this.seen++;
  }
  /** close[t - lag], or NaN while fewer than lag + 1 closes were seen. */
  ago(lag: number): number {
    if (this.seen <= lag) return NaN;
    const b = this.buf;
    let j = this.pos - 1 - lag;
    if (j < 0) j += b.length;
    return b[j]!;
  }
}

/** One instance of each window per (kind, size) for an engine. */
export class SharedWindows {
  readonly all: SharedWindow[] = [];
  private readonly byKey = new Map<string, SharedWindow>();
  private get<T extends SharedWindow>(key: string, make: () => T): T {
    let w = this.byKey.get(key) as T | undefined;
    if (!w) {
      w = make();
      this.byKey.set(key, w);
      this.all.push(w);
    }
    return w;
  }
  closes(n: number): FieldWindow {
    return this.get(`close:${n}`, () => new FieldWindow(n, 'close'));
  }
  volumes(n: number): FieldWindow {
    return this.get(`volume:${n}`, () => new FieldWindow(n, 'volume'));
  }
  returns(n: number): ReturnWindow {
    return this.get(`ret:${n}`, () => new ReturnWindow(n));
  }
  closeLags(lag: number): CloseLags {
    return this.get('lags', () => new CloseLags()).need(lag);
  }
  highLow(n: number): HighLowWindow {
    return this.get(`hl:${n}`, () => new HighLowWindow(n));
  }
}
