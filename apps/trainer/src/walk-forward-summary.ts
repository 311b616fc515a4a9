/**
 * The walk-forward's result from its fold records: per task and symbol the pooled out-of-sample
 * windows against the folds' best naive baselines; per symbol, per fold and stitched, the model's
 * strategy beside buy-and-hold, vol-targeted buy-and-hold and time-series momentum, each Sharpe
 * ratio with its 95% interval (Lo 2002) and trades, the model's Sharpe minus each naive one with a
 * paired stationary-bootstrap 95% interval on the same bars and a verdict, and the model's Sharpe
 * deflated for the threshold candidates its folds tried.
 */
import { barsPerYear } from '@task-agnostic/core';
import { getTask, type Task } from '@task-agnostic/heads';
import type { TrainerConfig } from './config.js';
import { deflateStitched, type DeflatedSharpeReport } from './deflation.js';
import { fmt, textTable, isoMinute as iso } from './format.js';
import { compareOnWindows, compareSharpe, fmtInterval, sharpeReport, type SharpeDifference, type SharpeReport, type WindowComparison } from './intervals.js';
import type { FoldRecord, FoldStrategy } from './walk-forward-fold.js';
import { MODEL_STRATEGY } from './strategies.js';
import type { Log } from './train-run.js';

export type Retrain = 'expanding' | 'rolling';

/** One strategy over a stretch of bars (a fold's test period, or all of them chained). */
export interface StrategySummary {
  readonly name: string;
  readonly description: string;
  readonly trades: number;
  readonly totalReturn: number;
  readonly maxDrawdown: number;
  readonly sharpe: SharpeReport;
}

/** The model's Sharpe minus a naive strategy's, paired on the same bars. */
export interface VsNaive {
  readonly name: string;
  readonly diff: SharpeDifference;
}

export interface BacktestBlock {
  readonly bars: number;
  /** The model's strategy first, then the naive strategies. */
  readonly strategies: readonly StrategySummary[];
  readonly vsNaive: readonly VsNaive[];
  /** The model's Sharpe deflated for the threshold candidates tried on validation. */
  readonly deflated: DeflatedSharpeReport;
}

export interface SymbolWalkForward extends BacktestBlock {
  readonly symbol: string;
  /** The model's strategy against buy-and-hold (the first naive strategy), stitched. */
  readonly trades: number;
  readonly totalReturn: number;
  readonly benchmarkReturn: number;
  readonly sharpe: SharpeReport;
  readonly benchmarkSharpe: SharpeReport;
  readonly vsBenchmark: SharpeDifference;
  readonly perFold: readonly (BacktestBlock & { readonly index: number; readonly test: string })[];
  /** The stitched equity of every strategy from 1 (at most ~1,500 points), for charts. */
  readonly equity: { readonly tsMs: readonly number[]; readonly series: readonly { readonly name: string; readonly values: readonly number[] }[] };
}

export interface WalkForwardSummary {
  readonly folds: number;
  readonly retrain: Retrain;
  readonly testLength: string;
  /** Per task and symbol: pooled out-of-sample model vs best baseline with intervals. */
  readonly tasks: { task: string; symbol: string; comparison: WindowComparison | null }[];
  /** Per symbol: the stitched out-of-sample backtests, and per fold. */
  readonly backtests: readonly SymbolWalkForward[];
  readonly perFold: { index: number; test: string; trainSeconds: number; wallSeconds: number; cpuSeconds: number; thresholds: string; returns: Record<string, number> }[];
  readonly trainSecondsTotal: number;
  readonly wallSecondsTotal: number;
  readonly cpuSecondsTotal: number;
}

/** Compounded return and maximum drawdown of a series of per-bar returns. */
export function growth(returns: ArrayLike<number>): { totalReturn: number; maxDrawdown: number } {
  let e = 1;
  let peak = 1;
  let dd = 0;
  for (let i = 0; i < returns.length; i++) {
    e *= 1 + returns[i]!;
    if (e > peak) peak = e;
    else if (peak > 0) dd = Math.max(dd, 1 - e / peak);
  }
  return { totalReturn: e - 1, maxDrawdown: dd };
}

