import { DataError, barsPerYear as barsPerYearOf } from '@task-agnostic/core';
import type { CandleColumns, Fill, SymbolId, Trade, TradingDecision } from '@task-agnostic/core';
import { accountPart, parseBacktestConfig } from './config.js';
import type { BacktestConfig, BacktestConfigInput } from './config.js';
import { inferBarMs, resolveBarsPerYear, validateColumns } from './engine.js';
import { computeMetrics } from './metrics.js';
import type { BacktestMetrics } from './metrics.js';
import { PortfolioAccount } from './portfolio-account.js';

/**
 * A portfolio strategy: called after bar t of `symbol` closed (symbols in portfolio order; the
 * symbols before it in that order have bar t too), returns a target for that symbol or null. Read
 * `portfolio` (equity, positions, trades); do not drive it.
 */
export type PortfolioDecider = (t: number, symbol: SymbolId, portfolio: PortfolioAccount) => TradingDecision | null;

export interface PortfolioBacktestResult {
  readonly config: BacktestConfig;
  readonly symbols: readonly SymbolId[];
  readonly barsPerYear: number;
  readonly tsMs: ArrayLike<number>;
  /** Portfolio equity at each step's close. */
  readonly equity: Float64Array;
  readonly initialEquity: number;
  readonly trades: readonly Trade[];
  readonly fills: readonly Fill[];
  readonly bySymbol: Readonly<Record<SymbolId, { readonly trades: readonly Trade[]; readonly fills: readonly Fill[] }>>;
  readonly metrics: BacktestMetrics;
  readonly account: PortfolioAccount;
}

/**
 * Several symbols through one account (PortfolioAccount) and one strategy: at each step t,
 * beginStep(), then for each symbol in order its bar t and its decision. The series must share
 * their timestamps row for row (a DataError names the first symbol and row that do not).
 */
export function runPortfolioBacktest(series: Readonly<Record<SymbolId, CandleColumns>>, decide: PortfolioDecider, config?: BacktestConfigInput, order?: readonly SymbolId[]): PortfolioBacktestResult {
  const cfg = parseBacktestConfig(config ?? {});
  const symbols = order ?? Object.keys(series);
  if (symbols.length === 0) throw new DataError('a portfolio backtest needs at least one series');
  const cols = symbols.map((s) => {
    const c = series[s];
    if (!c) throw new DataError(`no candles for ${s}`);
    validateColumns(c, s);
    return c;
  });
  const first = cols[0]!;
  const n = first.length;
  if (n < 2) throw new DataError(`a backtest needs at least 2 candles, got ${n}`);
  cols.forEach((c, k) => {
    if (c.length !== n) throw new DataError(`${symbols[k]} has ${c.length} candles, ${symbols[0]} has ${n}: align the series first`);
    for (let i = 0; i < n; i++) {
      if (c.tsMs[i] !== first.tsMs[i]) throw new DataError(`${symbols[k]} row ${i} is at ${c.tsMs[i]}, ${symbols[0]} at ${first.tsMs[i]}: align the series first`);
    }
  });
  const barMs = cfg.interval ? Math.round((365 * 24 * 3600 * 1000) / barsPerYearOf(cfg.interval)) : inferBarMs(first);
  const pf = new PortfolioAccount(symbols, accountPart(cfg), { barMs });
  const accts = symbols.map((s) => pf.account(s));
  const equity = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    pf.beginStep();
    for (let k = 0; k < symbols.length; k++) {
      const a = accts[k]!;
      a.stepRow(cols[k]!, t);
      const d = decide(t, symbols[k]!, pf);
      if (d !== null) a.submitDecision(d);
    }
    equity[t] = pf.equity;
  }
  if (cfg.closeAtEnd) {
    for (const a of accts) a.flatten('flatten');
    equity[n - 1] = pf.equity;
  }
  const trades = pf.trades;
  const bySymbol: Record<SymbolId, { trades: Trade[]; fills: Fill[] }> = {};
  for (const s of symbols) bySymbol[s] = { trades: pf.account(s).trades, fills: pf.account(s).fills };
  const bpy = resolveBarsPerYear(cfg, barMs);
  const metrics = computeMetrics({ equity, initialEquity: cfg.initialEquity, barsPerYear: bpy, trades, feesPaid: pf.feesPaid });
  return { config: cfg, symbols, barsPerYear: bpy, tsMs: first.tsMs, equity, initialEquity: cfg.initialEquity, trades, fills: pf.fills, bySymbol, metrics, account: pf };
}
