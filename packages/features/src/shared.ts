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
 * The highest high and lowest low of the last n bars, by monotonic deques: each bar enters and
 * leaves each deque once, so an update is O(1) amortised with no rescans (a trending market keeps
 * its extreme at the window's old end, where a rescan-on-expiry window would rescan almost every
 * bar). Exact: the extremes are values of the window, never arithmetic on them.
 */
export class HighLowWindow implements SharedWindow {
  hh = -Infinity;
  ll = Infinity;
  /** Bars seen. */
  private t = 0;
  // Deques as rings of capacity n (never more than n live entries): bar indices and their values,
  // values strictly decreasing (highs) / increasing (lows) from head to tail.
  private readonly hIdx: Float64Array;
  private readonly hVal: Float64Array;
  private readonly lIdx: Float64Array;
  private readonly lVal: Float64Array;
  private hHead = 0;
  private hLen = 0;
  private lHead = 0;
  private lLen = 0;
  constructor(readonly size: number) {
    this.hIdx = new Float64Array(size);
    this.hVal = new Float64Array(size);
    this.lIdx = new Float64Array(size);
    this.lVal = new Float64Array(size);
  }
  advance(ctx: BarContext): void {
    const n = this.size;
    const t = this.t++;
    const oldest = t - n + 1; // first bar index still in the window
    const h = ctx.high;
    const l = ctx.low;
    // Highs: drop expired entries at the head, dominated ones (<= h) at the tail, append h.
    if (this.hLen > 0 && this.hIdx[this.hHead]! < oldest) {
      this.hHead = this.hHead + 1 === n ? 0 : this.hHead + 1;
      this.hLen--;
    }
    while (this.hLen > 0) {
      let tail = this.hHead + this.hLen - 1;
      if (tail >= n) tail -= n;
      if (this.hVal[tail]! > h) break;
      this.hLen--;
    }
    let at = this.hHead + this.hLen;
    if (at >= n) at -= n;
    this.hIdx[at] = t;
    this.hVal[at] = h;
    this.hLen++;
    this.hh = this.hVal[this.hHead]!;
    // Lows, mirrored.
    if (this.lLen > 0 && this.lIdx[this.lHead]! < oldest) {
      this.lHead = this.lHead + 1 === n ? 0 : this.lHead + 1;
      this.lLen--;
    }
    while (this.lLen > 0) {
      let tail = this.lHead + this.lLen - 1;
      if (tail >= n) tail -= n;
      if (this.lVal[tail]! < l) break;
      this.lLen--;
    }
    at = this.lHead + this.lLen;
    if (at >= n) at -= n;
    this.lIdx[at] = t;
    this.lVal[at] = l;
    this.lLen++;
    this.ll = this.lVal[this.lHead]!;
  }
  get full(): boolean {
    return this.t >= this.size;
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
