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
    if (this.memo !== index) {
      this.memo = index;
      this.ssd = this.ring.sumSqDev();
    }
    return this.ssd;
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
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 0; i < n; i++) {
      const d = b[i]! - m;
      const d2 = d * d;
      s2 += d2;
      s3 += d2 * d;
      s4 += d2 * d2;
    }
    this.s2 = s2;
    this.s3 = s3;
    this.s4 = s4;
    return this;
  }
}

/**
 * The last n highs and lows with their running max / min: updated in O(1) except when the value
 * leaving the window was the extreme, then re-scanned (O(n)). Exact either way.
 */
export class HighLowWindow implements SharedWindow {
  readonly highs: Ring;
  readonly lows: Ring;
  hh = -Infinity;
  ll = Infinity;
  constructor(readonly size: number) {
    this.highs = new Ring(size);
    this.lows = new Ring(size);
  }
  advance(ctx: BarContext): void {
    const h = ctx.high;
    const l = ctx.low;
    const outH = this.highs.push(h);
    const outL = this.lows.push(l);
    if (h >= this.hh) this.hh = h;
    else if (outH === this.hh) this.hh = this.highs.max();
    if (l <= this.ll) this.ll = l;
    else if (outL === this.ll) this.ll = this.lows.min();
  }
  get full(): boolean {
    return this.highs.full;
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
