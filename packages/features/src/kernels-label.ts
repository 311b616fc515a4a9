/**
 * The statistics the regime label of the trailing window (t-P, t] is made of, as causal features
 * (bars <= t): what a model needs to know the last fully observed regime label, the persistence
 * baseline of the regime task (heads' regime-hmm.ts reads the same numbers forward from row t-P).
 * - trend_tstat: z = sum r / sqrt(sum r^2) over the last P one-bar log returns r_k = ln(c_k / c_{k-1}),
 *   k = t-P+1..t (0 when every return is 0): the trend t-statistic of the rules labeller and the
 *   HMM's first observation. Warm-up P bars.
 * - median_log_range: the median of ln(max(1e-6, ln(high_k / low_k))) over the P bars
 *   k = t-L-P+1..t-L (L = `lag`, default 0): the HMM's volatility observations (P = h, L = 0 for the
 *   whole window; P = shortBars, L = h - floor((h - shortBars) / 2) - shortBars for its central
 *   bars). Warm-up P + L - 1 bars.
 * Both are computed per row from their own bars, in the order heads uses, so they equal the label
 * statistics bit for bit.
 */
import { ConfigError } from '@task-agnostic/core';
import { logHighLow, type BarContext, type FeatureKernel } from './context.js';

/** Floor of a bar's log range (heads' MIN_RANGE), so a bar with high == low gives a finite log. */
const MIN_RANGE = 1e-6;

export class TrendTStatKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly r: Float64Array;
  private n = 0;
  constructor(readonly names: readonly string[], private readonly period: number) {
    this.warmup = period;
    this.r = new Float64Array(period);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const P = this.period;
    if (ctx.index > 0) this.r[this.n++ % P] = ctx.logReturn;
    if (this.n < P) {
      out[at] = 0;
      return;
    }
    let sumR = 0;
    let sumQ = 0;
    // oldest first, as heads sums k = t-P+1..t
    for (let j = 0; j < P; j++) {
      const x = this.r[(this.n + j) % P]!;
      sumR += x;
      sumQ += x * x;
    }
    out[at] = sumQ > 0 ? sumR / Math.sqrt(sumQ) : 0;
  }
}

export class MedianLogRangeKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly ring: Float64Array;
  private readonly buf: Float64Array;
  private n = 0;
  constructor(readonly names: readonly string[], private readonly period: number, private readonly lag: number) {
    this.warmup = period + lag - 1;
    this.ring = new Float64Array(period + lag);
    this.buf = new Float64Array(period);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const size = this.ring.length;
    this.ring[this.n++ % size] = Math.log(Math.max(MIN_RANGE, logHighLow(ctx)));
    if (this.n < size) {
      out[at] = 0;
      return;
    }
    // the ring holds bars t-L-P+1..t (oldest at n % size); the first P of them are the window
    const first = this.n % size;
    for (let j = 0; j < this.period; j++) this.buf[j] = this.ring[(first + j) % size]!;
    this.buf.sort();
    const m = this.period >> 1;
    out[at] = this.period % 2 ? this.buf[m]! : 0.5 * (this.buf[m - 1]! + this.buf[m]!);
  }
}

/** The fitted 5-state Gaussian HMM of the regime task's 'hmm' labeller (heads' RegimeHmmState, flattened). */
export interface RegimeHmmParams {
  readonly means: readonly (readonly number[])[];
  readonly variances: readonly (readonly number[])[];
  readonly prior: readonly number[];
  /** stateToRegime[j] = index into core's REGIMES. */
  readonly stateToRegime: readonly number[];
}

/**
 * regime_hmm: the regime label of the trailing window (t-P, t] itself, as the 5 regime
 * probabilities (core's REGIMES order) of its HMM observation [trend_tstat_P, median_log_range_P,
 * median_log_range of the central `shortBars` bars] under the fitted HMM and its stationary prior:
 * heads' regimeProbabilities, term for term, so its argmax is the regime task's label of row t-P
 * (the persistence baseline). The HMM comes from the training range (training's
 * fitFeatureParameters); without one the kernel refuses to run. Warm-up P bars.
 */
export class RegimeHmmKernel implements FeatureKernel {
  readonly warmup: number;
  private readonly parts: FeatureKernel[];
  private readonly obs = new Float64Array(3);
  private readonly logp: Float64Array;
  constructor(readonly names: readonly string[], period: number, shortBars: number, private readonly hmm: RegimeHmmParams | undefined) {
    const s = Math.max(1, Math.min(shortBars, period));
    const off = Math.floor((period - s) / 2);
    this.parts = [new TrendTStatKernel(['z'], period), new MedianLogRangeKernel(['long'], period, 0), new MedianLogRangeKernel(['short'], s, period - off - s)];
    this.warmup = period;
    this.logp = new Float64Array(hmm?.prior.length ?? 0);
  }
  step(ctx: BarContext, out: Float64Array, at: number): void {
    const m = this.hmm;
    if (!m) throw new ConfigError("feature 'regime_hmm' has no fitted HMM: train through trainModel (it fits one on the training range) or give its 'hmm'", 'features.regime_hmm.hmm');
    for (let q = 0; q < 3; q++) this.parts[q]!.step(ctx, this.obs, q);
    for (let j = 0; j < this.names.length; j++) out[at + j] = 0;
    if (ctx.index < this.warmup) return;
    const k = m.prior.length;
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let v = Math.log(Math.max(1e-300, m.prior[j]!));
      for (let q = 0; q < 3; q++) {
        const va = m.variances[j]![q]!;
        const e = this.obs[q]! - m.means[j]![q]!;
        v -= 0.5 * (Math.log(2 * Math.PI * va) + (e * e) / va);
      }
      this.logp[j] = v;
      if (v > mx) mx = v;
    }
    let z = 0;
    for (let j = 0; j < k; j++) z += Math.exp(this.logp[j]! - mx);
    for (let j = 0; j < k; j++) out[at + m.stateToRegime[j]!]! += Math.exp(this.logp[j]! - mx) / z;
  }
}
