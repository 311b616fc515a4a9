/**
 * return: the forward log return R = ln(close[t+h] / close[t]) as a Gaussian (mean, std).
 * Targets are standardised, y = R / scale with scale = std of the training range's forward returns,
 * so the head works in units of order 1; decode multiplies back. Output = (mean, log-std) in those
 * units; loss = Gaussian negative log-likelihood. Metrics (in standardised units; R^2 and the
 * correlation IC are scale-free): MSE, MAE, R^2, IC, rank IC, NLL, directional accuracy.
 * Source design: "Return: Actual forward return (continuous)", "Return Correlation > 0.3".
 */
import { sliceColumns, type CandleColumns, type ReturnOutput } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { z } from 'zod/v3';
import { checkCandles, checkMetricsInput, checkOutputRow, checkRows, checkTrainEnd } from '../candles.js';
import { gatherTargets, horizonSchema, parseTaskConfig, repeatRow } from '../config.js';
import { forwardLogReturn } from '../forward.js';
import { createMlpHead } from '../head-mlp.js';
import { gaussianNll, gaussianNllValue } from '../losses.js';
import { column, regressionMetrics } from '../metrics.js';
import { parseState } from '../state.js';
import { scoredBaseline, type BaselineReport, type Task, type TaskFactory, type TaskLabels, type TaskState } from '../task.js';

export const returnConfigSchema = z.object({ horizon: horizonSchema(24) }).strict();
export type ReturnConfig = z.infer<typeof returnConfigSchema>;

const stateSchema = z.object({
  task: z.literal('return'),
  horizon: z.number().int().positive(),
  scale: z.number().positive(),
  trainMean: z.number(),
});

export function createReturnTask(config: ReturnConfig): Task<ReturnOutput> {
  const h = config.horizon;
  const id = 'return';

  function labelsWith(candles: CandleColumns, scale: number): TaskLabels {
    checkCandles(candles, ['close']);
    const n = candles.length;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    for (let t = 0; t + h < n; t++) {
      targets[t] = forwardLogReturn(candles.close, t, h) / scale;
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const task: Task<ReturnOutput> = {
    id,
    kind: 'regression',
    calibrationForm: 'gaussian',
    horizon: h,
    outputDim: 2,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close']);
      checkTrainEnd(trainEnd, candles.length, h + 3);
      const close = sliceColumns(candles, 0, trainEnd).close;
      let m = 0;
      const cnt = trainEnd - h;
      for (let t = 0; t < cnt; t++) m += forwardLogReturn(close, t, h);
      m /= cnt;
      let v = 0;
      for (let t = 0; t < cnt; t++) v += (forwardLogReturn(close, t, h) - m) ** 2;
      const scale = Math.sqrt(v / Math.max(1, cnt - 1));
      return { task: 'return', horizon: h, scale: scale > 0 ? scale : 1e-8, trainMean: m };
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      return labelsWith(candles, parseState(stateSchema, state, id).scale);
    },
    buildHead(inputDim: number, seed: number) {
      return createMlpHead({ inputDim, outputDim: 2, seed, name: `heads/${id}` });
    },
    loss(output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
      return gaussianNll(output, targets);
    },
    metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number> {
      checkMetricsInput(outputs, targets, n, 2, 1, id);
      const mu = column(outputs, n, 2, 0);
      const base = regressionMetrics(mu, targets, n);
      let nll = 0;
      let hits = 0;
      let counted = 0;
      for (let i = 0; i < n; i++) {
        nll += gaussianNllValue(mu[i]!, outputs[2 * i + 1]!, targets[i]!);
        if (mu[i] !== 0 && targets[i] !== 0) {
          counted++;
          if (Math.sign(mu[i]!) === Math.sign(targets[i]!)) hits++;
        }
      }
      return { ...base, nll: n ? nll / n : NaN, directionalAccuracy: counted ? hits / counted : NaN };
    },
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles, s.scale);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      return [
        scoredBaseline('zero', 'mean 0, std = training std of forward returns', task.metrics, repeatRow([0, 0], n), y, n),
        scoredBaseline('trainMean', 'mean = training mean forward return, std = training std', task.metrics, repeatRow([s.trainMean / s.scale, 0], n), y, n),
      ];
    },
    decode(output: ArrayLike<number>, state: TaskState): ReturnOutput {
      checkOutputRow(output, 2, id);
      const s = parseState(stateSchema, state, id);
      const logStd = Math.min(7, Math.max(-7, output[1]!));
      return { expected: output[0]! * s.scale, std: Math.exp(logStd) * s.scale };
    },
  };
  return task;
}

export const returnTaskFactory: TaskFactory<ReturnConfig> = {
  id: 'return',
  description: 'forward log return as a Gaussian (mean, std); Gaussian NLL; IC reported',
  configSchema: returnConfigSchema,
  create: createReturnTask,
};

export function returnTask(config?: unknown): Task<ReturnOutput> {
  return createReturnTask(parseTaskConfig(returnConfigSchema, config, 'return'));
}
