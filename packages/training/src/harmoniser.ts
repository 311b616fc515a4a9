/**
 * One object per training run that turns per-task losses (and, for GradNorm, per-task gradient
 * norms) into task weights, chosen by name. PCGrad weights every task 1 and instead changes how
 * the per-task gradients are combined (see pcgrad.ts and step.ts).
 */
import { ConfigError } from '@task-agnostic/core';
import { GradNorm, type GradNormState } from './gradnorm.js';
import { UncertaintyWeighting, type UncertaintyState } from './uncertainty.js';
import { equalWeights, lossRatioWeights } from './weighting.js';

export const HARMONISER_NAMES = ['equal', 'loss-ratio', 'uncertainty', 'gradnorm', 'pcgrad'] as const;
export type HarmoniserName = (typeof HARMONISER_NAMES)[number];

export interface HarmoniserOptions {
  readonly name: HarmoniserName;
  /** GradNorm's asymmetry alpha (default 1.5, Chen et al. 2018). */
  readonly alpha?: number;
  /** Step size of the harmoniser's own parameters (GradNorm w_i, uncertainty s_i). */
  readonly learningRate?: number;
  /** Clamp of the uncertainty log-variances s_i. */
  readonly sMin?: number;
  readonly sMax?: number;
}

export type HarmoniserState =
  | { readonly name: 'gradnorm'; readonly gradnorm: GradNormState }
  | { readonly name: 'uncertainty'; readonly uncertainty: UncertaintyState }
  | { readonly name: 'equal' | 'loss-ratio' | 'pcgrad' };

export class Harmoniser {
  readonly name: HarmoniserName;
  private readonly gradnorm: GradNorm | null;
  private readonly uncertainty: UncertaintyWeighting | null;
  private last: number[];
  /** Fixed per-task multipliers on top of the harmoniser (curriculum phase weights); 1 by default. */
  readonly scale: readonly number[];

  constructor(options: HarmoniserOptions, kinds: readonly ('classification' | 'regression')[], scale?: readonly number[]) {
    if (scale && (scale.length !== kinds.length || scale.some((x) => !(x >= 0)))) {
      throw new ConfigError(`task weight scale must hold ${kinds.length} non-negative numbers`, 'taskWeights');
    }
    this.scale = scale ? [...scale] : kinds.map(() => 1);
    if (!HARMONISER_NAMES.includes(options.name)) {
      throw new ConfigError(`unknown harmoniser '${String(options.name)}': expected one of ${HARMONISER_NAMES.join(', ')}`, 'harmoniser.name');
    }
    this.name = options.name;
    this.gradnorm =
      options.name === 'gradnorm'
        ? new GradNorm({ tasks: kinds.length, alpha: options.alpha, learningRate: options.learningRate })
        : null;
    this.uncertainty =
      options.name === 'uncertainty'
        ? new UncertaintyWeighting({ kinds, learningRate: options.learningRate, sMin: options.sMin, sMax: options.sMax })
        : null;
    this.last = kinds.map(() => 1);
  }

  /** PCGrad combines per-task gradients instead of weighting losses. */
  get projectsGradients(): boolean {
    return this.name === 'pcgrad';
  }

  /** GradNorm needs the gradient norm of every task loss on the shared layer. */
  get needsGradNorms(): boolean {
    return this.name === 'gradnorm';
  }

  /**
   * Whether `weights(losses)` depends on the loss values passed (loss-ratio); the others depend
   * only on their state (equal weights, uncertainty's s_i, GradNorm's w_i).
   */
  get weightsUseLosses(): boolean {
    return this.name === 'loss-ratio';
  }

  /** Task weights for this step, from this step's loss values. */
  weights(losses: readonly number[]): number[] {
    let w: number[];
    switch (this.name) {
      case 'equal':
      case 'pcgrad':
        w = equalWeights(losses);
        break;
      case 'loss-ratio':
        w = lossRatioWeights(losses);
        break;
      case 'uncertainty':
        w = this.uncertainty!.weights();
        break;
      case 'gradnorm':
        w = this.gradnorm!.weights();
        break;
    }
    w = w.map((x, i) => x * this.scale[i]!);
    this.last = w;
    return w;
  }

  /** Updates learned weights after a step (uncertainty s_i, GradNorm w_i). */
  afterStep(losses: readonly number[], gradNorms: readonly number[] | null): void {
    if (this.uncertainty) this.uncertainty.update(losses);
    if (this.gradnorm) {
      if (!gradNorms) throw new ConfigError('GradNorm needs per-task gradient norms each step', 'harmoniser.name');
      this.gradnorm.update(losses, gradNorms);
    }
  }

  /** The weights used by the last step (logged per epoch). */
  lastWeights(): number[] {
    return [...this.last];
  }

  /** Extra numbers worth logging (uncertainty s_i). */
  diagnostics(): Record<string, number[]> {
    return this.uncertainty ? { logVariances: this.uncertainty.logVariances } : {};
  }

  getState(): HarmoniserState {
    if (this.gradnorm) return { name: 'gradnorm', gradnorm: this.gradnorm.getState() };
    if (this.uncertainty) return { name: 'uncertainty', uncertainty: this.uncertainty.getState() };
    return { name: this.name as 'equal' | 'loss-ratio' | 'pcgrad' };
  }

  setState(state: HarmoniserState): void {
    if (state.name !== this.name) throw new ConfigError(`checkpoint was made with harmoniser '${state.name}', this run uses '${this.name}'`, 'harmoniser.name');
    if (state.name === 'gradnorm') this.gradnorm!.setState(state.gradnorm);
    if (state.name === 'uncertainty') this.uncertainty!.setState(state.uncertainty);
  }
}
