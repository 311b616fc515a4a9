import { utcDayStart, utcWeekStart, type AccountState } from '@task-agnostic/risk';

/**
 * The risk gate's account view, kept incrementally from the equity at each candle close (the same
 * definitions as risk's accountStateFromEquityCurve): day start = the last equity before today's
 * 00:00 UTC, week high = the highest equity from the last point before Monday 00:00 UTC on,
 * peak = the highest equity so far.
 */
export class AccountTracker {
  private last = NaN;
  private lastTs = -Infinity;
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
    this.lastTs = tsMs;
  }

  get seen(): boolean {
    return !Number.isNaN(this.last);
  }

  state(): AccountState {
    return { equity: this.last, dayStartEquity: this.dayStart, weekHighEquity: this.weekHigh, peakEquity: this.peak };
  }
}
