/**
 * GradNorm (Chen, Badrinarayanan, Lee & Rabinovich 2018).
 *
 * With task weights w_i and n_i = ||grad_W L_i|| on the last shared layer W:
 *   G_i = ||grad_W (w_i L_i)|| = w_i n_i,   Gbar = mean_i G_i,
 *   Ltilde_i = L_i / L_i(0),   r_i = Ltilde_i / mean_j Ltilde_j,
 *   L_grad = sum_i | G_i - Gbar r_i^alpha |   with the target Gbar r_i^alpha held constant.
 * Only the w_i are updated from L_grad: dL_grad/dw_i = sign(G_i - target_i) n_i (G_i is linear in
 * w_i, the target is a constant). After the step the weights are renormalised so sum_i w_i = T.
 * alpha = 1.5 is the paper's default for tasks of differing difficulty.
 *
 * The caller supplies the n_i: gradient norms of the unweighted task losses on W (parameter
 * mode), or on the shared representation z (representation mode, the MGDA-UB shortcut).
 */
import { ConfigError, DataError } from '@task-agnostic/core';

export interface GradNormOptions {
  readonly tasks: number;
  readonly alpha?: number;
  /** Step size of the weight updates (plain gradient descent on L_grad). */
  readonly learningRate?: number;
  /** Weights never fall below this before renormalisation (keeps every task alive). */
  readonly minWeight?: number;
}

export interface GradNormState {
  readonly weights: number[];
  readonly initialLosses: number[] | null;
}

export interface GradNormStepInfo {
  readonly G: number[];
  readonly targets: number[];
  readonly rates: number[];
  readonly gradLoss: number;
}

export class GradNorm {
  readonly alpha: number;
  readonly learningRate: number;
  readonly minWeight: number;
  private readonly w: Float64Array;
  private l0: Float64Array | null = null;

  constructor(options: GradNormOptions) {
    if (!Number.isInteger(options.tasks) || options.tasks < 1) throw new ConfigError(`needs a positive task count, got ${options.tasks}`, 'harmoniser.tasks');
    this.alpha = options.alpha ?? 1.5;
    this.learningRate = options.learningRate ?? 0.025;
    this.minWeight = options.minWeight ?? 1e-3;
    if (!(this.alpha >= 0)) throw new ConfigError(`alpha must be >= 0, got ${this.alpha}`, 'harmoniser.alpha');
    if (!(this.learningRate > 0)) throw new ConfigError(`learningRate must be > 0, got ${this.learningRate}`, 'harmoniser.learningRate');
    this.w = new Float64Array(options.tasks).fill(1);
  }

  /** The current task weights (they sum to the task count). */
  weights(): number[] {
    return Array.from(this.w);
  }

  /**
   * One GradNorm update from this step's task losses and gradient norms n_i of the UNWEIGHTED
   * losses. The first call records L_i(0).
   */
  update(losses: readonly number[], gradNorms: readonly number[]): GradNormStepInfo {
    const T = this.w.length;
    if (losses.length !== T || gradNorms.length !== T) {
      throw new DataError(`GradNorm.update: ${losses.length} losses and ${gradNorms.length} gradient norms for ${T} tasks`);
    }
    for (let i = 0; i < T; i++) {
      if (!Number.isFinite(losses[i]!) || !(gradNorms[i]! >= 0)) {
        throw new DataError(`GradNorm.update: task ${i} has loss ${losses[i]} and gradient norm ${gradNorms[i]}`);
      }
    }
    if (!this.l0) this.l0 = Float64Array.from(losses, (l) => Math.max(l, 1e-12));
    const G = Array.from(this.w, (w, i) => w * gradNorms[i]!);
    const gbar = G.reduce((a, b) => a + b, 0) / T;
    const tilde = losses.map((l, i) => l / this.l0![i]!);
    const tbar = tilde.reduce((a, b) => a + b, 0) / T;
    const rates = tilde.map((x) => (tbar > 0 ? x / tbar : 1));
    const targets = rates.map((r) => gbar * Math.pow(r, this.alpha));
    let gradLoss = 0;
    for (let i = 0; i < T; i++) {
      const diff = G[i]! - targets[i]!;
      gradLoss += Math.abs(diff);
      const grad = Math.sign(diff) * gradNorms[i]!;
      this.w[i] = Math.max(this.w[i]! - this.learningRate * grad, this.minWeight);
    }
    const sum = this.w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < T; i++) this.w[i] = (this.w[i]! * T) / sum;
    return { G, targets, rates, gradLoss };
  }

  getState(): GradNormState {
    return { weights: Array.from(this.w), initialLosses: this.l0 ? Array.from(this.l0) : null };
  }

  setState(s: GradNormState): void {
    if (s.weights.length !== this.w.length) throw new DataError(`GradNorm state has ${s.weights.length} tasks, expected ${this.w.length}`);
    this.w.set(s.weights);
    this.l0 = s.initialLosses ? Float64Array.from(s.initialLosses) : null;
  }
}