function block(parts: readonly { strategies: readonly FoldStrategy[]; trials: { count: number; sharpeVariance: number } }[], bpy: number, seed: number): BacktestBlock {
  const names = parts[0]!.strategies.map((s) => s.name).filter((n) => parts.every((p) => p.strategies.some((s) => s.name === n)));
  const series = (name: string): { r: Float64Array; trades: number; description: string } => {
    const own = parts.map((p) => p.strategies.find((s) => s.name === name)!);
    return { r: Float64Array.from(own.flatMap((s) => s.returns)), trades: own.reduce((a, s) => a + s.trades, 0), description: own[0]!.description };
  };
  const model = series(MODEL_STRATEGY);
  const strategies = names.map((name): StrategySummary => {
    const s = name === MODEL_STRATEGY ? model : series(name);
    return { name, description: s.description, trades: s.trades, ...growth(s.r), sharpe: sharpeReport(s.r, bpy, s.trades) };
  });
  const vsNaive = names
    .filter((n) => n !== MODEL_STRATEGY)
    .map((name, i) => ({ name, diff: compareSharpe(model.r, series(name).r, bpy, model.trades, seed + i) }));
  const deflated = deflateStitched(
    parts.map((p) => ({ returns: p.strategies.find((s) => s.name === MODEL_STRATEGY)!.returns, trials: p.trials })),
    bpy,
    model.trades,
  );
  return { bars: model.r.length, strategies, vsNaive, deflated };
}

function stitchedEquity(parts: readonly { tsMs: readonly number[]; strategies: readonly FoldStrategy[] }[], names: readonly string[], max = 1500): SymbolWalkForward['equity'] {
  const ts = parts.flatMap((p) => p.tsMs);
  const step = Math.max(1, Math.ceil(ts.length / max));
  const keep = (i: number): boolean => i % step === 0 || i === ts.length - 1;
  const series = names.map((name) => {
    const r = parts.flatMap((p) => p.strategies.find((s) => s.name === name)?.returns ?? p.tsMs.map(() => 0));
    const values: number[] = [];
    let e = 1;
    r.forEach((x, i) => {
      e *= 1 + x;
      if (keep(i)) values.push(e);
    });
    return { name, values };
  });
  return { tsMs: ts.filter((_, i) => keep(i)), series };
}

/** Pools the folds: per task and symbol the stitched windows, per symbol the stitched and per-fold backtests. */
export function summarise(cfg: TrainerConfig, records: readonly FoldRecord[], o: { folds: number; retrain: Retrain; testLength: { text: string } }): WalkForwardSummary {
  const bpy = barsPerYear(cfg.data.interval);
  const tasks: WalkForwardSummary['tasks'] = [];
  const taskIds = [...new Set(records.flatMap((r) => Object.keys(r.windows)))];
  for (const id of taskIds) {
    const symbols = [...new Set(records.flatMap((r) => Object.keys(r.windows[id] ?? {})))];
    for (const sym of symbols) {
      const parts = records.map((r) => r.windows[id]?.[sym]).filter((x): x is NonNullable<typeof x> => !!x);
      const ev = records.flatMap((r) => r.evaluations.filter((e) => e.symbol === sym).flatMap((e) => e.tasks.filter((t) => t.task === id)))[0];
      const spec = cfg.model.tasks.find((t) => (typeof t === 'string' ? t : t.id) === id);
      if (!ev || !spec) continue;
      const task: Task = getTask(id, typeof spec === 'string' ? undefined : spec.config);
      const cat = (k: 'outputs' | 'baseline' | 'targets'): Float32Array => Float32Array.from(parts.flatMap((p) => p[k]));
      const n = parts.reduce((a, p) => a + p.n, 0);
      tasks.push({ task: id, symbol: sym, comparison: n ? compareOnWindows(task, ev.metric, ev.higherIsBetter, cat('outputs'), cat('baseline'), cat('targets'), n, { seed: cfg.seed }) : null });
    }
  }
  const symbols = [...new Set(records.flatMap((r) => r.backtests.map((b) => b.symbol)))];
  const backtests = symbols.map((sym): SymbolWalkForward => {
    const folds = records.flatMap((r) => r.backtests.filter((b) => b.symbol === sym).map((b) => ({ ...b, index: r.fold.index, fold: r.fold })));
    const stitched = block(folds, bpy, cfg.seed);
    const model = stitched.strategies[0]!;
    const bh = stitched.strategies.find((s) => s.name === 'buy-and-hold') ?? stitched.strategies[1] ?? model;
    const vsBh = stitched.vsNaive.find((v) => v.name === bh.name)?.diff ?? stitched.vsNaive[0]!.diff;
    return {
      symbol: sym,
      ...stitched,
      trades: model.trades,
      totalReturn: model.totalReturn,
      benchmarkReturn: bh.totalReturn,
      sharpe: model.sharpe,
      benchmarkSharpe: bh.sharpe,
      vsBenchmark: vsBh,
      perFold: folds.map((f) => ({ index: f.index, test: `${iso(f.fold.testStartMs)} .. ${iso(f.fold.testEndMs)}`, ...block([f], bpy, cfg.seed + 100 * (f.index + 1)) })),
      equity: stitchedEquity(folds, stitched.strategies.map((s) => s.name)),
    };
  });
  return {
    folds: o.folds,
    retrain: o.retrain,
    testLength: o.testLength.text,
    tasks,
    backtests,
    perFold: records.map((r) => ({
      index: r.fold.index,
      test: `${iso(r.fold.testStartMs)} .. ${iso(r.fold.testEndMs)}`,
      trainSeconds: r.trainSeconds,
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      thresholds: r.thresholds,
      returns: Object.fromEntries(r.backtests.map((b) => [b.symbol, b.strategies.find((s) => s.name === MODEL_STRATEGY)?.totalReturn ?? NaN])),
    })),
    trainSecondsTotal: records.reduce((a, r) => a + r.trainSeconds, 0),
    wallSecondsTotal: records.reduce((a, r) => a + r.wallSeconds, 0),
    cpuSecondsTotal: records.reduce((a, r) => a + r.cpuSeconds, 0),
  };
}

