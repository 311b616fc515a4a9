/**
 * anomaly: whether an extreme move happens within the next h bars. Label at t = 1 if any one-bar
 * log return r_k, k = t+1..t+h (r_{t+1} against the reference close[t]), has |r_k| > kSigma * sigma,
 * where sigma = 1.4826 x MAD of the training range's one-bar returns (robust: the extremes being
 * detected cannot inflate their own yardstick). Output: one logit; loss: sigmoid cross-entropy,
 * optionally with the positive class weighted by negatives / positives of the training labels.
 * decode -> AnomalyOutput { probability }.
 * Source design: TaskType::AnomalyDetection ("Detect anomalies"), anomaly_score.
 */
import { sliceColumns, type AnomalyOutput, type CandleColumns } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { checkCandles, checkRows, checkTrainEnd } from '../candles.js';
import { classWeightingSchema, gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { barLogReturns, oneBarReturns, robustSigma } from '../forward.js';
import { baseRateBaseline, sigmoidClassifier } from '../classification.js';
import { parseState } from '../state.js';
import type { BaselineReport, Task, TaskFactory, TaskLabels, TaskState } from '../task.js';

export const anomalyConfigSchema = z
  .object({
    horizon: horizonSchema(24),
    /** Extreme = |one-bar return| above kSigma robust sigmas. */
    kSigma: z.number().positive().max(100).default(4),
    classWeighting: classWeightingSchema,
  })
  .strict();
export type AnomalyConfig = z.infer<typeof anomalyConfigSchema>;

const stateSchema = z.object({
  task: z.literal('anomaly'),
  horizon: z.number().int().positive(),
  sigma: z.number().nonnegative(),
  threshold: z.number().nonnegative(),
  positives: z.number().nonnegative(),
  total: z.number().nonnegative(),
});

const CLASSES = ['normal', 'extreme'] as const;

export function createAnomalyTask(config: AnomalyConfig): Task<AnomalyOutput> {
  const h = config.horizon;
  const id = 'anomaly';

  function labelsWith(candles: CandleColumns, threshold: number): TaskLabels {
    checkCandles(candles, ['close']);
    const n = candles.length;
    // extreme[k] = 1 if bar k's return is extreme; label t = any extreme in k = t+1..t+h (sliding count).
    const extreme = new Uint8Array(n);
    const r = oneBarReturns(candles.close, n);
    for (let k = 1; k < n; k++) extreme[k] = Math.abs(r[k]!) > threshold ? 1 : 0;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    let count = 0;
    for (let k = 1; k <= Math.min(h, n - 1); k++) count += extreme[k]!;
    for (let t = 0; t + h < n; t++) {
      if (t > 0) count += extreme[t + h]! - extreme[t]!;
      targets[t] = count > 0 ? 1 : 0;
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const clf = sigmoidClassifier(id, CLASSES, (state) =>
    config.classWeighting === 'balanced' ? parseState(stateSchema, state, id) : undefined,
  );
  const task: Task<AnomalyOutput> = {
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
      const train = sliceColumns(candles, 0, trainEnd);
      const sigma = robustSigma(barLogReturns(train.close, trainEnd));
      const threshold = config.kSigma * sigma;
      const l = labelsWith(train, threshold);
      let positives = 0;
      for (let t = 0; t + h < trainEnd; t++) positives += l.targets[t]!;
      return { task: 'anomaly', horizon: h, sigma, threshold, positives, total: trainEnd - h };
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      return labelsWith(candles, parseState(stateSchema, state, id).threshold);
    },
    buildHead: clf.buildHead,
    loss: clf.loss,
    metrics: clf.metrics,
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles, s.threshold);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      return [baseRateBaseline(task.metrics, s.positives, s.total, y, n, 'the training frequency of extreme windows, for every row')];
    },
    decode(output: ArrayLike<number>): AnomalyOutput {
      return { probability: clf.probability(output) };
    },
  };
  return task;
}

export const anomalyTaskFactory: TaskFactory<AnomalyConfig> = {
  id: 'anomaly',
  description: 'probability of an extreme one-bar move (|r| > k robust sigmas) within the next h bars',
  configSchema: anomalyConfigSchema,
  create: createAnomalyTask,
};

export function anomalyTask(config?: unknown): Task<AnomalyOutput> {
  return createAnomalyTask(parseTaskConfig(anomalyConfigSchema, config, 'anomaly'));
}
