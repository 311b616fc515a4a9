export type { Candle, CandleColumns, CandleSeries, SymbolId } from './candle.js';
export { INTERVALS, INTERVAL_MS, isInterval, parseInterval, intervalMs, intervalFromMs, barsPerYear } from './interval.js';
export type { Interval } from './interval.js';
export {
  TaError,
  ConfigError,
  DataError,
  ArtifactError,
  isTaError,
  isConfigError,
  isDataError,
  isArtifactError,
  redactSecrets,
} from './errors.js';
export { REGIMES, DIRECTION_CLASSES, RISK_LEVELS, BUILTIN_TASK_IDS } from './task-outputs.js';
export type {
  Regime,
  DirectionClass,
  RiskLevel,
  DirectionOutput,
  VolatilityOutput,
  RegimeOutput,
  ReturnOutput,
  RiskOutput,
  AnomalyOutput,
  TimingOutput,
  TaskOutputs,
  BuiltinTaskId,
} from './task-outputs.js';
export { holdDecision } from './decision.js';
export type { TradeAction, TargetSide, TradingDecision, RiskVerdict } from './decision.js';
export { signedQty } from './trading.js';
export type {
  OrderSide,
  OrderType,
  PositionSide,
  OrderStatus,
  Liquidity,
  FillReason,
  OrderRequest,
  Order,
  Fill,
  Position,
  Balance,
  Trade,
} from './trading.js';
export type { Exchange, ClosedCandle, Unsubscribe } from './exchange.js';
export { allocColumns, toColumns, fromColumns, candleAt, sliceColumns, concatColumns, lowerBound } from './columnar.js';
export {
  CANDLE_CSV_HEADER,
  parseCandlesCsvRaw,
  parseCandlesCsv,
  readCandlesCsv,
  readCandlesCsvSync,
  formatCandlesCsv,
  formatDecimal,
  writeCandlesCsv,
} from './csv.js';
export type { ReadCandlesOptions } from './csv.js';
export { checkCandleSpacing, medianSpacingMs } from './spacing.js';
export { validateCandles, repairCandles, describeReport, CandleValidationError, DEFAULT_MAX_FILL_BARS } from './validate.js';
export type { CandleIssue, CandleIssueKind, ValidationReport, InvalidCandlePolicy, RepairResult, RepairOptions } from './validate.js';
export { Rng, createRng } from './rng.js';
export type { Seed } from './rng.js';
export { generateSyntheticMarket, DEFAULT_REGIME_PARAMS, SEPARATED_MARKET } from './synthetic.js';
export type { SyntheticMarket, SyntheticMarketOptions, RegimeParams } from './synthetic.js';
export { filterSyntheticRegimes } from './synthetic-oracle.js';
export type { RegimeFilterOptions, RegimeFilterResult } from './synthetic-oracle.js';
export {
  mean,
  variance,
  std,
  skewness,
  excessKurtosis,
  autocorrelation,
  correlation,
  quantile,
  quantileSorted,
  percentileRank,
  logReturns,
} from './stats.js';
export { ProgressBar, formatDuration } from './progress.js';
export type { ProgressOptions } from './progress.js';
export { configErrorFromZod, parseWithSchema, type ZodConfigErrorOptions } from './parse-config.js';
export { packageVersion } from './package-version.js';
export { normalCdf, normalQuantile, studentTCdf, studentTQuantile } from './distributions.js';
export {
  politisWhiteBlockLength,
  stationaryBootstrapIndices,
  bootstrapMean,
  bootstrapPairedMeanDifference,
  bootstrapStatistic,
  bootstrapPairedStatistic,
} from './bootstrap.js';
export type { BootstrapOptions, StatisticBootstrapOptions, BootstrapInterval, PairedBootstrapResult } from './bootstrap.js';
export {
  sharpeRatio,
  sharpeStandardErrorIid,
  sharpeStandardError,
  neweyWestLags,
  loEta,
  sharpeWithInterval,
  formatSharpe,
} from './sharpe.js';
export type { SharpeOptions, SharpeEstimate } from './sharpe.js';
export { sharpeMoments, probabilisticSharpeRatio, expectedMaxSharpe, deflatedSharpeRatio } from './deflated-sharpe.js';
export type { SharpeMoments, DeflatedSharpe } from './deflated-sharpe.js';
export { dieboldMariano } from './forecast-tests.js';
export type { DieboldMarianoOptions, DieboldMarianoResult } from './forecast-tests.js';
export { MIN_WINDOWS_TO_JUDGE, MIN_TRADES_TO_JUDGE, judgeDifference, formatInterval } from './verdict.js';
export type { VerdictKind, Verdict, DifferenceInterval, JudgeOptions } from './verdict.js';
