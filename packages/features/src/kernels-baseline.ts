/**
 * What the naive baselines of the volatility and risk tasks read, as causal features (bars <= t),
 * so a model that sees them can at least match those baselines:
 * - log_ewma_vol: 0.5 ln(v_t), v_t = lambda v_{t-1} + (1 - lambda) r_t^2 (RiskMetrics, J.P. Morgan
 *   1996), r_t = ln(close_t / close_{t-1}); v starts at r_1^2. This is the volatility task's EWMA
 *   baseline in the task's own log space. Warm-up ceil(2 / (1 - lambda)) bars (the start's weight
 *   has decayed below lambda^(2 / (1 - lambda)), 1.6% for 0.94).
 * - max_drawdown: the trailing window's maximum drawdown, max over k in (t-P, t] of
 *   1 - low_k / peak_k, peak_k = max(close_{t-P}, high_{t-P+1..k-1}): heads' forwardDrawdown read
 *   backwards, i.e. what the risk task's label of the window (t-P, t] (its persistence baseline) is
 *   made of. Warm-up P bars.
 */
import type { BarContext, FeatureKernel } from './context.js';

const VAR_FLOOR = 1e-16;

export class LogEwmaVolKernel implements FeatureKernel {
  readonly warmup: number;
  private v = NaN;
  constructor(readonly names: readonly string[], private readonly lambda: number) {
    this.warmup = Math.ceil(2 / (1 - lambda));
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const r = ctx.logReturn;
    if (Number.isFinite(r)) this.v = Number.isNaN(this.v) ? r * r : this.lambda * this.v + (1 - this.lambda) * r * r;
    out[at] = ctx.index < this.warmup || Number.isNaN(this.v) ? 0 : 0.5 * Math.log(Math.max(VAR_FLOOR, this.v));
  }
}

export class MaxDrawdownKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly close: Float64Array;
  private readonly high: Float64Array;
  private readonly low: Float64Array;
  private n = 0;
  constructor(readonly names: readonly string[], private readonly period: number) {
    this.warmup = period;
    this.close = new Float64Array(period + 1);
    this.high = new Float64Array(period + 1);
    this.low = new Float64Array(period + 1);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const size = this.period + 1;
    const slot = this.n % size;
    this.close[slot] = ctx.close;
    this.high[slot] = ctx.high;
    this.low[slot] = ctx.low;
    this.n++;
    if (this.n < size) {
      out[at] = 0;
      return;
    }
    const first = this.n % size; // the oldest bar, t - P
    let peak = this.close[first]!;
    let dd = 0;
    for (let j = 1; j < size; j++) {
      const k = (first + j) % size;
      const d = 1 - this.low[k]! / peak;
      if (d > dd) dd = d;
      if (this.high[k]! > peak) peak = this.high[k]!;
    }
    out[at] = dd;
  }
}
