/**
 * risk: low / medium / high for the forward window (t, t+h], from its maximum drawdown (see
 * forwardDrawdown) and realised volatility. Each is graded against its training quantiles
 * (default 0.5 and 0.85): below the first = 0, between = 1, above the second = 2; the level is the
 * worse of the two grades. Loss: softmax cross-entropy (optionally class-weighted).
 * Source design: "Risk Assessment (Classification: 3 classes) Low / Medium / High risk".
 */
import { RISK_LEVELS, sliceColumns, type CandleColumns, type RiskLevel, type RiskOutput } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { checkCandles, checkRows, checkTrainEnd } from '../candles.js';
import { classWeightingSchema, gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { balancedWeights, classCounts, forwardDrawdown, forwardRealisedVol, oneBarReturns, windowRealisedVol } from '../forward.js';
import { quantileSorted } from '@task-agnostic/core';
import { argmax, majorityBaseline, persistenceBaseline, softmaxClassifier } from '../classification.js';
import { parseState } from '../state.js';
import type { BaselineReport, Task, TaskFactory, TaskLabels, TaskState } from '../task.js';

export const riskConfigSchema = z
  .object({
    horizon: horizonSchema(24),
    /** Training quantiles separating low | medium | high (our choice; the source design gives no numbers). */
    quantiles: z
      .tuple([z.number().gt(0).lt(1), z.number().gt(0).lt(1)])
      .default([0.5, 0.85])
      .refine(([a, b]) => a < b, 'quantiles: the first must be below the second'),
    classWeighting: classWeightingSchema,
  })
  .strict();
export type RiskConfig = z.infer<typeof riskConfigSchema>;

const cuts = z.tuple([z.number(), z.number()]);
const stateSchema = z.object({
  task: z.literal('risk'),
  horizon: z.number().int().positive(),
  drawdownCuts: cuts,
  volCuts: cuts,
  classCounts: z.array(z.number()).length(3),
  classWeights: z.array(z.number().positive()).length(3),
});

const K = RISK_LEVELS.length;

function grade(v: number, c: readonly [number, number]): number {
  return v > c[1] ? 2 : v > c[0] ? 1 : 0;
}

/** Risk class: the worse of the drawdown grade and the volatility grade. */
export function riskLevel(drawdown: number, vol: number, drawdownCuts: readonly [number, number], volCuts: readonly [number, number]): number {
  return Math.max(grade(drawdown, drawdownCuts), grade(vol, volCuts));
}

export function createRiskTask(config: RiskConfig): Task<RiskOutput> {
  const h = config.horizon;
  const id = 'risk';

  function labelsWith(candles: CandleColumns, dd: readonly [number, number], vc: readonly [number, number]): TaskLabels {
    checkCandles(candles, ['close', 'high', 'low']);
    const n = candles.length;
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    const r = oneBarReturns(candles.close, n);
    for (let t = 0; t + h < n; t++) {
      targets[t] = riskLevel(forwardDrawdown(candles.close, candles.high, candles.low, t, h), windowRealisedVol(r, t, h), dd, vc);
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const clf = softmaxClassifier(id, RISK_LEVELS, (state) =>
    config.classWeighting === 'balanced' ? parseState(stateSchema, state, id).classWeights : undefined,
  );
  const task: Task<RiskOutput> = {
    id,
    kind: 'classification',
    classes: RISK_LEVELS,
    horizon: h,
    outputDim: K,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close', 'high', 'low']);
      checkTrainEnd(trainEnd, candles.length, h + 2);
      const train = sliceColumns(candles, 0, trainEnd);
      const rows = trainEnd - h;
      const dd = new Float64Array(rows);
      const rv = new Float64Array(rows);
      for (let t = 0; t < rows; t++) {
        dd[t] = forwardDrawdown(train.close, train.high, train.low, t, h);
        rv[t] = forwardRealisedVol(train.close, t, h);
      }
      dd.sort();
      rv.sort();
      const [qa, qb] = config.quantiles;
      const drawdownCuts: [number, number] = [quantileSorted(dd, qa), quantileSorted(dd, qb)];
      const volCuts: [number, number] = [quantileSorted(rv, qa), quantileSorted(rv, qb)];
      const l = labelsWith(train, drawdownCuts, volCuts);
      const counts = classCounts(l.targets, l.valid, K, trainEnd);
      return { task: 'risk', horizon: h, drawdownCuts, volCuts, classCounts: counts, classWeights: balancedWeights(counts) };
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      const s = parseState(stateSchema, state, id);
      return labelsWith(candles, s.drawdownCuts, s.volCuts);
    },
    buildHead: clf.buildHead,
    loss: clf.loss,
    metrics: clf.metrics,
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles, s.drawdownCuts, s.volCuts);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      return [
        majorityBaseline(task.metrics, s.classCounts, y, n),
        persistenceBaseline(task.metrics, l.targets, rows, h, s.classCounts, y, 'the risk level of the trailing window (t-h, t]'),
      ];
    },
    decode(output: ArrayLike<number>): RiskOutput {
      const p = clf.probabilities(output);
      const probs = Object.fromEntries(RISK_LEVELS.map((r, j) => [r, p[j]!])) as Record<RiskLevel, number>;
      return { level: RISK_LEVELS[argmax(p)]!, probs };
    },
  };
  return task;
}

export const riskTaskFactory: TaskFactory<RiskConfig> = {
  id: 'risk',
  description: 'low / medium / high from forward drawdown and volatility against training quantiles',
  configSchema: riskConfigSchema,
  create: createRiskTask,
};

export function riskTask(config?: unknown): Task<RiskOutput> {
  return createRiskTask(parseTaskConfig(riskConfigSchema, config, 'risk'));
}
