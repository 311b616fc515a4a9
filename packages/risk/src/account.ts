import { DataError } from '@task-agnostic/core';

const DAY_MS = 86_400_000;

/** Start (00:00 UTC) of the UTC day containing tsMs. */
export function utcDayStart(tsMs: number): number {
  return Math.floor(tsMs / DAY_MS) * DAY_MS;
}

/** 00:00 UTC of the next UTC day: when a daily-loss halt ends. */
export function nextUtcDay(tsMs: number): number {
  return utcDayStart(tsMs) + DAY_MS;
}

/** Start (Monday 00:00 UTC) of the ISO week containing tsMs. */
export function utcWeekStart(tsMs: number): number {
  const day = utcDayStart(tsMs);
  const dow = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - dow * DAY_MS;
}

/** What the account layer needs, as plain numbers in quote currency. */
export interface AccountState {
  readonly equity: number;
  /** Equity at the start of the current UTC day. */
  readonly dayStartEquity: number;
  /** Highest equity since the start of the current week (incl. the week's opening equity). */
  readonly weekHighEquity: number;
  /** Highest equity ever (for the drawdown kill switch and the Kelly brake); defaults to weekHighEquity. */
  readonly peakEquity?: number;
}

/**
 * AccountState from an equity curve (sorted timestamps), as of `nowMs` (default: the last point):
 * day start = the last equity before today's 00:00 UTC (else the first of today); week high = the
 * highest from the last point before Monday 00:00 UTC on; peak = the highest so far.
 */
export function accountStateFromEquityCurve(tsMs: ArrayLike<number>, equity: ArrayLike<number>, nowMs?: number): AccountState {
  const n = tsMs.length;
  if (n === 0 || equity.length !== n) throw new DataError(`equity curve needs matching non-empty tsMs and equity (got ${n} and ${equity.length})`);
  const now = nowMs ?? tsMs[n - 1]!;
  const day = utcDayStart(now);
  const week = utcWeekStart(now);
  let last = -1;
  let dayStart = NaN;
  let weekHigh = -Infinity;
  let peak = -Infinity;
  let prevTs = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = tsMs[i]!;
    const e = equity[i]!;
    if (!Number.isFinite(t) || !Number.isFinite(e)) throw new DataError(`equity curve point ${i} is not finite (ts ${t}, equity ${e})`);
    if (t < prevTs) throw new DataError(`equity curve timestamps must be sorted: point ${i} (${t}) is before ${prevTs}`);
    prevTs = t;
    if (t > now) continue; // still validate the rest
    last = i;
    if (e > peak) peak = e;
    if (t < day) dayStart = e;
    else if (Number.isNaN(dayStart)) dayStart = e;
    const nextT = i + 1 < n ? tsMs[i + 1]! : Infinity;
    // The point in force at the week start (the last before Monday) counts, and every one after.
    if (t >= week || nextT >= week) weekHigh = Math.max(weekHigh, e);
  }
  if (last < 0) throw new DataError(`equity curve starts after nowMs ${now}`);
  return { equity: equity[last]!, dayStartEquity: dayStart, weekHighEquity: weekHigh, peakEquity: peak };
}
