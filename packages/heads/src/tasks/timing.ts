/**
 * timing: whether entering now beats entering at the best of the next k = h bars by more than
 * trading costs. For a long entry (default): label 1 if close[t] (1 + costRate) < min close[t+1..t+h],
 * i.e. every later close in the window is above the price now by more than the round-trip cost, so
 * no wait would have paid; for a short entry: close[t] (1 - costRate) > max close[t+1..t+h].
 * Entries are taken at closes (a market order on a bar's close), not at intrabar extremes that
 * nobody could time. costRate defaults to the round trip of the backtest defaults:
 * 2 x (fee 0.1% + slippage 0.05%) = 0.3%. Output: one logit, sigmoid cross-entropy.
 * decode -> TimingOutput { enterNow }.
 * Source design: TaskType::TradeTiming ("Predict optimal trade timing").
 */
import { sliceColumns, type CandleColumns, type TimingOutput } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { checkCandles, checkRows, checkTrainEnd } from '../candles.js';
import { classWeightingSchema, gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { baseRateBaseline, sigmoidClassifier } from '../classification.js';
import { parseState } from '../state.js';
import type { BaselineReport, Task, TaskFactory, TaskLabels, TaskState } from '../task.js';

export const timingConfigSchema = z
  .object({
    horizon: horizonSchema(12),
    /** Round-trip cost as a fraction: 2 x (0.001 fee + 0.0005 slippage), the source design's backtest defaults. */
    costRate: z.number().min(0).max(0.5).default(0.003),
    side: z.enum(['long', 'short']).default('long'),
    classWeighting: classWeightingSchema,
  })
  .strict();
export type TimingConfig = z.infer<typeof timingConfigSchema>;

const stateSchema = z.object({
  task: z.literal('timing'),
  horizon: z.number().int().positive(),
  positives: z.number().nonnegative(),
  total: z.number().nonnegative(),
});

const CLASSES = ['wait', 'enter'] as const;

/** The timing label of row t (see the file comment). */
export function timingLabel(close: Float64Array, t: number, h: number, costRate: number, side: 'long' | 'short'): number {
  if (side === 'long') {
    let best = Infinity;
    for (let k = t + 1; k <= t + h; k++) if (close[k]! < best) best = close[k]!;
    return close[t]! * (1 + costRate) < best ? 1 : 0;
  }
  let best = -Infinity;
  for (let k = t + 1; k <= t + h; k++) if (close[k]! > best) best = close[k]!;
  return close[t]! * (1 - costRate) > best ? 1 : 0;
}

export function createTimingTask(config: TimingConfig): Task<TimingOutput> {
  const h = config.horizon;
  const id = 'timing';

  function labelsWith(candles: CandleColumns): TaskLabels {
    checkCandles(candles, ['close']);
    const n = candles.length;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    for (let t = 0; t + h < n; t++) {
      targets[t] = timingLabel(candles.close, t, h, config.costRate, config.side);
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const clf = sigmoidClassifier(id, CLASSES, (state) =>
    config.classWeighting === 'balanced' ? parseState(stateSchema, state, id) : undefined,
  );
  const task: Task<TimingOutput> = {
    id,
    kind: 'classification',
    classes: CLASSES,
    horizon: h,
    outputDim: 1,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close']);
      checkTrainEnd(trainEnd, candles.length, h + 2);
      const l = labelsWith(sliceColumns(candles, 0, trainEnd));
      let positives = 0;
      for (let t = 0; t + h < trainEnd; t++) positives += l.targets[t]!;
      return { task: 'timing', horizon: h, positives, total: trainEnd - h };
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      parseState(stateSchema, state, id);
      return labelsWith(candles);
    },
    buildHead: clf.buildHead,
    loss: clf.loss,
    metrics: clf.metrics,
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      return [baseRateBaseline(task.metrics, s.positives, s.total, y, n, 'the training frequency of "enter now" rows, for every row')];
    },
    decode(output: ArrayLike<number>): TimingOutput {
      return { enterNow: clf.probability(output) };
    },
  };
  return task;
}

export const timingTaskFactory: TaskFactory<TimingConfig> = {
  id: 'timing',
  description: 'whether entering now beats the best entry of the next k bars by more than costs',
  configSchema: timingConfigSchema,
  create: createTimingTask,
};

export function timingTask(config?: unknown): Task<TimingOutput> {
  return createTimingTask(parseTaskConfig(timingConfigSchema, config, 'timing'));
}
