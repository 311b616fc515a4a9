/** Volume kernels: volume ratio and trend, OBV change, MFI, rolling VWAP deviation. */
import type { BarContext, FeatureKernel } from './context.js';
import { Ring, safeDiv } from './rolling.js';
import type { FieldWindow } from './shared.js';

/** volume / mean volume of the last `period` bars (current included); 1 when that mean is 0. */
export class VolumeRatioKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly vols: FieldWindow) {
    this.warmup = vols.size - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = this.vols.full ? safeDiv(ctx.volume, this.vols.mean(), 1) : 0;
  }
}

/** Short-term vs long-term volume: mean(short) / mean(long) - 1; 0 when the long mean is 0. */
export class VolumeTrendKernel implements FeatureKernel {
  readonly warmup: number;
  constructor(readonly names: readonly string[], private readonly short: FieldWindow, private readonly long: FieldWindow) {
    this.warmup = Math.max(short.size, long.size) - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (ctx.index < this.warmup) {
      out[at] = 0;
      return;
    }
    out[at] = safeDiv(this.short.mean(), this.long.mean(), 1) - 1;
  }
}

/**
 * OBV change over `period` bars, scaled by the volume traded in them:
 * (OBV[t] - OBV[t-period]) / sum(volume[t-period+1..t]), in [-1, 1]. OBV as technicalindicators:
 * +volume on an up close, -volume on a down close, unchanged otherwise, from bar 1.
 */
export class ObvChangeKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly signed: Ring;
  /**
   * The engine's shared volume window of `period` bars: from bar `period` on it holds exactly the
   * volumes of the bars whose signed volumes are in `signed`.
   */
  constructor(readonly names: readonly string[], private readonly vols: FieldWindow) {
    this.signed = new Ring(vols.size);
    this.warmup = vols.size;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    if (ctx.index > 0) {
      const c = ctx.close;
      const pc = ctx.prevClose;
      this.signed.push(c > pc ? ctx.volume : c < pc ? -ctx.volume : 0);
    }
    out[at] = this.signed.full ? safeDiv(this.signed.sum, this.vols.ring.sum, 0) : 0;
  }
}

/**
 * Money flow index / 100 over `period` bars. As technicalindicators: raw flow = typical price x
 * volume, counted positive when the typical price rose, NEGATIVE OTHERWISE (an unchanged typical
 * price counts as negative flow). No negative flow gives 1; no flow at all (zero volume) gives 0.5.
 */
export class MfiKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly pos: Ring;
  private readonly neg: Ring;
  private prevTp = NaN;
  constructor(readonly names: readonly string[], period: number) {
    this.pos = new Ring(period);
    this.neg = new Ring(period);
    this.warmup = period;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const tp = (ctx.high + ctx.low + ctx.close) / 3;
    if (ctx.index > 0) {
      const flow = tp * ctx.volume;
      const up = tp > this.prevTp;
      this.pos.push(up ? flow : 0);
      this.neg.push(up ? 0 : flow);
    }
    this.prevTp = tp;
    if (!this.pos.full) {
      out[at] = 0;
      return;
    }
    const p = this.pos.sum;
    const n = this.neg.sum;
    if (n === 0) out[at] = p === 0 ? 0.5 : 1;
    else out[at] = (100 - 100 / (1 + p / n)) / 100;
  }
}

/** close / VWAP - 1, VWAP = sum(typical price x volume) / sum(volume) over `period` bars; 0 without volume. */
export class VwapDevKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly pv: Ring;
  /** The engine's shared volume window of the same length (advanced before the kernels run). */
  constructor(readonly names: readonly string[], private readonly vols: FieldWindow) {
    this.pv = new Ring(vols.size);
    this.warmup = vols.size - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const tp = (ctx.high + ctx.low + ctx.close) / 3;
    this.pv.push(tp * ctx.volume);
    const v = this.vols.ring;
    if (!v.full || v.sum <= 0) {
      out[at] = 0;
      return;
    }
    out[at] = ctx.close / (this.pv.sum / v.sum) - 1;
  }
}
