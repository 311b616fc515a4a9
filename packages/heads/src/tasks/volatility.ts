/**
 * volatility: forward realised volatility per bar, rv_t = sqrt(mean_{k=1..h} r_{t+k}^2), learned in
 * log space. Target y = ln(max(rv, 1e-8)) - centre, centre = mean training log rv (so the head
 * starts near the right level; MSE and QLIKE are unchanged by the shift). Loss: MSE on log vol.
 * Metrics: MSE, MAE, R^2, IC on log vol, and QLIKE = mean(rv^2/f^2 - ln(rv^2/f^2) - 1) (Patton 2011).
 * Baselines on the same rows, from bars <= t: persistence (trailing rv of the last h returns), EWMA
 * (RiskMetrics lambda 0.94), GARCH(1,1) fitted on the training range (mean h-step forecast), each
 * of these two also shifted by its mean log error on the training rows ('+bias': a variance forecast's
 * log is biased up against E ln rv by Jensen's inequality), and the training mean. decode: expected = exp(y + centre); percentile against the training
 * distribution of rv, stored as a 101-point quantile grid.
 * Source design: "Volatility Forecast (Regression: 1 output) ... Loss: Mean Squared Error".
 */
import { sliceColumns, type CandleColumns, type VolatilityOutput } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { z } from 'zod/v3';
import { checkCandles, checkMetricsInput, checkOutputRow, checkRows, checkTrainEnd } from '../candles.js';
import { gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { barLogReturns, forwardRealisedVol, oneBarReturns, percentileFromGrid, quantileGrid, trailingRealisedVol, windowRealisedVol } from '../forward.js';
import { ewmaVariance, fitGarch11, garchFilter, garchMeanForecastVariance } from '../garch.js';
import { createMlpHead } from '../head-mlp.js';
import { meanSquaredError } from '../losses.js';
import { regressionMetrics } from '../metrics.js';
import { parseState } from '../state.js';
import { scoredBaseline, type BaselineReport, type Task, type TaskFactory, type TaskLabels, type TaskState } from '../task.js';

export const volatilityConfigSchema = z
  .object({
    horizon: horizonSchema(24),
    /** RiskMetrics (J.P. Morgan 1996) decay. */
    ewmaLambda: z.number().gt(0).lt(1).default(0.94),
    /** Points of the stored training distribution of rv (for decode's percentile). */
    quantilePoints: z.number().int().min(3).max(10_001).default(101),
    /** Fit the GARCH(1,1) baseline in fit() (about 0.1 s on 20k bars). */
    garch: z.boolean().default(true),
  })
  .strict();
export type VolatilityConfig = z.infer<typeof volatilityConfigSchema>;

const VOL_FLOOR = 1e-8;

const stateSchema = z.object({
  task: z.literal('volatility'),
  horizon: z.number().int().positive(),
  centre: z.number(),
  volQuantiles: z.array(z.number().nonnegative()).min(3),
  trainVariance: z.number().positive(),
  ewmaLambda: z.number(),
  garch: z.object({ omega: z.number().positive(), alpha: z.number().nonnegative(), beta: z.number().nonnegative(), mu: z.number() }).nullable(),
  ewmaLogBias: z.number().default(0),
  garchLogBias: z.number().default(0),
});

/** QLIKE of log-vol predictions f against log-vol targets y (same centre): mean(e^{2(y-f)} - 2(y-f) - 1). */
export function qlike(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = 2 * (target[i]! - pred[i]!);
    s += Math.exp(d) - d - 1;
  }
  return n ? s / n : NaN;
}

