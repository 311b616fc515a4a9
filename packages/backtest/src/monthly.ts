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
  let start = initialEquity;
  let key = -1;
  let year = 0;
  let month = 0;
  for (let t = 0; t < n; t++) {
    const d = new Date(tsMs[t]!);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + 1;
    const k = y * 12 + m;
    if (k !== key) {
      if (key !== -1) {
        const end = equity[t - 1]!;
        out.push({ year, month, startEquity: start, endEquity: end, return: end / start - 1 });
        start = end;
      }
      key = k;
      year = y;
      month = m;
    }
  }
  if (key !== -1) {
    const end = equity[n - 1]!;
    out.push({ year, month, startEquity: start, endEquity: end, return: end / start - 1 });
  }
  return out;
}
