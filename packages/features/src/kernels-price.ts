/** Price-path kernels: returns, candle shape, linear-regression trend, up-bar share, calendar. */
import type { BarContext, FeatureKernel } from './context.js';
import { Ring, SeededEma, safeDiv } from './rolling.js';
import type { CloseLags, FieldWindow, ReturnWindow } from './shared.js';

/** close / close[t-period] - 1. Also serves ROC (technicalindicators ROC / 100). */
export class ReturnKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(
    readonly names: readonly string[],
    private readonly lags: CloseLags,
    private readonly period: number,
  ) {
    this.warmup = period;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = ctx.index < this.period ? 0 : ctx.close / this.lags.ago(this.period) - 1;
  }
}

/**
 * ln(close / close[t-period]) as the sum of the last `period` one-bar log returns (the shared
 * return window's running sum, re-summed exactly at every wrap): equal to the direct logarithm
 * within a few ulps (for period 1 it is the engine's ln(close / prevClose) itself), and one
 * Math.log per bar for every horizon instead of one per horizon.
 */
export class LogReturnKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(
    readonly names: readonly string[],
    private readonly rets: ReturnWindow,
  ) {
    this.warmup = rets.size;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = this.rets.full ? this.rets.ring.sum : 0;
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
 * divided by the window's mean close (relative change per bar). Exact centred sums, O(period),
 * shared with Bollinger's variance pass over the same window.
 */
export class TrendSlopeKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly sxx: number;
  constructor(
    readonly names: readonly string[],
    private readonly closes: FieldWindow,
  ) {
    const period = closes.size;
    this.warmup = period - 1;
    const xm = (period - 1) / 2;
    let sxx = 0;
    for (let i = 0; i < period; i++) sxx += (i - xm) * (i - xm);
    this.sxx = sxx;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const w = this.closes;
    if (!w.full) {
      out[at] = 0;
      return;
    }
    // The shared window's centred sum, computed once per bar together with Bollinger's variance.
    out[at] = safeDiv(w.sumXyDev(ctx.index) / this.sxx, w.mean(), 0);
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
const MINUTE_MS = 60_000;
const TWO_PI = 2 * Math.PI;
/** sin/cos of each minute of the day, so whole-minute timestamps need no trigonometry. */
const MINUTE_SIN = Float64Array.from({ length: 1440 }, (_, m) => Math.sin((TWO_PI * m) / 1440));
const MINUTE_COS = Float64Array.from({ length: 1440 }, (_, m) => Math.cos((TWO_PI * m) / 1440));
const DOW_SIN = Float64Array.from({ length: 7 }, (_, d) => Math.sin((TWO_PI * d) / 7));
const DOW_COS = Float64Array.from({ length: 7 }, (_, d) => Math.cos((TWO_PI * d) / 7));

/**
 * The UTC day a timestamp falls in, remembered between bars: consecutive bars mostly share a day,
 * so the day start is found once per day (floor division) and the time of day is one subtraction
 * after that, exact for integer milliseconds. Two floating-point modulos per bar cost more than the
 * rest of the calendar features together.
 */
class UtcDay {
  /** Start (ms) of the remembered day; NaN before the first bar. */
  private start = NaN;
  /** Day number since 1970-01-01 (a Thursday). */
  day = 0;
  /** Milliseconds since the start of the UTC day, in [0, DAY_MS). */
  msOfDay = 0;
  set(tsMs: number): void {
    let ms = tsMs - this.start;
    if (!(ms >= 0 && ms < DAY_MS)) {
      this.day = Math.floor(tsMs / DAY_MS);
      this.start = this.day * DAY_MS;
      ms = tsMs - this.start;
      // Guards the last ulp of the division for timestamps just below a day boundary.
      if (ms < 0) {
        this.day--;
        this.start -= DAY_MS;
        ms += DAY_MS;
      } else if (ms >= DAY_MS) {
        this.day++;
        this.start += DAY_MS;
        ms -= DAY_MS;
      }
    }
    this.msOfDay = ms;
  }
}

/** Hour of day (UTC, fractional, of the bar's open time) as sin/cos. */
export class HourOfDayKernel implements FeatureKernel {
  readonly warmup = 0;
  private readonly utc = new UtcDay();
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    this.utc.set(ctx.tsMs);
    const msOfDay = this.utc.msOfDay;
    const m = msOfDay / MINUTE_MS;
    if (m === Math.floor(m)) {
      out[at] = MINUTE_SIN[m]!;
      out[at + 1] = MINUTE_COS[m]!;
    } else {
      out[at] = Math.sin((TWO_PI * msOfDay) / DAY_MS);
      out[at + 1] = Math.cos((TWO_PI * msOfDay) / DAY_MS);
    }
  }
}

/** Day of week (UTC, 0 = Sunday; 1970-01-01 was a Thursday) as sin/cos. */
export class DayOfWeekKernel implements FeatureKernel {
  readonly warmup = 0;
  private readonly utc = new UtcDay();
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    this.utc.set(ctx.tsMs);
    const dow = (((this.utc.day + 4) % 7) + 7) % 7;
    out[at] = DOW_SIN[dow]!;
    out[at + 1] = DOW_COS[dow]!;
  }
}

/** Distance to a moving average: close / SMA(period) - 1, or close / EMA(period) - 1 (SMA-seeded). */
export class DistMaKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly sma: FieldWindow | null;
  private readonly ema: SeededEma | null;
  /** Pass the shared close window for an SMA, or a period for an EMA. */
  constructor(readonly names: readonly string[], ma: FieldWindow | number) {
    this.sma = typeof ma === 'number' ? null : ma;
    this.ema = typeof ma === 'number' ? SeededEma.ema(ma) : null;
    this.warmup = (typeof ma === 'number' ? ma : ma.size) - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const ma = this.sma ? this.sma.ring.mean() : this.ema!.push(ctx.close);
    out[at] = ctx.index < this.warmup ? 0 : ctx.close / ma - 1;
  }
}
