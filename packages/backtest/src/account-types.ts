import type { CandleColumns } from '@task-agnostic/core';

/** Funding rates of a perpetual: a payment of qty x price x rate at each tsMs (long pays when rate > 0). */
export interface FundingSeries {
  readonly tsMs: ArrayLike<number>;
  readonly rate: ArrayLike<number>;
}

export interface FundingPayment {
  readonly tsMs: number;
  readonly rate: number;
  readonly price: number;
  /** Signed position size the payment was charged on. */
  readonly qty: number;
  /** Quote paid (negative = received). */
  readonly payment: number;
}

/** Which rule decided bars where both the adverse level (stop or liquidation) and the take-profit were touched. */
export type IntrabarRule = 'worst_case' | 'lower_timeframe';

export interface IntrabarStats {
  readonly rule: IntrabarRule;
  /** Bars in which both the adverse level and the take-profit were inside the bar's range. */
  readonly ambiguousBars: number;
  /** ... of which the lower-timeframe candles decided the order of events. */
  readonly resolvedByLowerTimeframe: number;
  /** ... of which the adverse event was assumed first (no lower-timeframe candles, or they did not cover the bar). */
  readonly resolvedWorstCase: number;
  /** Lower-timeframe candles that were themselves ambiguous (adverse assumed first inside them). */
  readonly ambiguousLowerTimeframeCandles: number;
}

export interface SimulatedAccountOptions {
  /** Funding rates, sorted by time; each is charged at the first bar whose open time is >= its tsMs. */
  readonly funding?: FundingSeries;
  /** Lower-timeframe candles replayed to order stop and take-profit inside an ambiguous bar. */
  readonly lowerTimeframe?: CandleColumns;
  /** Length of one bar in ms (needed to find a bar's lower-timeframe candles; else inferred from timestamps). */
  readonly barMs?: number;
}
