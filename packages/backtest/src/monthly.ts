/** One calendar month (UTC) of an equity series. */
export interface MonthlyReturn {
  readonly year: number;
  /** 1-12. */
  readonly month: number;
  /** Equity at the last close of the previous month (the initial equity for the first month). */
  readonly startEquity: number;
  /** Equity at the month's last close. */
  readonly endEquity: number;
  /** endEquity / startEquity - 1. */
  readonly return: number;
}

/** Groups an equity series by the UTC month of each bar's open time. */
export function monthlyReturns(tsMs: ArrayLike<number>, equity: ArrayLike<number>, initialEquity: number): MonthlyReturn[] {
  const out: MonthlyReturn[] = [];
  const n = Math.min(tsMs.length, equity.length);
  if (n === 0) return out;
  let start = initialEquity;
  let d = new Date(tsMs[0]!);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  // A Date only at month changes: the loop compares against the next month's first millisecond.
  let monthEnd = Date.UTC(year, month, 1);
  for (let t = 1; t < n; t++) {
    const ts = tsMs[t]!;
    if (ts < monthEnd) continue;
    const end = equity[t - 1]!;
    out.push({ year, month, startEquity: start, endEquity: end, return: end / start - 1 });
    start = end;
    d = new Date(ts);
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    monthEnd = Date.UTC(year, month, 1);
  }
  const end = equity[n - 1]!;
  out.push({ year, month, startEquity: start, endEquity: end, return: end / start - 1 });
  return out;
}
