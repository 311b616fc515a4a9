/**
 * regime: five regimes (REGIMES order: bull, bear, sideways, high_volatility, low_volatility) of the
 * forward window (t, t+h]. Two labellers:
 * - 'rules' (default): rv = forward realised vol, z = forward trend t-statistic sum r / sqrt(sum r^2);
 *   high_volatility if rv >= the training q_high quantile of rv; else bull if z > trendZ, bear if
 *   z < -trendZ; else low_volatility if rv <= the training q_low quantile; else sideways.
 * - 'hmm': the source design's "HMM clustering on return/volatility" (see regime-hmm.ts): a Gaussian
 *   HMM fitted by Baum-Welch on the training rows' forward-window observations, states mapped to
 *   regimes by their means; label = most probable regime of the row's own observation.
 * Loss: softmax cross-entropy (optionally class-weighted).
 */
import { REGIMES, sliceColumns, type CandleColumns, type Regime, type RegimeOutput } from '@task-agnostic/core';
import { DataError, quantileSorted } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { checkCandles, checkRows, checkTrainEnd } from '../candles.js';
import { classWeightingSchema, gatherTargets, horizonSchema, parseTaskConfig } from '../config.js';
import { balancedWeights, classCounts, oneBarReturns, windowRealisedVol, windowTrendZ } from '../forward.js';
import { argmax, majorityBaseline, persistenceBaseline, softmaxClassifier } from '../classification.js';
import { fitRegimeHmm, regimeObservations, regimeProbabilities, type RegimeHmmState } from '../regime-hmm.js';
import { parseState } from '../state.js';
import type { BaselineReport, Task, TaskFactory, TaskLabels, TaskState } from '../task.js';

export const regimeConfigSchema = z
  .object({
    /** Bars of the forward window; regimes last longer than a day (64 1h bars). */
    horizon: horizonSchema(64),
    labeller: z.enum(['rules', 'hmm']).default('rules'),
    /** |z| above this is a trend (z ~ N(0, 1) for a driftless walk). */
    trendZ: z.number().positive().default(1),
    /** Training quantiles of forward realised vol below / above which a window is low / high volatility. */
    volQuantiles: z
      .tuple([z.number().gt(0).lt(1), z.number().gt(0).lt(1)])
      .default([0.2, 0.8])
      .refine(([a, b]) => a < b, 'volQuantiles: the first must be below the second'),
    /** Central bars of the HMM's short volatility observation. */
    shortBars: z.number().int().min(1).default(8),
    hmmRestarts: z.number().int().min(1).max(20).default(3),
    hmmMaxIterations: z.number().int().min(1).max(1000).default(100),
    hmmSeed: z.number().int().default(0),
    classWeighting: classWeightingSchema,
  })
  .strict();
export type RegimeConfig = z.infer<typeof regimeConfigSchema>;

const numArr = z.array(z.number());
const hmmSchema = z.object({
  model: z.object({ states: z.number().int().refine((v) => v === 5, 'must be 5'), dim: z.number().int().refine((v) => v === 3, 'must be 3'), initial: numArr, transition: z.array(numArr), means: z.array(numArr), variances: z.array(z.array(z.number().positive())) }),
  stateToRegime: z.array(z.number().int().min(0).max(4)).length(5),
  prior: numArr.length(5),
  logLikelihood: z.number(),
});
const stateSchema = z.object({
  task: z.literal('regime'),
  horizon: z.number().int().positive(),
  labeller: z.enum(['rules', 'hmm']),
  trendZ: z.number().positive(),
  volCuts: z.tuple([z.number(), z.number()]),
  hmm: hmmSchema.nullable(),
  classCounts: numArr.length(5),
  classWeights: numArr.length(5),
});

const K = REGIMES.length;
const [BULL, BEAR, SIDEWAYS, HIGH, LOW] = [0, 1, 2, 3, 4];

/** The rule labeller (see the file comment). */
export function ruleRegime(zStat: number, rv: number, volCuts: readonly [number, number], trendZ: number): number {
  if (rv >= volCuts[1]) return HIGH;
  if (zStat > trendZ) return BULL;
  if (zStat < -trendZ) return BEAR;
  if (rv <= volCuts[0]) return LOW;
  return SIDEWAYS;
}

