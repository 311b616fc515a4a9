/**
 * One fold of `trainer walk-forward` as one function with plain-data inputs and output, so a job
 * executor (a process pool, a queue worker) can run folds elsewhere: `runFold(cfg, span, options)`
 * loads the config's data (unless given), trains on the bars before the fold's test period (its own
 * validation split: early stopping, calibration, the decision policy's thresholds), and applies the
 * model as saved to the test period: per-task metrics beside the naive baselines, and the model's
 * strategy beside buy-and-hold, vol-targeted buy-and-hold and time-series momentum through the same
 * engine, fees and slippage (`compareStrategies`, as in `trainer backtest`).
 */
import { ConfigError, DataError, lowerBound, sliceColumns } from '@task-agnostic/core';
import { barReturns } from '@task-agnostic/backtest';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { fitDecisionPolicy } from './decision-policy-run.js';
import type { TrialSet } from './deflation.js';
import { evaluateOos, oosRaw, oosRanges, type OosEvaluation } from './oos.js';
import { loadConfigData } from './pipeline.js';
import { compareStrategies, MODEL_STRATEGY } from './strategies.js';
import { trainRun, type Log } from './train-run.js';
import { isoMinute as iso } from './format.js';

/** The naive strategies every fold's model is compared with (names of @task-agnostic/backtest's runNaiveStrategies). */
export const NAIVE_STRATEGIES = ['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum'] as const;

/** Dates of one fold (ms since the epoch, UTC); test period [testStartMs, testEndMs). */
export interface FoldSpan {
  readonly index: number;
  readonly trainStartMs: number;
  readonly testStartMs: number;
  readonly testEndMs: number;
}

/** One strategy over a fold's test period. */
export interface FoldStrategy {
  readonly name: string;
  readonly description: string;
  readonly trades: number;
  readonly totalReturn: number;
  readonly maxDrawdown: number;
  /** Per-bar simple returns (net of fees and slippage), one per test bar. */
  readonly returns: number[];
}

/** One symbol's backtests over a fold's test period. */
export interface FoldBacktest {
  readonly symbol: string;
  readonly bars: number;
  /** Open time of every test bar. */
  readonly tsMs: number[];
  /** The model's strategy first, then the naive strategies, on the same bars. */
  readonly strategies: FoldStrategy[];
  /** The threshold candidates the fold's decision policy tried on validation (count 1: source thresholds). */
  readonly trials: TrialSet;
}

/** What one finished fold leaves on disk (one JSON line of folds.jsonl). */
export interface FoldRecord {
  readonly key: string;
  readonly fold: FoldSpan;
  readonly trainSeconds: number;
  /** Wall and process CPU seconds of the whole fold (training, policy fit, evaluation, backtests). */
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly trainWindows: number;
  /** Which thresholds the fold traded with. */
  readonly thresholds: string;
  readonly evaluations: OosEvaluation[];
  readonly backtests: FoldBacktest[];
  /** Per task and symbol: the raw test windows (model, best baseline, targets), for pooled intervals. */
  readonly windows: Record<string, Record<string, { outputs: number[]; baseline: number[]; targets: number[]; n: number }>>;
}

export interface FoldOptions {
  /** Identifies the walk-forward the fold belongs to (written into the record). */
  readonly key: string;
  /** The config's data, already loaded (loaded from the config when absent). */
  readonly data?: readonly SymbolData[];
  readonly progress?: boolean;
  readonly log?: Log;
}

function sliceData(d: SymbolData, fromMs: number, toMs: number): SymbolData {
  const c = d.candles;
  return { ...d, candles: sliceColumns(c, lowerBound(c, fromMs), lowerBound(c, toMs)) };
}

/**
 * The config's candles cut to [data.start, data.end) (--from, --to), with a clear error when the
 * cut leaves a symbol nothing: the dates asked for and the data's range.
 */
export async function loadWalkForwardData(cfg: TrainerConfig): Promise<SymbolData[]> {
  const { start, end } = cfg.data;
  if (start !== undefined && end !== undefined && end <= start) throw new ConfigError(`--to ${iso(end)} is not after --from ${iso(start)}`, 'to');
  const all = await loadConfigData({ ...cfg, data: { ...cfg.data, start: undefined, end: undefined } });
  return all.map((d) => {
    const c = d.candles;
    if (c.length === 0) throw new DataError(`${d.symbol}: no candles in ${d.source}`);
    const range = `${d.symbol}'s candles run from ${iso(c.tsMs[0]!)} to ${iso(c.tsMs[c.length - 1]!)} (${d.source})`;
    if (start !== undefined && start > c.tsMs[c.length - 1]!) throw new DataError(`--from ${iso(start)} is after the data ends: ${range}`);
    if (end !== undefined && end <= c.tsMs[0]!) throw new DataError(`--to ${iso(end)} is before the data starts: ${range}`);
    const a = start === undefined ? 0 : lowerBound(c, start);
    const b = end === undefined ? c.length : lowerBound(c, end);
    if (b - a < 2) throw new DataError(`${d.symbol}: ${b - a} candles between --from ${start === undefined ? '-' : iso(start)} and --to ${end === undefined ? '-' : iso(end)}: ${range}`);
    return a === 0 && b === c.length ? d : { ...d, candles: sliceColumns(c, a, b) };
  });
}

