/**
 * Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla 2018). Each task has a learned
 * s_i = log sigma_i^2 and the combined loss is
 *   L = sum_i c_i exp(-s_i) L_i + s_i / 2,   c_i = 1 for classification, 1/2 for regression
 * (the paper's 1/sigma^2 for a softmax likelihood and 1/(2 sigma^2) for a Gaussian one).
 * The effective weight of task i is c_i exp(-s_i). The s_i are plain numbers updated by gradient
 * descent on L with the analytic derivative dL/ds_i = 1/2 - c_i exp(-s_i) L_i, and clamped to
 * [sMin, sMax] so that no weight explodes or vanishes.
 */
import { ConfigError, DataError } from '@task-agnostic/core';

export interface UncertaintyOptions {
  readonly kinds: readonly ('classification' | 'regression')[];
  /** Step size of the s_i updates. */
  readonly learningRate?: number;
  readonly initialS?: number;
  readonly sMin?: number;
  readonly sMax?: number;
}

export interface UncertaintyState {
  readonly s: number[];
}

export class UncertaintyWeighting {
  private readonly s: Float64Array;
  private readonly c: Float64Array;
  readonly learningRate: number;
  readonly sMin: number;
  readonly sMax: number;

  constructor(options: UncertaintyOptions) {
    const T = options.kinds.length;
    if (T === 0) throw new ConfigError('needs at least one task', 'harmoniser.kinds');
    this.learningRate = options.learningRate ?? 0.01;
    this.sMin = options.sMin ?? -6;
    this.sMax = options.sMax ?? 6;
    if (!(this.sMin < this.sMax)) throw new ConfigError(`sMin (${this.sMin}) must be below sMax (${this.sMax})`, 'harmoniser.sMin');
    this.s = new Float64Array(T).fill(clamp(options.initialS ?? 0, this.sMin, this.sMax));
    this.c = Float64Array.from(options.kinds, (k) => (k === 'regression' ? 0.5 : 1));
  }

  /** The log-variances s_i. */
  get logVariances(): number[] {
    return Array.from(this.s);
  }

  /** The weights c_i exp(-s_i) that multiply each task loss this step. */
  weights(): number[] {
    return Array.from(this.s, (s, i) => this.c[i]! * Math.exp(-s));
  }

  /** The full uncertainty-weighted objective for these task losses (what is minimised). */
  objective(losses: readonly number[]): number {
    this.check(losses);
    let total = 0;
    for (let i = 0; i < losses.length; i++) total += this.c[i]! * Math.exp(-this.s[i]!) * losses[i]! + this.s[i]! / 2;
    return total;
  }

  /** One gradient step on the s_i given this step's task losses, then the clamp. */
  update(losses: readonly number[]): void {
    this.check(losses);
    for (let i = 0; i < losses.length; i++) {
      const grad = 0.5 - this.c[i]! * Math.exp(-this.s[i]!) * losses[i]!;
      this.s[i] = clamp(this.s[i]! - this.learningRate * grad, this.sMin, this.sMax);
    }
  }

  getState(): UncertaintyState {
    return { s: Array.from(this.s) };
  }

  setState(state: UncertaintyState): void {
    if (state.s.length !== this.s.length) throw new DataError(`uncertainty state has ${state.s.length} tasks, expected ${this.s.length}`);
    this.s.set(state.s);
  }

  private check(losses: readonly number[]): void {
    if (losses.length !== this.s.length) throw new DataError(`uncertainty weighting: ${losses.length} losses for ${this.s.length} tasks`);
    for (const l of losses) if (!Number.isFinite(l)) throw new DataError(`uncertainty weighting: task loss ${l} is not finite`);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
