/**
 * Momentum and oscillator kernels. Each follows technicalindicators 3.1's definition (seeds
 * included) so the proof can compare against it; outputs are rescaled to O(1) (e.g. RSI / 100)
 * and the degenerate cases where the reference gives NaN/Infinity get a documented neutral value.
 */
import type { BarContext, FeatureKernel } from './context.js';
import { Ring, SeededEma, WilderSum, safeDiv } from './rolling.js';
import type { FieldWindow, HighLowWindow } from './shared.js';

/**
 * RSI / 100 with Wilder averages: the first average gain/loss is the mean of the first `period`
 * changes, then avg = (avg * (period - 1) + x) / period (technicalindicators AverageGain/Loss).
 * avgLoss = 0 gives 1 (reference: 100); both averages 0 (a flat market) gives 0.5 (reference: 100).
 */
export class RsiKernel implements FeatureKernel {
  readonly warmup: number;
  private n = 0;
  private gainSum = 0;
  private lossSum = 0;
  private avgGain = NaN;
  private avgLoss = NaN;
  constructor(
    readonly names: readonly string[],
    private readonly period: number,
  ) {
    this.warmup = period;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (ctx.index === 0) {
      out[at] = 0;
      return;
    }
    const ch = ctx.close - ctx.prevClose;
    const gain = ch > 0 ? ch : 0;
    const loss = ch < 0 ? -ch : 0;
    const p = this.period;
    if (this.n < p) {
      this.gainSum += gain;
      this.lossSum += loss;
      this.n++;
      if (this.n < p) {
        out[at] = 0;
        return;
      }
      this.avgGain = this.gainSum / p;
      this.avgLoss = this.lossSum / p;
    } else {
      this.avgGain = (this.avgGain * (p - 1) + gain) / p;
      this.avgLoss = (this.avgLoss * (p - 1) + loss) / p;
    }
    if (this.avgLoss === 0) out[at] = this.avgGain === 0 ? 0.5 : 1;
    else if (this.avgGain === 0) out[at] = 0;
    else out[at] = (100 - 100 / (1 + this.avgGain / this.avgLoss)) / 100;
  }
}

/**
 * MACD histogram / close. EMAs seeded with their simple mean (technicalindicators MACD with EMA
 * oscillator and signal): MACD line from bar slow-1, signal after `signal` MACD values.
 */
export class MacdHistKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly fast: SeededEma;
  private readonly slow: SeededEma;
  private readonly signal: SeededEma;
  private readonly lineStart: number;
  constructor(readonly names: readonly string[], fast: number, slow: number, signal: number) {
    this.fast = SeededEma.ema(fast);
    this.slow = SeededEma.ema(slow);
    this.signal = SeededEma.ema(signal);
    this.lineStart = Math.max(fast, slow) - 1;
    this.warmup = this.lineStart + signal - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const f = this.fast.push(ctx.close);
    const s = this.slow.push(ctx.close);
    if (ctx.index < this.lineStart) {
      out[at] = 0;
      return;
    }
    const line = f - s;
    const sig = this.signal.push(line);
    out[at] = ctx.index < this.warmup ? 0 : (line - sig) / ctx.close;
  }
}

/** Moving-average crossover: SMA(fast) / SMA(slow) - 1 (> 0 when the fast average is above). */
export class MaCrossKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly fast: FieldWindow, private readonly slow: FieldWindow) {
    this.warmup = Math.max(fast.size, slow.size) - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = ctx.index < this.warmup ? 0 : this.fast.mean() / this.slow.mean() - 1;
  }
}

/**
 * Stochastic %K / 100 over `period` bars and %D / 100 = SMA(%K, signal). A flat window (highest
 * high = lowest low) gives %K = 0, as technicalindicators does.
 */
export class StochasticKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly ks: Ring;
  constructor(readonly names: readonly string[], private readonly hl: HighLowWindow, signal: number) {
    this.ks = new Ring(signal);
    this.warmup = hl.size - 1 + signal - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (!this.hl.full) {
      out[at] = 0;
      out[at + 1] = 0;
      return;
    }
    const { hh, ll } = this.hl.extremes(ctx.index);
    const k = safeDiv((ctx.close - ll) * 100, hh - ll, 0);
    this.ks.push(k);
    out[at] = k / 100;
    out[at + 1] = this.ks.full ? this.ks.mean() / 100 : 0;
  }
}

