export { SimulatedAccount } from './account.js';
export type { FundingSeries, FundingPayment, IntrabarRule, IntrabarStats, SimulatedAccountOptions } from './account-types.js';
export {
  AccountConfigSchema,
  BacktestConfigSchema,
  SlippageSchema,
  parseAccountConfig,
  parseBacktestConfig,
} from './config.js';
export type { AccountConfig, AccountConfigInput, BacktestConfig, BacktestConfigInput, SlippageConfig } from './config.js';
export { slippageRate, marketFillPrice, liquidationPrice, bankruptcyPrice, roundQty } from './fill-model.js';
export { runBacktest, runSignalBacktest, simulateSignals, validateColumns, inferBarMs } from './engine.js';
export type { BacktestInputs, BacktestResult, Decider, SignalSimulation } from './engine.js';
export { computeMetrics } from './metrics.js';
export type { BacktestMetrics, MetricsInput } from './metrics.js';
export { monthlyReturns } from './monthly.js';
export type { MonthlyReturn } from './monthly.js';
export { walkForward, walkForwardFolds, WalkForwardScheduleSchema } from './walk-forward.js';
export type { Fold, FoldResult, FoldTrainer, WalkForwardResult, WalkForwardSchedule } from './walk-forward.js';
export { renderReportHtml } from './report-html.js';
export type { ReportOptions } from './report-html.js';
export { backtestReportJson, renderReportJson, describeIntrabar } from './report-json.js';
export type { BacktestReportJson } from './report-json.js';
export { SimulatedExchange } from './simulated-exchange.js';
export type { FillLog, TradeLog } from './fill-log.js';
export { lineChart, escapeXml } from './svg-chart.js';
export type { ChartSeries, ChartMarker, LineChartOptions } from './svg-chart.js';
export { PortfolioAccount } from './portfolio-account.js';
export { runPortfolioBacktest } from './portfolio-engine.js';
export type { PortfolioDecider, PortfolioBacktestResult } from './portfolio-engine.js';
