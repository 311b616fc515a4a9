import type { Trade } from '@task-agnostic/core';

export interface MetricsInput {
  /** Equity at each bar's close. */
  readonly equity: ArrayLike<number>;
  /** Equity before the first bar (the base of the first bar's return). */
  readonly initialEquity: number;
  /** Annualisation factor (bars in 365 days). */
  readonly barsPerYear: number;
  readonly trades?: readonly Trade[];
  /** Trade pnl and returnPct as columns (used instead of `trades` when given; no objects needed). */
  readonly tradeColumns?: { readonly pnl: ArrayLike<number>; readonly returnPct: ArrayLike<number> };
  /** Bars that ended with a position open. */
  readonly exposedBars?: number;
  /** Sum of |qty x price| over all fills. */
  readonly tradedNotional?: number;
  readonly feesPaid?: number;
  readonly fundingPaid?: number;
}

/**
 * Performance figures. Ratios whose denominator is zero: Sharpe 0; Sortino, Calmar and profit factor
 * +Infinity when the numerator is positive, else 0 (written as null in JSON).
 */
export interface BacktestMetrics {
  readonly bars: number;
  readonly finalEquity: number;
  /** finalEquity / initialEquity - 1. */
  readonly totalReturn: number;
  /** (1 + totalReturn)^(barsPerYear / bars) - 1. */
  readonly annualizedReturn: number;
  /** Sample std of per-bar returns x sqrt(barsPerYear). */
  readonly annualizedVolatility: number;
  /** mean(r) / std(r) x sqrt(barsPerYear), per-bar simple returns, risk-free rate 0, sample std (n - 1). */
  readonly sharpe: number;
  /** mean(r) / sqrt(sum(min(r, 0)^2) / n) x sqrt(barsPerYear) (target return 0). */
  readonly sortino: number;
  /** Largest fall from a running peak (initial equity included), as a fraction (0.2 = 20%). */
  readonly maxDrawdown: number;
  /** Longest run of consecutive bars closing below the running peak. */
  readonly maxDrawdownDurationBars: number;
  /** annualizedReturn / maxDrawdown. */
  readonly calmar: number;
  readonly trades: number;
  /** Share of trades with pnl > 0. */
  readonly winRate: number;
  /** Gross profit / gross loss over trades. */
  readonly profitFactor: number;
  /** Mean net pnl per trade (quote). */
  readonly averageTradePnl: number;
  /** Mean trade returnPct (pnl / entry notional). */
  readonly averageTradeReturn: number;
  /** Share of bars that closed with a position open. */
  readonly exposure: number;
  /** Traded notional / mean equity. */
  readonly turnover: number;
  readonly feesPaid: number;
  /** Funding paid (negative = received). */
  readonly fundingPaid: number;
}

function safeRatio(num: number, den: number): number {
  if (den > 0) return num / den;
  return num > 0 ? Infinity : 0;
}

/** Computes every metric in one pass over the equity series plus one over the trades. */
export function computeMetrics(input: MetricsInput): BacktestMetrics {
  const { equity, initialEquity, barsPerYear } = input;
  const n = equity.length;
  let prev = initialEquity;
  // Sums shifted by the first return keep the one-pass variance accurate for small returns.
  const shift = n > 0 && initialEquity > 0 ? equity[0]! / initialEquity - 1 : 0;
  let sum = 0;
  let sumD = 0;
  let sumD2 = 0;
  let downSq = 0;
  let peak = initialEquity;
  let floor = initialEquity; // peak x (1 - maxDd): a new maximum drawdown needs a close below it
  let maxDd = 0;
  let run = 0;
  let maxRun = 0;
  let eqSum = 0;
  for (let t = 0; t < n; t++) {
    const e = equity[t]!;
    const r = prev > 0 ? e / prev - 1 : 0;
    prev = e;
    sum += r;
    const d = r - shift;
    sumD += d;
    sumD2 += d * d;
    if (r < 0) downSq += r * r;
    if (e >= peak) {
      peak = e;
      floor = peak * (1 - maxDd);
      run = 0;
    } else {
      run++;
      if (run > maxRun) maxRun = run;
      if (e < floor) {
        maxDd = 1 - e / peak;
        floor = e;
      }
    }
    eqSum += e;
  }
  const m2 = n > 0 ? Math.max(0, sumD2 - (sumD * sumD) / n) : 0;
  const finalEquity = n > 0 ? equity[n - 1]! : initialEquity;
  const totalReturn = finalEquity / initialEquity - 1;
  const annualizedReturn = n > 0 ? (finalEquity > 0 ? Math.pow(finalEquity / initialEquity, barsPerYear / n) - 1 : -1) : 0;
  const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
  const meanR = n > 0 ? sum / n : 0;
  const ann = Math.sqrt(barsPerYear);
  const downside = n > 0 ? Math.sqrt(downSq / n) : 0;

  const cols = input.tradeColumns ?? {
    pnl: (input.trades ?? []).map((t) => t.pnl),
    returnPct: (input.trades ?? []).map((t) => t.returnPct),
  };
  let wins = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let pnlSum = 0;
  let retSum = 0;
  const nt = cols.pnl.length;
  for (let i = 0; i < nt; i++) {
    const pnl = cols.pnl[i]!;
    pnlSum += pnl;
    retSum += cols.returnPct[i]!;
    if (pnl > 0) {
      wins++;
      grossProfit += pnl;
    } else if (pnl < 0) grossLoss -= pnl;
  }
  const meanEquity = n > 0 ? eqSum / n : initialEquity;
  return {
    bars: n,
    finalEquity,
    totalReturn,
    annualizedReturn,
    annualizedVolatility: sd * ann,
    sharpe: sd > 0 ? (meanR / sd) * ann : 0,
    sortino: downside > 0 ? (meanR / downside) * ann : meanR > 0 ? Infinity : 0,
    maxDrawdown: maxDd,
    maxDrawdownDurationBars: maxRun,
    calmar: safeRatio(annualizedReturn, maxDd),
    trades: nt,
    winRate: nt > 0 ? wins / nt : 0,
    profitFactor: nt > 0 ? safeRatio(grossProfit, grossLoss) : 0,
    averageTradePnl: nt > 0 ? pnlSum / nt : 0,
    averageTradeReturn: nt > 0 ? retSum / nt : 0,
    exposure: n > 0 ? (input.exposedBars ?? 0) / n : 0,
    turnover: meanEquity > 0 ? (input.tradedNotional ?? 0) / meanEquity : 0,
    feesPaid: input.feesPaid ?? 0,
    fundingPaid: input.fundingPaid ?? 0,
  };
}