export function createRegimeTask(config: RegimeConfig): Task<RegimeOutput> {
  const h = config.horizon;
  const id = 'regime';

  function labelsWith(candles: CandleColumns, s: { labeller: 'rules' | 'hmm'; trendZ: number; volCuts: [number, number]; hmm: RegimeHmmState | null }): TaskLabels {
    checkCandles(candles, ['close', 'high', 'low']);
    const n = candles.length;
    const obs = s.labeller === 'hmm' ? regimeObservations(candles, h, config.shortBars) : null;
    const r = s.labeller === 'hmm' ? null : oneBarReturns(candles.close, n);
    const targets = new Float32Array(n);
    const valid = new Uint8Array(n);
    const probs = new Float64Array(K);
    for (let t = 0; t + h < n; t++) {
      if (s.labeller === 'hmm') {
        regimeProbabilities(s.hmm as RegimeHmmState, obs!, t, probs);
        let best = 0;
        for (let j = 1; j < K; j++) if (probs[j]! > probs[best]!) best = j;
        targets[t] = best;
      } else {
        targets[t] = ruleRegime(windowTrendZ(r!, t, h), windowRealisedVol(r!, t, h), s.volCuts, s.trendZ);
      }
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  }

  const clf = softmaxClassifier(id, REGIMES, (state) =>
    config.classWeighting === 'balanced' ? parseState(stateSchema, state, id).classWeights : undefined,
  );
  const task: Task<RegimeOutput> = {
    id,
    kind: 'classification',
    classes: REGIMES,
    horizon: h,
    outputDim: K,
    targetDim: 1,
    config,
    fit(candles: CandleColumns, trainEnd: number): TaskState {
      checkCandles(candles, ['close', 'high', 'low']);
      checkTrainEnd(trainEnd, candles.length, h + 2);
      const train = sliceColumns(candles, 0, trainEnd);
      const rows = trainEnd - h;
      const rv = new Float64Array(rows);
      const r = oneBarReturns(train.close, trainEnd);
      for (let t = 0; t < rows; t++) rv[t] = windowRealisedVol(r, t, h);
      rv.sort();
      const volCuts: [number, number] = [quantileSorted(rv, config.volQuantiles[0]), quantileSorted(rv, config.volQuantiles[1])];
      let hmm: RegimeHmmState | null = null;
      if (config.labeller === 'hmm') {
        if (rows < 50) throw new DataError(`regime (hmm): need at least 50 training rows with a full window, got ${rows}`);
        const obs = regimeObservations(train, h, config.shortBars);
        hmm = fitRegimeHmm(obs, rows, { restarts: config.hmmRestarts, maxIterations: config.hmmMaxIterations, seed: config.hmmSeed });
      }
      const partial = { labeller: config.labeller, trendZ: config.trendZ, volCuts, hmm };
      const l = labelsWith(train, partial);
      const counts = classCounts(l.targets, l.valid, K, trainEnd);
      const state = { task: 'regime', horizon: h, ...partial, classCounts: counts, classWeights: balancedWeights(counts) };
      return JSON.parse(JSON.stringify(state)) as TaskState;
    },
    labels(candles: CandleColumns, state: TaskState): TaskLabels {
      return labelsWith(candles, parseState(stateSchema, state, id));
    },
    buildHead: clf.buildHead,
    loss: clf.loss,
    metrics: clf.metrics,
    baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[] {
      const s = parseState(stateSchema, state, id);
      const l = labelsWith(candles, s);
      checkRows(rows, l.valid);
      const n = rows.length;
      const y = gatherTargets(l.targets, 1, rows);
      return [
        majorityBaseline(task.metrics, s.classCounts, y, n),
        persistenceBaseline(task.metrics, l.targets, rows, h, s.classCounts, y, 'the regime of the trailing window (t-h, t]'),
      ];
    },
    decode(output: ArrayLike<number>): RegimeOutput {
      const p = clf.probabilities(output);
      const best = argmax(p);
      const probs = Object.fromEntries(REGIMES.map((r, j) => [r, p[j]!])) as Record<Regime, number>;
      return { label: REGIMES[best]!, probs, confidence: p[best]! };
    },
  };
  return task;
}

export const regimeTaskFactory: TaskFactory<RegimeConfig> = {
  id: 'regime',
  description: 'five regimes of the forward window, by rules or by a Gaussian HMM on return/volatility',
  configSchema: regimeConfigSchema,
  create: createRegimeTask,
};

export function regimeTask(config?: unknown): Task<RegimeOutput> {
  return createRegimeTask(parseTaskConfig(regimeConfigSchema, config, 'regime'));
}
