import { ConfigError } from '@task-agnostic/core';
import type { TradingDecision } from '@task-agnostic/core';

/** Share of decisions in which the tasks agree (agreement >= threshold); NaN for none. */
export function consistencyScore(decisions: readonly Pick<TradingDecision, 'agreement'>[], threshold = 0.6): number {
  if (decisions.length === 0) return NaN;
  let k = 0;
  for (const d of decisions) if (d.agreement >= threshold) k++;
  return k / decisions.length;
}

/**
 * The consistency score over time (source metric "Consistency Score: how often task predictions
 * agree", target > 70%): a ring buffer of the last `window` decisions, O(1) per update, plus the
 * all-time share, for the backtest and the trader to report.
 */
export class ConsistencyTracker {
  readonly window: number;
  readonly threshold: number;
  private readonly ring: Uint8Array;
  private head = 0;
  private filled = 0;
  private inWindow = 0;
  private total = 0;
  private agreedTotal = 0;

  constructor(options: { window?: number; threshold?: number } = {}) {
    const window = options.window ?? 100;
    const threshold = options.threshold ?? 0.6;
    if (!Number.isInteger(window) || window < 1) throw new ConfigError(`must be an integer >= 1, got ${window}`, 'window');
    if (!(threshold >= 0 && threshold <= 1)) throw new ConfigError(`must be in [0, 1], got ${threshold}`, 'threshold');
    this.window = window;
    this.threshold = threshold;
    this.ring = new Uint8Array(window);
  }

  /** Records one decision's agreement (a number or the decision). */
  update(agreementOrDecision: number | Pick<TradingDecision, 'agreement'>): void {
    const a = typeof agreementOrDecision === 'number' ? agreementOrDecision : agreementOrDecision.agreement;
    const agreed = a >= this.threshold ? 1 : 0;
    if (this.filled === this.window) this.inWindow -= this.ring[this.head]!;
    else this.filled++;
    this.ring[this.head] = agreed;
    this.inWindow += agreed;
    this.head = (this.head + 1) % this.window;
    this.total++;
    this.agreedTotal += agreed;
  }

  /** Share agreeing over the last `window` decisions (NaN before the first). */
  get rolling(): number {
    return this.filled ? this.inWindow / this.filled : NaN;
  }

  /** Share agreeing over every decision seen. */
  get overall(): number {
    return this.total ? this.agreedTotal / this.total : NaN;
  }

  get count(): number {
    return this.total;
  }
}
