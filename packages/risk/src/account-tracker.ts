import type { AccountState } from './account.js';
import { utcDayStart, utcWeekStart } from './account.js';

/**
 * The risk gate's account view, kept incrementally from the equity at each candle close, with the
 * same definitions as accountStateFromEquityCurve: day start = the last equity before today's
 * 00:00 UTC, week high = the highest equity from the last point before Monday 00:00 UTC on,
 * peak = the highest equity so far. O(1) per update: what a live loop or a backtest decider needs.
 */
export class AccountTracker {
  private last = NaN;
  private dayStart = NaN;
  private day = -Infinity;
  private weekHigh = -Infinity;
  private week = -Infinity;
  private peak = -Infinity;

  /** Records the equity at time tsMs (non-decreasing times). */
  update(tsMs: number, equity: number): void {
    const day = utcDayStart(tsMs);
    const week = utcWeekStart(tsMs);
    if (day !== this.day) {
      // The equity in force when the day began: the last point before it, else this one.
      this.dayStart = Number.isNaN(this.last) ? equity : this.last;
      this.day = day;
    }
    if (week !== this.week) {
      this.weekHigh = Number.isNaN(this.last) ? equity : this.last;
      this.week = week;
    }
    if (equity > this.weekHigh) this.weekHigh = equity;
    if (equity > this.peak) this.peak = equity;
    this.last = equity;
  }

  /** True once update() has been called. */
  get seen(): boolean {
    return !Number.isNaN(this.last);
  }

  state(): AccountState {
    return { equity: this.last, dayStartEquity: this.dayStart, weekHighEquity: this.weekHigh, peakEquity: this.peak };
  }
}
