import { z } from 'zod/v3';
import { ConfigError, DataError, sliceColumns } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';
import type { BacktestConfigInput } from './config.js';
import { finish, prepare, runDecisionLoop } from './engine.js';
import type { BacktestInputs, BacktestResult, Decider } from './engine.js';
import { computeMetrics } from './metrics.js';
import type { BacktestMetrics } from './metrics.js';

/** One fold: train on rows [trainStart, trainEnd), test on [testStart, testEnd). */
export interface Fold {
  readonly index: number;
  readonly trainStart: number;
  readonly trainEnd: number;
  readonly testStart: number;
  readonly testEnd: number;
}

export const WalkForwardScheduleSchema = z
  .object({
    trainBars: z.number().int().positive(),
    testBars: z.number().int().positive(),
    /** anchored: every training window starts at row 0 (expanding); else it rolls with the test window. */
    anchored: z.boolean().default(false),
    /** Rows left between the end of training and the start of testing (e.g. the label horizon). */
    gapBars: z.number().int().min(0).default(0),
  })
  .strict();
export type WalkForwardSchedule = z.input<typeof WalkForwardScheduleSchema>;

/** The folds of a schedule over n rows; test windows are contiguous and the last may be shorter. */
export function walkForwardFolds(n: number, schedule: WalkForwardSchedule): Fold[] {
  const r = WalkForwardScheduleSchema.safeParse(schedule);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`walkForward.${i.path.join('.')}: ${i.message}`, i.path.join('.'));
  }
  const s = r.data;
  const folds: Fold[] = [];
  for (let testStart = s.trainBars + s.gapBars; testStart < n; testStart += s.testBars) {
    const trainEnd = testStart - s.gapBars;
    folds.push({
      index: folds.length,
      trainStart: s.anchored ? 0 : trainEnd - s.trainBars,
      trainEnd,
      testStart,
      testEnd: Math.min(n, testStart + s.testBars),
    });
  }
  if (folds.length === 0) throw new ConfigError(`walkForward: ${n} rows leave no test window after trainBars ${s.trainBars} + gapBars ${s.gapBars}`, 'trainBars');
  return folds;
}

/**
 * Called once per fold; returns the strategy for the fold's test window. `trainCandles` is the
 * training range alone (a view of rows [trainStart, trainEnd)): fit on it to be sure nothing later
 * is read. `candles` is the whole series, for the decider, which is called with global row numbers.
 */
export type FoldTrainer = (fold: Fold, candles: CandleColumns, trainCandles: CandleColumns) => Decider | Promise<Decider>;

export interface FoldResult {
  readonly fold: Fold;
  /** Metrics of the fold's slice of the stitched equity (its first bar's base is the equity before it). */
  readonly metrics: BacktestMetrics;
}

export interface WalkForwardResult {
  readonly folds: readonly FoldResult[];
  /** The stitched out-of-sample run: one account carried through every test window in order. */
  readonly outOfSample: BacktestResult;
}

/**
 * Walk-forward. `schedule` is the parameters of rolling/anchored folds, an explicit fold list, or a
 * function of the row count returning folds. For each fold, `train` sees the fold (and may read rows < trainEnd only), then its
 * decider trades the test window. One account runs through all test windows, so positions and equity
 * carry across fold boundaries and the out-of-sample result is one stitched series.
 */
export async function walkForward(
  candles: CandleColumns,
  schedule: WalkForwardSchedule | readonly Fold[] | ((rows: number) => readonly Fold[]),
  train: FoldTrainer,
  config?: BacktestConfigInput,
  inputs: BacktestInputs = {},
): Promise<WalkForwardResult> {
  const folds =
    typeof schedule === 'function'
      ? schedule(candles.length)
      : Array.isArray(schedule)
        ? (schedule as readonly Fold[])
        : walkForwardFolds(candles.length, schedule as WalkForwardSchedule);
  checkFolds(folds, candles.length);
  const start = folds[0]!.testStart;
  const end = folds[folds.length - 1]!.testEnd;
  const oos = sliceColumns(candles, start, end);
  const p = prepare(oos, config, inputs);
  const equity = new Float64Array(end - start);
  let exposed = 0;
  const foldExposed: number[] = [];
  for (const fold of folds) {
    const decide = await train(fold, candles, sliceColumns(candles, fold.trainStart, fold.trainEnd));
    // The decider speaks global row numbers; the loop runs on the full columns.
    const e = runDecisionLoop(p.acct, candles, fold.testStart, fold.testEnd, decide, equity, start);
    foldExposed.push(e);
    exposed += e;
  }
  const outOfSample = finish(p, oos, equity, exposed);
  const results: FoldResult[] = folds.map((fold, i) => {
    const a = fold.testStart - start;
    const b = fold.testEnd - start;
    const t0 = candles.tsMs[fold.testStart]!;
    const t1 = fold.testEnd < candles.length ? candles.tsMs[fold.testEnd]! : Infinity;
    return {
      fold,
      metrics: computeMetrics({
        equity: equity.subarray(a, b),
        initialEquity: a === 0 ? p.cfg.initialEquity : equity[a - 1]!,
        barsPerYear: p.bpy,
        trades: outOfSample.trades.filter((t) => t.exitMs >= t0 && t.exitMs < t1),
        exposedBars: foldExposed[i]!,
      }),
    };
  });
  return { folds: results, outOfSample };
}

function checkFolds(folds: readonly Fold[], n: number): void {
  if (folds.length === 0) throw new ConfigError('walkForward: no folds', 'folds');
  folds.forEach((f, i) => {
    if (!(f.trainStart >= 0 && f.trainStart < f.trainEnd && f.trainEnd <= f.testStart && f.testStart < f.testEnd && f.testEnd <= n)) {
      throw new DataError(`walkForward fold ${i}: need 0 <= trainStart < trainEnd <= testStart < testEnd <= ${n}, got ${JSON.stringify(f)}`);
    }
    if (i > 0 && f.testStart !== folds[i - 1]!.testEnd) {
      throw new DataError(`walkForward fold ${i}: test windows must be contiguous (testStart ${f.testStart}, previous testEnd ${folds[i - 1]!.testEnd})`);
    }
  });
}
