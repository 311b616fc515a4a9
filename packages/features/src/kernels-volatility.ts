/**
 * Volatility and return-distribution kernels. Windowed moments use exact two-pass sums over the
 * ring (O(period), period ~20) rather than running sums of squares, which lose ~8 digits on
 * prices near 1e5 and would break the 1e-9 comparison with the reference.
 */
import { logHighLow, type BarContext, type FeatureKernel } from './context.js';
import { Ring, SeededEma, safeDiv } from './rolling.js';
import type { FieldWindow, ReturnWindow } from './shared.js';

/** Sample standard deviation (n - 1) of the last `period` log returns. */
export class RealizedVolKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly rets: ReturnWindow) {
    this.warmup = rets.size;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = this.rets.full ? Math.sqrt(this.rets.moments(ctx.index).s2 / (this.rets.size - 1)) : 0;
  }
}

/**
 * Position within Bollinger bands = technicalindicators' %b: (close - lower) / (upper - lower),
 * bands = SMA(period) +- stdDev * population std. Flat window (zero width) gives 0.5.
 */
export class BollingerKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly closes: FieldWindow, private readonly k: number) {
    this.warmup = closes.size - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const w = this.closes;
    if (!w.full) {
      out[at] = 0;
      return;
    }
    const m = w.mean();
    const sd = Math.sqrt(w.sumSqDev(ctx.index) / w.size);
    // A flat window can leave sd ~ 1e-17 from the last bit of the mean: call it flat.
    if (!(sd > 1e-12 * Math.abs(m))) {
      out[at] = 0.5;
      return;
    }
    const upper = m + sd * this.k;
    const lower = m - sd * this.k;
    out[at] = safeDiv(ctx.close - lower, upper - lower, 0.5);
  }
}

/** Wilder ATR / close: true range from bar 1, average seeded with the mean of the first `period`. */
export class AtrRatioKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly atr: SeededEma;
  constructor(readonly names: readonly string[], period: number) {
    this.atr = SeededEma.wilder(period);
    this.warmup = period;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (ctx.index === 0) {
      out[at] = 0;
      return;
    }
    const pc = ctx.prevClose;
    const tr = Math.max(ctx.high - ctx.low, Math.abs(ctx.high - pc), Math.abs(ctx.low - pc));
    const atr = this.atr.push(tr);
    out[at] = ctx.index < this.warmup ? 0 : atr / ctx.close;
  }
}

/** Population skewness or excess kurtosis of the last `period` log returns (0 when flat). */
export class ReturnMomentKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly rets: ReturnWindow, private readonly which: 'skew' | 'kurt') {
    this.warmup = rets.size;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const r = this.rets;
    if (!r.full) {
      out[at] = 0;
      return;
    }
    const n = r.size;
    const mo = r.moments(ctx.index);
    const m2 = mo.s2 / n;
    const m3 = mo.s3;
    const m4 = mo.s4;
    // Relative threshold: a window of identical returns can leave m2 ~ 1e-35 from rounding.
    if (!(m2 > 1e-30)) {
      out[at] = 0;
      return;
    }
    // m2 * sqrt(m2), not m2 ** 1.5: Math.pow is several times slower than sqrt in the hot loop.
    out[at] = this.which === 'skew' ? m3 / n / (m2 * Math.sqrt(m2)) : m4 / n / (m2 * m2) - 3;
  }
}

const FOUR_LN2 = 4 * Math.LN2;
const GK_C = 2 * Math.LN2 - 1;

/**
 * Range-based volatility over `period` bars. Parkinson: sqrt(mean(ln(H/L)^2) / (4 ln 2)).
 * Garman-Klass: sqrt(mean(0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2)), floored at 0.
 */
export class RangeVolKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly terms: Ring;
  constructor(readonly names: readonly string[], private readonly period: number, private readonly which: 'parkinson' | 'gk') {
    this.terms = new Ring(period);
    this.warmup = period - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const hl = logHighLow(ctx);
    let term: number;
    if (this.which === 'parkinson') term = (hl * hl) / FOUR_LN2;
    else {
      const co = Math.log(ctx.close / ctx.open);
      term = 0.5 * hl * hl - GK_C * co * co;
    }
    this.terms.push(term);
    out[at] = this.terms.full ? Math.sqrt(Math.max(0, this.terms.sum / this.period)) : 0;
  }
}

/**
 * Volatility of volatility: coefficient of variation (sample std / mean) of the last `period`
 * values of the `volPeriod`-bar realised volatility. 0 when the mean volatility is 0.
 */
export class VolOfVolKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly vols: Ring;
  private readonly sq: Ring;
  constructor(readonly names: readonly string[], private readonly rets: ReturnWindow, private readonly period: number) {
    this.vols = new Ring(period);
    this.sq = new Ring(period);
    this.warmup = rets.size + period - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (!this.rets.full) {
      out[at] = 0;
      return;
    }
    const vol = Math.sqrt(this.rets.moments(ctx.index).s2 / (this.rets.size - 1));
    this.vols.push(vol);
    this.sq.push(vol * vol);
    if (!this.vols.full) {
      out[at] = 0;
      return;
    }
    // Running sums (re-summed exactly at each wrap): vol of vol is a coefficient of variation of
    // O(0.1..1), so S2/n - mean^2 loses at most a digit or two, not the 1e-9 that matters.
    const n = this.period;
    const m = this.vols.sum / n;
    const ss = this.sq.sum - this.vols.sum * m;
    out[at] = m > 0 && ss > 0 ? Math.sqrt(ss / (n - 1)) / m : 0;
  }
}
