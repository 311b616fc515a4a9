import { DataError, barsPerYear as barsPerYearOf } from '@task-agnostic/core';
import type { CandleColumns, Fill, Interval, Position, Trade, TradingDecision } from '@task-agnostic/core';
import { SimulatedAccount } from './account.js';
import { badRow } from './rows.js';
import type { FundingPayment, FundingSeries, IntrabarStats } from './account-types.js';
import { accountPart, parseBacktestConfig } from './config.js';
import type { BacktestConfig, BacktestConfigInput } from './config.js';
import { computeMetrics } from './metrics.js';
import type { BacktestMetrics } from './metrics.js';
import { monthlyReturns } from './monthly.js';
import type { MonthlyReturn } from './monthly.js';

/** Data that is not configuration: funding rates and lower-timeframe candles for intrabar replay. */
export interface BacktestInputs {
  readonly funding?: FundingSeries;
  readonly lowerTimeframe?: CandleColumns;
}

/**
 * A strategy: sees bar t closed (and nothing after it), returns a target or null (no change).
 * `account` is the simulated account after bar t (equity, position, trades so far): what a risk
 * layer needs. Read it; do not drive it (the engine does).
 */
export type Decider = (t: number, account: SimulatedAccount) => TradingDecision | null;

export interface BacktestResult {
  readonly config: BacktestConfig;
  readonly symbol: string;
  readonly barsPerYear: number;
  readonly barMs: number;
  /** The candles the run covered (a view, not a copy). */
  readonly candles: CandleColumns;
  /** Account equity at each bar's close (after any fill at that close). */
  readonly equity: Float64Array;
  /** Buy and hold from the first bar's open, no costs, same initial equity. */
  readonly benchmark: Float64Array;
  readonly initialEquity: number;
  readonly trades: readonly Trade[];
  readonly fills: readonly Fill[];
  readonly fundingPayments: readonly FundingPayment[];
  readonly metrics: BacktestMetrics;
  readonly benchmarkMetrics: BacktestMetrics;
  readonly monthly: readonly MonthlyReturn[];
  readonly benchmarkMonthly: readonly MonthlyReturn[];
  /** Which rule ordered stop and take-profit inside one bar, and how often it had to. */
  readonly intrabar: IntrabarStats;
  readonly fillTiming: BacktestConfig['fillTiming'];
  readonly liquidations: number;
  readonly clippedTargets: number;
  /** The position left open at the end (closeAtEnd false), else undefined. */
  readonly openPosition: Position | undefined;
}

function checkLengths(c: CandleColumns, what: string): void {
  for (const k of ['tsMs', 'open', 'high', 'low', 'close'] as const) {
    if (c[k].length < c.length) throw new DataError(`${what}.${k} has ${c[k].length} rows, expected ${c.length}`);
  }
}

/**
 * Checks every row (positive low, open and close inside [low, high], finite, timestamps strictly
 * increasing); throws DataError naming the first bad row. The engine's loops make the same check
 * bar by bar as they go, so a run reads the candles once.
 */
export function validateColumns(c: CandleColumns, what = 'candles'): void {
  checkLengths(c, what);
  const { tsMs, open, high, low, close } = c;
  let prevTs = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const cl = close[i]!;
    const ts = tsMs[i]!;
    // NaN fails every comparison; h - h !== 0 catches Infinity.
    if (!(l > 0 && o >= l && cl >= l && o <= h && cl <= h && h - h === 0 && ts > prevTs && ts - ts === 0)) badRow(c, i, what);
    prevTs = ts;
  }
}