export function createVolatilityTask(config: VolatilityConfig): Task<VolatilityOutput> {
  const h = config.horizon;
  const id = 'volatility';

  function labelsWith(candles: CandleColumns, centre: number): TaskLabels {
    checkCandles(candles, ['close']);
    const n = candles.length;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    const r = oneBarReturns(candles.close, n);
    for (let t = 0; t + h < n; t++) {
      targets[t] = Math.log(Math.max(VOL_FLOOR, windowRealisedVol(r, t, h))) - centre;
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const task: Task<VolatilityOutput> = {
    id,
    kind: 'regression',
    calibrationForm: 'affine',
    horizon: h,
    outputDim: 1,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close']);
      checkTrainEnd(trainEnd, candles.length, Math.max(h + 2, config.garch ? 41 : 0));
      const close = sliceColumns(candles, 0, trainEnd).close;
      const rows = trainEnd - h;
      const rv = new Float64Array(rows);
      let centre = 0;
      for (let t = 0; t < rows; t++) {
        rv[t] = forwardRealisedVol(close, t, h);
        centre += Math.log(Math.max(VOL_FLOOR, rv[t]!));
      }
      centre /= rows;
      const r = barLogReturns(close, trainEnd);
      let v = 0;
      for (let i = 0; i < r.length; i++) v += r[i]! * r[i]!;
      const trainVariance = Math.max(VOL_FLOOR * VOL_FLOOR, v / r.length);
      const g = config.garch ? fitGarch11(r) : null;
      // Log-space bias of the variance forecasters on the training rows (Jensen: E ln rv < ln sqrt(E rv^2)),
      // so that the '+bias' baselines are fair competitors in MSE on log vol.
      const ew = ewmaVariance(r, config.ewmaLambda, trainVariance);
      const gv = g ? garchFilter(g, r, trainVariance) : null;
      let ewBias = 0;
      let gBias = 0;
      let cnt = 0;
      for (let t = Math.min(h, rows - 1); t < rows; t++) {
        const y = Math.log(Math.max(VOL_FLOOR, rv[t]!));
        ewBias += y - 0.5 * Math.log(Math.max(VOL_FLOOR * VOL_FLOOR, ew[t]!));
        if (g && gv) gBias += y - 0.5 * Math.log(Math.max(VOL_FLOOR * VOL_FLOOR, garchMeanForecastVariance(g, gv[t]!, h)));
        cnt++;
      }
      return {
        task: 'volatility',
        horizon: h,
        centre,
        volQuantiles: quantileGrid(rv, config.quantilePoints),
        trainVariance,
        ewmaLambda: config.ewmaLambda,
        garch: g ? { omega: g.omega, alpha: g.alpha, beta: g.beta, mu: g.mu } : null,
        ewmaLogBias: ewBias / cnt,
        garchLogBias: g ? gBias / cnt : 0,
      };
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      return labelsWith(candles, parseState(stateSchema, state, id).centre);
    },
    buildHead(inputDim: number, seed: number) {
      return createMlpHead({ inputDim, outputDim: 1, seed, name: `heads/${id}` });
    },
    loss(output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
      return meanSquaredError(output, targets);
    },
    metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number> {
      checkMetricsInput(outputs, targets, n, 1, 1, id);
      return { ...regressionMetrics(outputs, targets, n), qlike: qlike(outputs, targets, n) };
    },
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles, s.centre);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      let last = 0;
      for (let i = 0; i < n; i++) last = Math.max(last, rows[i]!);
      // r[j-1] = return of bar j; variance arrays index j-1 -> variance of bar j given bars < j;
      // the forecast made at t (bars <= t) is element t of the filter (the forecast after return t).
      const r = barLogReturns(candles.close, last + 1);
      const logv = (variance: number): number => 0.5 * Math.log(Math.max(VOL_FLOOR * VOL_FLOOR, variance)) - s.centre;
      const pers = new Float32Array(n);
      const ewma = new Float32Array(n);
      const mean = new Float32Array(n);
      const ew = ewmaVariance(r, s.ewmaLambda, s.trainVariance);
      for (let i = 0; i < n; i++) {
        const t = rows[i]!;
        const tr = trailingRealisedVol(candles.close, t, h);
        pers[i] = Number.isNaN(tr) ? logv(s.trainVariance) : Math.log(Math.max(VOL_FLOOR, tr)) - s.centre;
        ewma[i] = logv(ew[t]!);
        mean[i] = 0;
      }
      const shift = (x: Float32Array, b: number): Float32Array => x.map((v) => v + b);
      const out: BaselineReport[] = [
        scoredBaseline('persistence', `realised vol of the last ${h} returns`, task.metrics, pers, y, n),
        scoredBaseline('ewma', `EWMA variance, lambda ${s.ewmaLambda}`, task.metrics, ewma, y, n),
        scoredBaseline('ewma+bias', 'EWMA plus its training-range log bias', task.metrics, shift(ewma, s.ewmaLogBias), y, n),
      ];
      if (s.garch) {
        const gv = garchFilter(s.garch, r, s.trainVariance);
        const garch = new Float32Array(n);
        for (let i = 0; i < n; i++) garch[i] = logv(garchMeanForecastVariance(s.garch, gv[rows[i]!]!, h));
        out.push(scoredBaseline('garch', 'GARCH(1,1) fitted on the training range, mean of the 1..h step forecasts', task.metrics, garch, y, n));
        out.push(scoredBaseline('garch+bias', 'GARCH(1,1) plus its training-range log bias', task.metrics, shift(garch, s.garchLogBias), y, n));
      }
      out.push(scoredBaseline('trainMean', 'the training mean of log rv', task.metrics, mean, y, n));
      return out;
    },
    decode(output: ArrayLike<number>, state: TaskState): VolatilityOutput {
      checkOutputRow(output, 1, id);
      const s = parseState(stateSchema, state, id);
      const expected = Math.exp(output[0]! + s.centre);
      return { expected, percentile: percentileFromGrid(s.volQuantiles, expected) };
    },
  };
  return task;
}

export const volatilityTaskFactory: TaskFactory<VolatilityConfig> = {
  id: 'volatility',
  description: 'forward realised volatility in log space; MSE, QLIKE; EWMA and GARCH(1,1) baselines',
  configSchema: volatilityConfigSchema,
  create: createVolatilityTask,
};

export function volatilityTask(config?: unknown): Task<VolatilityOutput> {
  return createVolatilityTask(parseTaskConfig(volatilityConfigSchema, config, 'volatility'));
}
