/** Kernels of the optional groups; they read the extras aligned into the bar context. */
import type { BarContext, FeatureKernel } from './context.js';
import { Ring, safeDiv } from './rolling.js';

/** Relative bid-ask spread in basis points of the mid; 0 before the first snapshot. */
export class SpreadKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const b = ctx.bestBid;
    const a = ctx.bestAsk;
    out[at] = Number.isFinite(b) && Number.isFinite(a) ? ((a - b) / ((a + b) / 2)) * 1e4 : 0;
  }
}

/** Depth imbalance over the top `levels` levels: (bid size - ask size) / (bid size + ask size). */
export class DepthImbalanceKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(readonly names: readonly string[], private readonly levels: number) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const b = ctx.bidDepth[this.levels - 1]!;
    const a = ctx.askDepth[this.levels - 1]!;
    out[at] = safeDiv(b - a, b + a, 0);
  }
}

/** Taker trade-flow imbalance over the last `windowBars` candles: (buy - sell) / (buy + sell). */
export class TradeFlowKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly buys: Ring;
  private readonly sells: Ring;
  constructor(readonly names: readonly string[], windowBars: number) {
    this.buys = new Ring(windowBars);
    this.sells = new Ring(windowBars);
    this.warmup = windowBars - 1;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    this.buys.push(ctx.buyVolume);
    this.sells.push(ctx.sellVolume);
    const b = this.buys.sum;
    const s = this.sells.sum;
    out[at] = this.buys.full ? safeDiv(b - s, b + s, 0) : 0;
  }
}

/** Latest funding rate known at the close (0 before the first). */
export class FundingRateKernel implements FeatureKernel {
  readonly warmup = 0;
  constructor(readonly names: readonly string[]) {}
  step(ctx: BarContext, out: Float64Array, at: number): void {
    out[at] = Number.isFinite(ctx.fundingRate) ? ctx.fundingRate : 0;
  }
}

/**
 * Change of an aligned extra over `lookbackBars` candles: funding rate difference, or open
 * interest ratio - 1. 0 while either end is unknown.
 */
export class ExtraChangeKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly hist: Ring;
  constructor(readonly names: readonly string[], private readonly lookbackBars: number, private readonly which: 'funding' | 'oi') {
    this.hist = new Ring(lookbackBars + 1);
    this.warmup = lookbackBars;
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const now = this.which === 'funding' ? ctx.fundingRate : ctx.openInterest;
    // NaN would poison the running sum; the ring only serves as a delay line here.
    this.hist.push(Number.isFinite(now) ? now : Infinity);
    if (!this.hist.full) {
      out[at] = 0;
      return;
    }
    const then = this.hist.ago(this.lookbackBars);
    if (!Number.isFinite(now) || !Number.isFinite(then)) {
      out[at] = 0;
      return;
    }
    out[at] = this.which === 'funding' ? now - then : safeDiv(now, then, 1) - 1;
  }
}