/** Williams %R / 100 in [-1, 0]; a flat window gives -0.5 (the reference gives NaN). */
export class WilliamsRKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly hl: HighLowWindow) {
    this.warmup = hl.size - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (!this.hl.full) {
      out[at] = 0;
      return;
    }
    const { hh, ll } = this.hl.extremes(ctx.index);
    out[at] = hh === ll ? -0.5 : (((hh - ctx.close) / (hh - ll)) * -100) / 100;
  }
}

/**
 * CCI / 100: (typical price - SMA) / (0.015 * mean absolute deviation) over `period` bars
 * (technicalindicators CCI). The mean deviation is exact, O(period). Zero deviation gives 0.
 */
export class CciKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly tps: Ring;
  constructor(readonly names: readonly string[], private readonly period: number) {
    this.tps = new Ring(period);
    this.warmup = period - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const tp = (ctx.high + ctx.low + ctx.close) / 3;
    const r = this.tps;
    r.push(tp);
    if (!r.full) {
      out[at] = 0;
      return;
    }
    const sma = r.sum / this.period;
    const b = r.buf;
    const n = this.period;
    // Four independent accumulators (one chain of adds is latency-bound).
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      d0 += Math.abs(b[i]! - sma);
      d1 += Math.abs(b[i + 1]! - sma);
      d2 += Math.abs(b[i + 2]! - sma);
      d3 += Math.abs(b[i + 3]! - sma);
    }
    for (; i < n; i++) d0 += Math.abs(b[i]! - sma);
    const md = (d0 + d1 + (d2 + d3)) / n;
    out[at] = safeDiv(tp - sma, 0.015 * md, 0) / 100;
  }
}

/**
 * ADX / 100 and (+DI - -DI) / 100 (technicalindicators ADX): true range and directional moves
 * from bar 1, Wilder running sums (sum of the first `period`, then s - s/period + x), DX smoothed
 * by a Wilder average seeded with the mean of the first `period` DX values. A zero true range or
 * zero DI sum gives DI = 0 / DX = 0 (the reference gives NaN there).
 */
export class AdxKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly tr: WilderSum;
  private readonly pdm: WilderSum;
  private readonly mdm: WilderSum;
  private readonly adx: SeededEma;
  private prevHigh = NaN;
  private prevLow = NaN;
  constructor(readonly names: readonly string[], private readonly period: number) {
    this.tr = new WilderSum(period);
    this.pdm = new WilderSum(period);
    this.mdm = new WilderSum(period);
    this.adx = SeededEma.wilder(period);
    this.warmup = 2 * period - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const { high: h, low: l } = ctx;
    const ph = this.prevHigh;
    const pl = this.prevLow;
    this.prevHigh = h;
    this.prevLow = l;
    if (ctx.index === 0) {
      out[at] = 0;
      out[at + 1] = 0;
      return;
    }
    const pc = ctx.prevClose;
    const tr = Math.max(h - l, Math.abs(h - pc), Math.abs(l - pc));
    const up = h - ph;
    const down = pl - l;
    const atr = this.tr.push(tr);
    const apdm = this.pdm.push(up > down && up > 0 ? up : 0);
    const amdm = this.mdm.push(down > up && down > 0 ? down : 0);
    if (ctx.index < this.period) {
      out[at] = 0;
      out[at + 1] = 0;
      return;
    }
    const pdi = safeDiv(apdm * 100, atr, 0);
    const mdi = safeDiv(amdm * 100, atr, 0);
    const dx = safeDiv(Math.abs(pdi - mdi), pdi + mdi, 0) * 100;
    const adx = this.adx.push(dx);
    out[at] = ctx.index < this.warmup ? 0 : adx / 100;
    out[at + 1] = ctx.index < this.warmup ? 0 : (pdi - mdi) / 100;
  }
}
