/**
 * Learning-rate schedules: linear warm-up, then cosine decay, reduce-on-plateau or constant.
 * Plain state, serialisable for checkpoints.
 */
import type { ScheduleConfig } from './config.js';

export interface ScheduleState {
  readonly plateauLr: number;
  readonly plateauBest: number;
  readonly plateauBad: number;
}

export class LrSchedule {
  private plateauLr: number;
  private plateauBest = Number.POSITIVE_INFINITY;
  private plateauBad = 0;

  constructor(
    readonly config: ScheduleConfig,
    readonly baseLr: number,
    readonly totalSteps: number,
  ) {
    this.plateauLr = baseLr;
  }

  /** The learning rate of optimiser step `step` (0-based). */
  lrAt(step: number): number {
    const warm = this.config.warmupSteps;
    const peak = this.config.type === 'plateau' ? this.plateauLr : this.baseLr;
    if (warm > 0 && step < warm) return (peak * (step + 1)) / warm;
    if (this.config.type === 'cosine') {
      const span = Math.max(1, this.totalSteps - warm);
      const progress = Math.min(1, Math.max(0, (step - warm) / span));
      const min = this.baseLr * this.config.minLrRatio;
      return min + 0.5 * (this.baseLr - min) * (1 + Math.cos(Math.PI * progress));
    }
    return peak;
  }

  /** Reduce-on-plateau bookkeeping at the end of an epoch. Returns true when the rate was cut. */
  onEpochEnd(valLoss: number): boolean {
    if (this.config.type !== 'plateau') return false;
    if (valLoss < this.plateauBest) {
      this.plateauBest = valLoss;
      this.plateauBad = 0;
      return false;
    }
    this.plateauBad++;
    if (this.plateauBad > this.config.patience) {
      this.plateauLr = Math.max(this.config.minLr, this.plateauLr * this.config.factor);
      this.plateauBad = 0;
      return true;
    }
    return false;
  }

  getState(): ScheduleState {
    return { plateauLr: this.plateauLr, plateauBest: this.plateauBest, plateauBad: this.plateauBad };
  }

  setState(s: ScheduleState): void {
    this.plateauLr = s.plateauLr;
    this.plateauBest = s.plateauBest ?? Number.POSITIVE_INFINITY;
    this.plateauBad = s.plateauBad;
  }
}
