/**
 * direction: up / down / sideways over the next h bars. Label at t: R = ln(close[t+h] / close[t]);
 * up if R > tau, down if R < -tau, else sideways, with the volatility-scaled threshold
 * tau = thresholdSigmas * sigma_bar * sqrt(h), sigma_bar = std of one-bar log returns of the training
 * range (a random walk's h-bar std). Loss: softmax cross-entropy, optionally class-weighted.
 * Source design: "Trend Prediction (Classification: 3 classes) Up / Sideways / Down, Loss: Cross-entropy".
 */
import { DIRECTION_CLASSES, sliceColumns, type CandleColumns, type DirectionOutput } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { checkCandles, checkRows, checkTrainEnd } from '../candles.js';
import { classWeightingSchema, gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { balancedWeights, barLogReturns, classCounts, forwardLogReturn, sampleStd } from '../forward.js';
import { majorityBaseline, oneHotLogits, softmaxClassifier } from '../classification.js';
import { parseState } from '../state.js';
import { scoredBaseline, type BaselineReport, type Task, type TaskFactory, type TaskLabels, type TaskState } from '../task.js';

export const directionConfigSchema = z
  .object({
    /** Bars ahead (24 = one day of 1h bars; the source design leaves the horizon open). */
    horizon: horizonSchema(24),
    /** tau in units of the h-bar random-walk std; 0.5 gives roughly 38% sideways under a random walk. */
    thresholdSigmas: z.number().positive().max(10).default(0.5),
    classWeighting: classWeightingSchema,
  })
  .strict();
export type DirectionConfig = z.infer<typeof directionConfigSchema>;

const stateSchema = z.object({
  task: z.literal('direction'),
  horizon: z.number().int().positive(),
  sigmaBar: z.number().nonnegative(),
  threshold: z.number().nonnegative(),
  classCounts: z.array(z.number().nonnegative()).length(3),
  classWeights: z.array(z.number().positive()).length(3),
});
type DirectionState = z.infer<typeof stateSchema>;

const K = DIRECTION_CLASSES.length;

/** Class index of a forward return against threshold tau (DIRECTION_CLASSES order: up, down, sideways). */
export function directionClass(r: number, tau: number): number {
  return r > tau ? 0 : r < -tau ? 1 : 2;
}

export function createDirectionTask(config: DirectionConfig): Task<DirectionOutput> {
  const h = config.horizon;
  const id = 'direction';

  function labelsWith(candles: CandleColumns, tau: number): TaskLabels {
    checkCandles(candles, ['close']);
    const n = candles.length;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    for (let t = 0; t + h < n; t++) {
      targets[t] = directionClass(forwardLogReturn(candles.close, t, h), tau);
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const clf = softmaxClassifier(id, DIRECTION_CLASSES, (state) =>
    config.classWeighting === 'balanced' ? parseState(stateSchema, state, id).classWeights : undefined,
  );
  const task: Task<DirectionOutput> = {
    id,
    kind: 'classification',
    classes: DIRECTION_CLASSES,
    horizon: h,
    outputDim: K,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close']);
      checkTrainEnd(trainEnd, candles.length, h + 2);
      const train = sliceColumns(candles, 0, trainEnd);
      const sigmaBar = sampleStd(barLogReturns(train.close, trainEnd));
      const threshold = config.thresholdSigmas * sigmaBar * Math.sqrt(h);
      const l = labelsWith(train, threshold);
      const counts = classCounts(l.targets, l.valid, K, trainEnd);
      const state: DirectionState = { task: 'direction', horizon: h, sigmaBar, threshold, classCounts: counts, classWeights: balancedWeights(counts) };
      return state;
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
      // Momentum: the class of the trailing h-bar return (bars <= t), as a near-one-hot row.
      const mom = oneHotLogits(n, K, (i) => {
        const t = rows[i]!;
        const back = Math.min(h, t);
        return back > 0 ? directionClass(Math.log(candles.close[t]! / candles.close[t - back]!), s.threshold) : 2;
      });
      return [
        majorityBaseline(task.metrics, s.classCounts, y, n),
        scoredBaseline('momentum', 'class of the trailing h-bar return, same threshold', task.metrics, mom, y, n),
      ];
    },
    decode(output: ArrayLike<number>): DirectionOutput {
      const p = clf.probabilities(output);
      return { up: p[0]!, down: p[1]!, sideways: p[2]! };
    },
  };
  return task;
}

export const directionTaskFactory: TaskFactory<DirectionConfig> = {
  id: 'direction',
  description: 'up / down / sideways from the forward return against a volatility-scaled threshold',
  configSchema: directionConfigSchema,
  create: createDirectionTask,
};

/** The direction task from a raw (unvalidated) config. */
export function directionTask(config?: unknown): Task<DirectionOutput> {
  return createDirectionTask(parseTaskConfig(directionConfigSchema, config, 'direction'));
}