/** The config a fold trains with: the run's, with a validation split and no test split (the test period is the fold's). */
export function foldConfig(cfg: TrainerConfig, span: FoldSpan): TrainerConfig {
  const valFraction = 'valFraction' in cfg.data.split ? cfg.data.split.valFraction : 0.15;
  return { ...cfg, seed: cfg.seed + span.index, data: { ...cfg.data, split: { valFraction, testFraction: 0 } } };
}

/** Trains and tests one fold. Reads no candle at or after the end of the fold's test period. */
export async function runFold(cfg: TrainerConfig, span: FoldSpan, o: FoldOptions): Promise<FoldRecord> {
  const log = o.log ?? (() => {});
  const k = span.index;
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  const data = o.data ?? (await loadWalkForwardData(cfg));
  const trainData = data.map((d) => sliceData(d, span.trainStartMs, span.testStartMs)).filter((d) => d.candles.length > 0);
  if (trainData.length === 0) throw new DataError(`fold ${k + 1}: no training candles before ${iso(span.testStartMs)}`);
  const fcfg = foldConfig(cfg, span);
  // a fold whose validation mix is far from its training mix says so (its thresholds are fitted there)
  const r = await trainRun(fcfg, trainData, { progress: o.progress ?? false, log: (l) => log(`fold ${k + 1}: ${l}`), splitMix: 'warnings' });
  const trainSeconds = (Date.now() - t0) / 1000;
  try {
    // The decision policy as `trainer train` fits it: thresholds on the fold's validation bars.
    let trialsBySymbol: Record<string, TrialSet> = {};
    let thresholds = 'source (policy.thresholds seed)';
    if (cfg.policy.thresholds === 'fitted') {
      try {
        const fit = fitDecisionPolicy(fcfg, r.model, trainData, r.dataset.boundaries, r.dataset.purgeGap, { minRoundTripsPerDay: cfg.policy.minRoundTripsPerDay, minValidationDays: cfg.policy.minValidationDays });
        r.model.setDecisionPolicy(fit.policy);
        trialsBySymbol = fit.report.methods[cfg.fusion.method]?.trials ?? {};
        thresholds = 'fitted on the fold\'s validation bars';
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        thresholds = `source: ${err.message.split(': after')[0]}`;
        log(`fold ${k + 1}: ${err.message.split('. ')[0]}; this fold trades with the source thresholds`);
      }
    }
    const firstTrials = Object.values(trialsBySymbol)[0] ?? { count: 1, sharpeVariance: 0 };
    // The fold's model as saved, on candles up to the end of its test period (earlier bars: warm-up).
    const testData = data
      .map((d) => sliceData(d, d.candles.tsMs[0]!, span.testEndMs))
      .filter((d) => d.candles.length && d.candles.tsMs[d.candles.length - 1]! >= span.testStartMs);
    const ranges = oosRanges(r.model, testData, span.testStartMs, span.testEndMs);
    const seen = Array.isArray(cfg.data.symbols) ? cfg.data.symbols : data.map((d) => d.symbol);
    const evaluations = ranges.map((rg, i) => evaluateOos(r.model, rg, seen, cfg.seed + 1000 * k + i));
    const windows: FoldRecord['windows'] = {};
    for (const ev of evaluations) {
      for (const t of ev.tasks) {
        const raw = oosRaw(t);
        if (!raw) continue;
        (windows[t.task] ??= {})[ev.symbol] = { outputs: Array.from(raw.outputs), baseline: Array.from(raw.baseline), targets: Array.from(raw.targets), n: raw.n };
      }
    }
    const keep = new Set<string>([MODEL_STRATEGY, ...NAIVE_STRATEGIES]);
    const backtests = ranges.map((rg): FoldBacktest => {
      const d: SymbolData = { symbol: rg.symbol, interval: rg.interval, candles: rg.candles, source: rg.source, dropped: 0, filled: 0 };
      // GARCH of the vol-targeted strategies: fitted on every bar before the test period.
      const c = compareStrategies(fcfg, r.model, d, rg.start, rg.start, rg.candles.length);
      return {
        symbol: rg.symbol,
        bars: rg.candles.length - rg.start,
        tsMs: Array.from(rg.candles.tsMs.subarray(rg.start)),
        strategies: c.runs
          .filter((s) => keep.has(s.name))
          .map((s) => ({ name: s.name, description: s.description, trades: s.result.metrics.trades, totalReturn: s.result.metrics.totalReturn, maxDrawdown: s.result.metrics.maxDrawdown, returns: Array.from(barReturns(s.result)) })),
        trials: trialsBySymbol[rg.symbol] ?? firstTrials,
      };
    });
    const cpu = process.cpuUsage(c0);
    return {
      key: o.key,
      fold: span,
      trainSeconds,
      wallSeconds: (Date.now() - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      trainWindows: r.dataset.train.n,
      thresholds,
      evaluations,
      backtests,
      windows,
    };
  } finally {
    r.model.dispose();
  }
}
