/**
 * One sweep trial, as a worker runs it: train the trial's config on its data, then score it.
 * What the objective can read is on validation rows only (the best epoch's validation loss and
 * per-task validation metrics, and a backtest over each symbol's validation range); the test
 * figures (per-task test metrics and a backtest over the test range) are recorded beside them for
 * the report of the best trial, and never used to choose.
 *
 * Trials backtest with the config's fusion thresholds (no policy is fitted per trial), so fusion
 * and risk settings in the space are what the validation backtest judges.
 */
import { barsPerYear, sharpeRatio } from '@task-agnostic/core';
import { parseTrainerConfig, type TrainerConfig } from './config.js';
import { backtestSymbol } from './backtest-run.js';
import { barReturns } from './intervals.js';
import { loadConfigData, testStartRow } from './pipeline.js';
import { scalarMetrics, trainRun, type Log } from './train-run.js';
import { screenSeries } from './universe.js';

export interface TrialPayload {
  readonly index: number;
  /** The trial's full run config (the base with its parameters put in). */
  readonly config: unknown;
}

export interface BacktestFigures {
  /** Annualised Sharpe ratio of the symbols' bar returns, pooled. */
  readonly sharpe: number | null;
  /** The same per bar (what the deflated Sharpe works with). */
  readonly sharpePerBar: number | null;
  readonly bars: number;
  readonly trades: number;
  /** Per symbol: compounded return of the range. */
  readonly totalReturn: Record<string, number>;
}

export interface TrialResult {
  readonly index: number;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly trainSeconds: number;
  /** Summed validation loss per epoch. */
  readonly valLossByEpoch: number[];
  readonly val: BacktestFigures & {
    /** The best epoch's summed validation loss. */
    readonly loss: number;
    /** The best epoch's validation metrics as task.metric. */
    readonly metrics: Record<string, number>;
  };
  readonly test: BacktestFigures & {
    readonly metrics: Record<string, number>;
    /** The pooled bar returns of the test backtest (for the deflated Sharpe of the best trial). */
    readonly returns: number[];
  };
}

function figures(returns: number[], trades: number, totalReturn: Record<string, number>, bpy: number): BacktestFigures {
  const s = sharpeRatio(returns);
  return { sharpe: Number.isFinite(s) ? s * Math.sqrt(bpy) : null, sharpePerBar: Number.isFinite(s) ? s : null, bars: returns.length, trades, totalReturn };
}

/** Trains and scores one trial (throws on a bad config or a failed training: the caller records it as failed). */
export async function runTrial(p: TrialPayload, progress: Log = () => {}): Promise<TrialResult> {
  const cfg: TrainerConfig = parseTrainerConfig(p.config, `trial ${p.index} config`);
  const data = screenSeries(cfg, await loadConfigData(cfg), () => {});
  const t0 = Date.now();
  const r = await trainRun(cfg, data, {
    progress: false,
    onEpoch: (e) => progress(`epoch ${e.epoch + 1}: validation loss ${e.valTotal.toFixed(4)}`),
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  try {
    const history = r.history;
    let best = 0;
    for (let i = 1; i < history.length; i++) if (history[i]!.valTotal < history[best]!.valTotal) best = i;
    const bestRec = history[best];
    const valMetrics: Record<string, number> = {};
    for (const [task, m] of Object.entries(bestRec?.valMetrics ?? {})) for (const [k, v] of Object.entries(m)) if (typeof v === 'number') valMetrics[`${task}.${k}`] = v;
    const bpy = barsPerYear(cfg.data.interval);
    const val = { returns: [] as number[], trades: 0, total: {} as Record<string, number> };
    const test = { returns: [] as number[], trades: 0, total: {} as Record<string, number> };
    data.forEach((d, i) => {
      const b = r.dataset.boundaries[i]!;
      // validation range: rows [trainEnd, valEnd); reads no candle at or after valEnd
      if (b.valEnd - b.trainEnd >= 2) {
        const v = backtestSymbol(cfg, r.model, d, b.trainEnd, () => {}, 'seed', b.valEnd).result;
        val.returns.push(...barReturns(v.equity, v.initialEquity));
        val.trades += v.metrics.trades;
        val.total[d.symbol] = v.metrics.totalReturn;
      }
      const ts = testStartRow(r, i);
      if (d.candles.length - ts >= 2) {
        const t = backtestSymbol(cfg, r.model, d, ts, () => {}, 'seed').result;
        test.returns.push(...barReturns(t.equity, t.initialEquity));
        test.trades += t.metrics.trades;
        test.total[d.symbol] = t.metrics.totalReturn;
      }
    });
    const testMetrics: Record<string, number> = {};
    for (const [task, t] of Object.entries(r.test)) for (const [k, v] of Object.entries(scalarMetrics(t.metrics))) if (!/confusion/.test(k)) testMetrics[`${task}.${k}`] = v;
    return {
      index: p.index,
      epochs: history.length,
      bestEpoch: best,
      trainSeconds,
      valLossByEpoch: history.map((h) => h.valTotal),
      val: { ...figures(val.returns, val.trades, val.total, bpy), loss: bestRec?.valTotal ?? Number.NaN, metrics: valMetrics },
      test: { ...figures(test.returns, test.trades, test.total, bpy), metrics: testMetrics, returns: test.returns },
    };
  } finally {
    r.model.dispose();
  }
}

/** Higher-is-better metric names (everything else is minimised). */
const HIGHER = /(accuracy|macroF1|f1|auc|r2|precision|recall|corr|ic|sharpe|hitRate)$/i;

/** Reads an objective from a trial result: valLoss, valSharpe, or val.<task>.<metric>; with its direction. */
export function objectiveOf(name: string): { direction: 'min' | 'max'; read: (r: TrialResult) => number | null } {
  if (name === 'valLoss') return { direction: 'min', read: (r) => (Number.isFinite(r.val.loss) ? r.val.loss : null) };
  if (name === 'valSharpe') return { direction: 'max', read: (r) => r.val.sharpe };
  const m = /^val\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)$/.exec(name);
  if (!m) return { direction: 'min', read: () => null };
  const key = `${m[1]}.${m[2]}`;
  return { direction: HIGHER.test(m[2]!) ? 'max' : 'min', read: (r) => (Number.isFinite(r.val.metrics[key]) ? r.val.metrics[key]! : null) };
}

/** The objectives `--objective` accepts. */
export function isObjectiveName(name: string): boolean {
  return name === 'valLoss' || name === 'valSharpe' || /^val\.[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$/.test(name);
}
