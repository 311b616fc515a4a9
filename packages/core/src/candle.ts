/**
 * One OHLCV bar. `tsMs` is the bar's OPEN time (UTC, ms since epoch), as in Bybit's kline API and
 * the CSV files. `turnover` is quote volume where the source has it.
 */
export interface Candle {
  readonly tsMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly turnover?: number;
}

/**
 * Columnar candles: one Float64Array per field, for hot loops. `turnover` holds NaN where absent.
 * All arrays have length `length`.
 */
export interface CandleColumns {
  readonly length: number;
  readonly tsMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly turnover: Float64Array;
}

/** A symbol identifier as the exchange spells it, e.g. 'BTCUSDT'. */
export type SymbolId = string;

/** A candle series of one symbol at one interval. */
export interface CandleSeries {
  readonly symbol: SymbolId;
  readonly interval: import('./interval.js').Interval;
  readonly candles: CandleColumns;
}
