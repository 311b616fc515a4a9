/** Price-path kernels: returns, candle shape, linear-regression trend, up-bar share, calendar. */
import type { BarContext, FeatureKernel } from './context.js';
import { Ring, SeededEma, safeDiv } from './rolling.js';

/** close / close[t-period] - 1, or its logarithm. Also serves ROC (technicalindicators ROC / 100). */
export class ReturnKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly closes: Ring;
  constructor(
    readonly names: readonly string[],
    private readonly period: number,
    private readonly log: boolean,
  ) {
    this.warmup = period;
    this.closes = new Ring(period + 1);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    this.closes.push(ctx.close);
    if (!this.closes.full) {
      out[at] = 0;
      return;
    }
    const ratio = ctx.close / this.closes.ago(this.period);
    out[at] = this.log ? Math.log(ratio) : ratio - 1;
  }
}

export type CandlePart = 'body_ratio' | 'upper_shadow' | 'lower_shadow' | 'range_pct' | 'close_position';

/**
 * Shape of the current candle. Body and shadows are fractions of the high-low range (0 on a flat
 * candle); range_pct = (high - low) / close; close_position = (close - low) / range (0.5 when flat).
 */
export class CandleShapeKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(
    readonly names: readonly string[],
    private readonly part: CandlePart,
  ) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const { open: o, high: h, low: l, close: c } = ctx;
    const range = h - l;
    let v: number;
    switch (this.part) {
      case 'body_ratio':
        v = safeDiv(Math.abs(c - o), range, 0);
        break;
      case 'upper_shadow':
        v = safeDiv(h - Math.max(o, c), range, 0);
        break;
      case 'lower_shadow':
        v = safeDiv(Math.min(o, c) - l, range, 0);
        break;
      case 'range_pct':
        v = range / c;
        break;
      default:
        v = safeDiv(c - l, range, 0.5);
    }
    out[at] = v;
  }
}

/**
 * Trend strength: ordinary-least-squares slope of close against bar number over `period` bars,
 * divided by the window's mean close (relative change per bar). Exact centred sums, O(period).
 */
export class TrendSlopeKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly closes: Ring;
  private readonly sxx: number;
  constructor(
    readonly names: readonly string[],
    private readonly period: number,
  ) {
    this.warmup = period - 1;
    this.closes = new Ring(period);
    const xm = (period - 1) / 2;
    let sxx = 0;
    for (let i = 0; i < period; i++) sxx += (i - xm) * (i - xm);
    this.sxx = sxx;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const r = this.closes;
    r.push(ctx.close);
    if (!r.full) {
      out[at] = 0;
      return;
    }
    const n = this.period;
    let sy = 0;
    for (let i = 0; i < n; i++) sy += r.buf[i]!;
    const ym = sy / n;
    const xm = (n - 1) / 2;
    let sxy = 0;
    // r.pos is the oldest value once full: chronological index i maps to buf[(pos + i) % n].
    for (let i = 0, j = r.pos; i < n; i++, j = j + 1 === n ? 0 : j + 1) sxy += (i - xm) * (r.buf[j]! - ym);
    out[at] = safeDiv(sxy / this.sxx, ym, 0);
  }
}

/** Share of the last `period` bar-to-bar changes that were up (close > previous close). */
export class UpShareKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly ups: Ring;
  constructor(
    readonly names: readonly string[],
    period: number,
  ) {
    this.warmup = period;
    this.ups = new Ring(period);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (ctx.index > 0) this.ups.push(ctx.close > ctx.prevClose ? 1 : 0);
    out[at] = this.ups.full ? this.ups.sum / this.ups.size : 0;
  }
}

const DAY_MS = 86_400_000;
const TWO_PI = 2 * Math.PI;

/** Hour of day (UTC, fractional, of the bar's open time) as sin/cos. */
export class HourOfDayKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const dayFrac = (((ctx.tsMs % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
    out[at] = Math.sin(TWO_PI * dayFrac);
    out[at + 1] = Math.cos(TWO_PI * dayFrac);
  }
}

/** Day of week (UTC, 0 = Sunday; 1970-01-01 was a Thursday) as sin/cos. */
export class DayOfWeekKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const dow = (((Math.floor(ctx.tsMs / DAY_MS) + 4) % 7) + 7) % 7;
    out[at] = Math.sin((TWO_PI * dow) / 7);
    out[at + 1] = Math.cos((TWO_PI * dow) / 7);
  }
}

/** Distance to a moving average: close / SMA(period) - 1, or close / EMA(period) - 1 (SMA-seeded). */
export class DistMaKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly ring: Ring | null;
  private readonly ema: SeededEma | null;
  constructor(readonly names: readonly string[], period: number, type: 'sma' | 'ema') {
    this.ring = type === 'sma' ? new Ring(period) : null;
    this.ema = type === 'ema' ? SeededEma.ema(period) : null;
    this.warmup = period - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    let ma: number;
    if (this.ring) {
      this.ring.push(ctx.close);
      ma = this.ring.mean();
    } else ma = this.ema!.push(ctx.close);
    out[at] = ctx.index < this.warmup ? 0 : ctx.close / ma - 1;
  }
}