const sharpeCell = (s: SharpeReport): string => `${fmt(s.sharpe, 2)} [${fmt(s.lo, 2)}, ${fmt(s.hi, 2)}]`;
const pctCell = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '-');

/** Rows of the backtest table: every strategy, and the model's Sharpe minus its Sharpe with the verdict. */
export function blockRows(label: string, b: BacktestBlock): string[][] {
  return b.strategies.map((s) => {
    const v = b.vsNaive.find((x) => x.name === s.name);
    return [
      label,
      s.name,
      String(b.bars),
      String(s.trades),
      pctCell(s.totalReturn),
      pctCell(s.maxDrawdown),
      sharpeCell(s.sharpe),
      v ? `${fmt(v.diff.diff.estimate, 2)} [${fmt(v.diff.diff.lo, 2)}, ${fmt(v.diff.diff.hi, 2)}]` : '-',
      v ? v.diff.verdictText : s.name === MODEL_STRATEGY ? `(DSR ${Number.isFinite(b.deflated.dsr) ? b.deflated.dsr.toFixed(2) : 'n/a'})` : '-',
    ];
  });
}

export const BLOCK_HEADER = ['fold', 'strategy', 'bars', 'trades', 'return', 'max drawdown', 'Sharpe [95% CI]', 'model - this Sharpe [95% CI]', 'verdict'];

export function printWalkForward(s: WalkForwardSummary, log: Log): void {
  const rows: string[][] = [['task', 'symbol', 'metric', 'windows', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict']];
  for (const t of s.tasks) {
    const c = t.comparison;
    rows.push([t.task, t.symbol, c?.metric ?? '-', String(c?.n ?? 0), fmtInterval(c?.model), fmtInterval(c?.other), fmtInterval(c?.diff), c?.verdictText ?? 'too few to judge (0 windows)']);
  }
  log(`\nwalk-forward (${s.folds} folds of ${s.testLength}, ${s.retrain}): stitched out-of-sample windows of every fold, each against the fold's best naive baseline:\n${textTable(rows)}`);
  for (const b of s.backtests) {
    const bt: string[][] = [BLOCK_HEADER];
    for (const f of b.perFold) bt.push(...blockRows(String(f.index + 1), f));
    bt.push(...blockRows('all', b));
    log(
      `\n${b.symbol}: each fold's model on its own test period beside the naive strategies (same engine, fees, slippage); 'all' = the folds' returns chained. ` +
        `Sharpe differences are paired on the same bars (stationary block bootstrap):\n${textTable(bt)}`,
    );
    log(`${b.symbol} stitched deflated Sharpe: ${b.deflated.text}`);
  }
  const cpu = s.cpuSecondsTotal;
  log(`time over ${s.perFold.length} folds: training ${(s.trainSecondsTotal / 60).toFixed(1)} min wall; whole folds ${(s.wallSecondsTotal / 60).toFixed(1)} min wall, ${(cpu / 60).toFixed(1)} min process CPU`);
}