/** Bar length: the smallest gap between timestamps (gaps only make gaps larger). */
export function inferBarMs(c: CandleColumns): number {
  let best = Infinity;
  for (let i = 1; i < c.length; i++) {
    const d = c.tsMs[i]! - c.tsMs[i - 1]!;
    if (d < best) best = d;
  }
  return Number.isFinite(best) ? best : 0;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The annualisation factor: config barsPerYear, else the interval's, else from the bar length. */
export function resolveBarsPerYear(cfg: { interval?: Interval | undefined; barsPerYear?: number | undefined }, barMs: number): number {
  if (cfg.barsPerYear) return cfg.barsPerYear;
  if (cfg.interval) return barsPerYearOf(cfg.interval);
  if (!(barMs > 0)) throw new DataError('cannot infer bars per year from fewer than 2 candles: set config.interval or config.barsPerYear');
  return YEAR_MS / barMs;
}

/** @internal A prepared run: validated config, inputs and a fresh account. */
export interface Prepared {
  readonly cfg: BacktestConfig;
  readonly acct: SimulatedAccount;
  readonly barMs: number;
  readonly bpy: number;
}

/** @internal */
export function prepare(candles: CandleColumns, config: BacktestConfigInput | undefined, inputs: BacktestInputs): Prepared {
  const cfg = parseBacktestConfig(config ?? {});
  checkLengths(candles, 'candles');
  if (candles.length < 2) throw new DataError(`a backtest needs at least 2 candles, got ${candles.length}`);
  if (inputs.lowerTimeframe) validateColumns(inputs.lowerTimeframe, 'lowerTimeframe');
  // Rows are checked inside the loops; only the bar length needs the timestamps up front.
  const barMs = cfg.interval ? Math.round(YEAR_MS / barsPerYearOf(cfg.interval)) : inferBarMs(candles);
  if (!(barMs > 0)) {
    validateColumns(candles);
    throw new DataError('cannot infer the bar length from the timestamps: set config.interval');
  }
  if (inputs.lowerTimeframe && cfg.interval) {
    const gap = inferBarMs(candles);
    if (gap < barMs) throw new DataError(`config.interval is ${cfg.interval} but candles are ${gap} ms apart`);
  }
  const acct = new SimulatedAccount(accountPart(cfg), {
    ...(inputs.funding ? { funding: inputs.funding } : {}),
    ...(inputs.lowerTimeframe ? { lowerTimeframe: inputs.lowerTimeframe } : {}),
    barMs,
  });
  return { cfg, acct, barMs, bpy: resolveBarsPerYear(cfg, barMs) };
}


/**
 * @internal The loop: bar t goes to the account (fills at its open, stops inside it), then the
 * strategy decides at its close, then equity is recorded. Returns bars with a position at the close.
 */
export function runDecisionLoop(acct: SimulatedAccount, c: CandleColumns, start: number, end: number, decide: Decider, equity: Float64Array, eqOffset: number): number {
  const { tsMs, open, high, low, close } = c;
  let exposed = 0;
  let prevTs = start > 0 ? tsMs[start - 1]! : -Infinity;
  for (let t = start; t < end; t++) {
    const o = open[t]!;
    const h = high[t]!;
    const l = low[t]!;
    const cl = close[t]!;
    const ts = tsMs[t]!;
    if (!(l > 0 && o >= l && cl >= l && o <= h && cl <= h && h - h === 0 && ts > prevTs && ts - ts === 0)) badRow(c, t);
    prevTs = ts;
    acct.stepRow(c, t);
    const d = decide(t, acct);
    if (d !== null) acct.submitDecision(d);
    acct.writeEquity(equity, t - eqOffset);
    if (acct.hasPosition()) exposed++;
  }
  return exposed;
}

/** @internal The same loop with a precomputed signal: signal[t] = signed target fraction (NaN = no change). */
export function runSignalLoop(acct: SimulatedAccount, c: CandleColumns, signal: ArrayLike<number>, slPct: number, tpPct: number, equity: Float64Array): number {
  acct.setSignalLevels(slPct, tpPct);
  return acct.runSignalRows(c, signal, equity);
}

/**
 * Runs a strategy over candles. `decide(t)` is called after bar t closed and may read candles 0..t
 * only; its decision fills at bar t+1's open (default) or at bar t's close (fillTiming same_close).
 */
export function runBacktest(candles: CandleColumns, decide: Decider, config?: BacktestConfigInput, inputs: BacktestInputs = {}): BacktestResult {
  const p = prepare(candles, config, inputs);
  const equity = new Float64Array(candles.length);
  const exposed = runDecisionLoop(p.acct, candles, 0, candles.length, decide, equity, 0);
  return finish(p, candles, equity, exposed);
}

/**
 * The fast path: a precomputed signal (one value per bar: signed fraction of equity, + long,
 * - short, 0 flat, NaN keep) with the config's stopLossPct / takeProfitPct. Same account, same fills
 * as runBacktest with the equivalent decisions.
 */
export function runSignalBacktest(candles: CandleColumns, signal: ArrayLike<number>, config?: BacktestConfigInput, inputs: BacktestInputs = {}): BacktestResult {
  const sim = simulateSignals(candles, signal, config, inputs);
  return finish(sim.prepared, candles, sim.equity, sim.exposedBars);
}

/** The simulation alone (no metrics, benchmark or monthly table): for parameter sweeps. */
export interface SignalSimulation {
  readonly account: SimulatedAccount;
  /** Equity at each bar's close. */
  readonly equity: Float64Array;
  /** Bars that closed with a position open. */
  readonly exposedBars: number;
  /** @internal */
  readonly prepared: Prepared;
}

/**
 * Runs the precomputed signal through a fresh SimulatedAccount and returns the account and the
 * equity curve; runSignalBacktest adds metrics, buy-and-hold and monthly returns on top.
 * No closeAtEnd here: an open position stays open in `account`.
 */
export function simulateSignals(candles: CandleColumns, signal: ArrayLike<number>, config?: BacktestConfigInput, inputs: BacktestInputs = {}): SignalSimulation {
  if (signal.length !== candles.length) throw new DataError(`signal has ${signal.length} values for ${candles.length} candles`);
  const p = prepare(candles, config, inputs);
  const equity = new Float64Array(candles.length);
  const exposedBars = runSignalLoop(p.acct, candles, signal, p.cfg.stopLossPct, p.cfg.takeProfitPct, equity);
  return { account: p.acct, equity, exposedBars, prepared: p };
}

/** @internal Closes out (closeAtEnd) and computes metrics, benchmark and monthly returns. */
export function finish(p: Prepared, candles: CandleColumns, equity: Float64Array, exposedBars: number, initialEquity = p.cfg.initialEquity): BacktestResult {
  const { acct, cfg } = p;
  const n = candles.length;
  if (cfg.closeAtEnd && acct.positionQty !== 0) {
    acct.flatten('flatten');
    equity[n - 1] = acct.equity;
  }
  const benchmark = new Float64Array(n);
  const k = initialEquity / candles.open[0]!;
  const close = candles.close;
  for (let t = 0; t < n; t++) benchmark[t] = k * close[t]!;
  const metrics = computeMetrics({
    equity,
    initialEquity,
    barsPerYear: p.bpy,
    tradeColumns: { pnl: acct.tradeLog.pnl, returnPct: acct.tradeLog.returnPct },
    exposedBars,
    tradedNotional: acct.tradedNotional,
    feesPaid: acct.feesPaid,
    fundingPaid: acct.fundingPaid,
  });
  const benchmarkMetrics = computeMetrics({ equity: benchmark, initialEquity, barsPerYear: p.bpy, exposedBars: n });
  return {
    config: cfg,
    symbol: cfg.symbol,
    barsPerYear: p.bpy,
    barMs: p.barMs,
    candles,
    equity,
    benchmark,
    initialEquity,
    get trades(): readonly Trade[] {
      return acct.trades;
    },
    get fills(): readonly Fill[] {
      return acct.fills;
    },
    fundingPayments: acct.fundingPayments,
    metrics,
    benchmarkMetrics,
    monthly: monthlyReturns(candles.tsMs, equity, initialEquity),
    benchmarkMonthly: monthlyReturns(candles.tsMs, benchmark, initialEquity),
    intrabar: acct.intrabarStats(),
    fillTiming: cfg.fillTiming,
    liquidations: acct.liquidations,
    clippedTargets: acct.clippedTargets,
    openPosition: acct.position(),
  };
}
