/**
 * Task answers fused from the model's own heads (see @task-agnostic/heads head-fusion): fitted on
 * the validation split only, chosen by cross-fitting against the fused task head's baseline blend
 * (or the head alone) on the same folds, stored on the model (model.fusions, in the artifact) and
 * applied wherever the model's forecasts are scored (evaluateTest here, the trainer's lso and
 * out-of-sample evaluations through fuseTaskRows, the model's predictCandles and the streaming
 * predictor through model.forecastRaw). When chosen a fusion replaces its task's blend.
 *
 * Two fusions are planned (FUSION_PLANS): risk (the risk head, the volatility head's forecast and
 * trailing vol against the risk vol cuts, persistence) and regime (the same against the regime's own
 * vol cuts, plus the direction head's logits and the trailing regime window's trend z and ln rv).
 */
import { ConfigError } from '@task-agnostic/core';
import { fitHeadFusion, gatherTargets, headFusionFeatureNames, headFusionFeatures, taskClasses, trailingWindowStats, type BlendRule, type HeadFusionSpec } from '@task-agnostic/heads';
import { fuseTaskRows, fusionField, type HeadFusionData, type TaskAgnosticModel } from '@task-agnostic/model';
import type { TaskStateLike, TrainableTask } from './contracts.js';
import type { MultiTaskDataset } from './dataset.js';
import type { MultiTaskSplit } from './split.js';
import { blendScore, seriesRows, type BlendReport } from './baseline-blend.js';

type BaselineList = ReturnType<NonNullable<TrainableTask['baseline']>>;
type Candles = Parameters<NonNullable<TrainableTask['baseline']>>[0];

/** A task's 'persistence' baseline on rows with labels (what the fusion fits read on validation). */
function persistenceOf(task: Pick<TrainableTask, 'id' | 'baseline'>, candles: Candles, state: TaskStateLike, rows: ArrayLike<number>, fusedTask: string): Float32Array {
  const list = task.baseline ? task.baseline(candles, state, rows) : [];
  const p = list.find((b) => b.name === 'persistence')?.outputs;
  if (!p) throw new ConfigError(`the ${fusedTask} fusion reads the 'persistence' baseline of '${task.id}', which this task does not have`, fusionField(fusedTask));
  return p;
}

/** A task's class names, or their indices (the heads package's taskClasses, re-exported for this package's callers). */
export { taskClasses };

/**
 * The fused logits on one series' rows (the model package's fuseTaskRows: the one implementation the
 * model's own forecasts use too), re-exported with its types for this package's callers.
 */
export { fuseTaskRows, type FusionRowOutputs } from '@task-agnostic/model';

/**
 * The risk fusion on one series' rows (fuseTaskRows for a fusion reading only the risk and volatility
 * heads): `riskRaw` the risk head's raw logits [rows x 3], `volForecast` the volatility head's
 * calibrated forecast [rows].
 */
export function fuseRiskRows(
  fusion: HeadFusionData,
  riskTask: Pick<TrainableTask, 'id' | 'baseline' | 'horizon'>,
  volTask: Pick<TrainableTask, 'id' | 'baseline' | 'horizon'>,
  riskRaw: ArrayLike<number>,
  volForecast: ArrayLike<number>,
  candles: Candles,
  riskState: TaskStateLike,
  volState: TaskStateLike,
  rows: ArrayLike<number>,
  riskBaselines?: BaselineList,
): Float32Array {
  const tasks = [
    { ...riskTask, outputDim: 3, classes: ['low', 'medium', 'high'] },
    { ...volTask, outputDim: 1 },
  ];
  return fuseTaskRows(fusion, tasks, { headRaw: riskRaw, volForecast }, candles, (id) => (id === riskTask.id ? riskState : volState), rows, riskBaselines);
}

/** One candidate feature set of a fusion plan. */
export interface FusionVariant {
  /** Feed the fused task's head logits (default true). */
  readonly head?: boolean;
  /** Feed the direction head's logits (when the plan names a direction task that the model has). */
  readonly direction?: boolean;
  /** Feed the trailing window of the fused task's own horizon (its trend z and ln rv). */
  readonly trailingWindow?: boolean;
  /** Fit this candidate by class-balanced cross-entropy (default: the plan's `balanced`). */
  readonly balanced?: boolean;
}

/** What a fusion of one task reads (its plan before fitting). */
export interface FusionPlan {
  readonly task: string;
  readonly volatilityTask: string;
  /** The direction task a variant may read (a classification head of the model). */
  readonly directionTask?: string;
  /** Fitted by class-balanced cross-entropy (as the blends' stacks; default: plain). */
  readonly balanced?: boolean;
  /**
   * The candidate feature sets (default one: the head, the vol inputs and persistence). Each is
   * cross-fitted on the same folds; the best out of fold is the fusion compared with the blend.
   */
  readonly variants?: readonly FusionVariant[];
}

/**
 * The fusions calibrate fits: risk with its first inputs, with and without the direction head's
 * logits (the risk label's drawdown grade depends on the path's direction), each fitted by plain and
 * by class-balanced cross-entropy (the head under-predicts 'high', the rarest class; balancing fits
 * the rare classes' boundaries as much as the common ones, as the regime plan's balanced candidates
 * did: 0.3014 against 0.2870 out of fold on universal2); regime, class-balanced, with three candidate feature sets (all
 * inputs; without the direction head; without the regime head's own logits).
 */
export const FUSION_PLANS: readonly FusionPlan[] = [
  {
    task: 'risk',
    volatilityTask: 'volatility',
    directionTask: 'direction',
    variants: [{}, { balanced: true }, { direction: true }, { direction: true, balanced: true }],
  },
  {
    task: 'regime',
    volatilityTask: 'volatility',
    directionTask: 'direction',
    balanced: true,
    variants: [
      { head: true, direction: true, trailingWindow: true },
      { head: true, trailingWindow: true },
      { head: false, trailingWindow: true },
    ],
  },
];

export interface FusionReport {
  /** The fused task. */
  readonly task: string;
  readonly chosen: boolean;
  readonly fitRows: number;
  readonly folds: number;
  /** Out-of-fold validation score (macro-F1) over the same rows and folds: the head alone, the task's blend as chosen (its best), the fusion. */
  readonly heldOut: { readonly model: number; readonly blend: number; readonly fusion: number };
  /**
   * With the rule 'best' (and the blend scored on the same folds): the mean fold score of the blend's
   * best candidate and of the fusion, which decided; absent when the pooled scores decided.
   */
  readonly foldMean?: { readonly blend: number; readonly fusion: number };
  /** Per fold: the head alone and the fusion out of fold on that fold's rows. */
  readonly foldScores: readonly { readonly model: number; readonly fusion: number }[];
  /** Every candidate feature set's out-of-fold score (the fusion is the best; NaN when not fitted). */
  readonly candidates: readonly { readonly features: number; readonly head: boolean; readonly direction: boolean; readonly trailingBars: number | null; readonly balanced: boolean; readonly fusion: number }[];
  /** The fusion fitted on all the validation rows (set on the model only when chosen); null when it could not be fitted. */
  readonly fusion: HeadFusionData | null;
  readonly warning?: string;
}

/** @deprecated the risk instance of FusionReport. */
export type RiskFusionReport = FusionReport;

/** The features [split.n x F] of `spec` on the split's rows, series by series (each with its own task states). */
function variantFeatures(spec: HeadFusionSpec, model: TaskAgnosticModel, ds: MultiTaskDataset, split: MultiTaskSplit, raw: readonly Float32Array[], forecasts: readonly Float32Array[], fi: number, vi: number, di: number): Float64Array {
  const tasks = model.tasks as unknown as TrainableTask[];
  const ft = tasks[fi]!;
  const vt = tasks[vi]!;
  const K = ft.outputDim;
  const F = headFusionFeatureNames(spec).length;
  const X = new Float64Array(split.n * F);
  for (const [k, { idx, rows }] of seriesRows(split, ds.series.length).entries()) {
    if (idx.length === 0) continue;
    const s = ds.series[k]!;
    const states = ds.symbolTaskStates?.[s.symbol];
    const fs = states?.[fi] ?? model.taskStates.get(ft.id)!;
    const vs = states?.[vi] ?? model.taskStates.get(vt.id)!;
    const f = headFusionFeatures(
      spec,
      {
        headLogits: gatherTargets(raw[fi]!, K, idx),
        persistence: persistenceOf(ft, s.candles, fs, rows, ft.id),
        volForecast: Float32Array.from(idx, (r) => forecasts[vi]![r * vt.outputDim]!),
        trailingVol: persistenceOf(vt, s.candles, vs, rows, ft.id),
        volCentre: (vs as Record<string, unknown>).centre as number,
        volCuts: (fs as Record<string, unknown>).volCuts as [number, number],
        ...(spec.directionClasses ? { directionLogits: gatherTargets(raw[di]!, tasks[di]!.outputDim, idx) } : {}),
        ...(spec.trailingBars !== undefined ? { trailing: trailingWindowStats(s.candles.close, rows, spec.trailingBars) } : {}),
      },
      idx.length,
    );
    idx.forEach((r, j) => X.set(f.subarray(j * F, (j + 1) * F), r * F));
  }
  return X;
}

/**
 * Fits the fusion `plan` on `split` (validation windows of `ds.series`) from the heads' raw outputs
 * (`raw`) and the calibrated volatility forecast (`forecasts`, regression heads calibrated), scores
 * it out of fold on `folds`, and sets it on the model when it beats the task's blend choice (its best
 * out-of-fold score in `blends`, or the head alone; pooled, or with `rule` 'best' the mean fold score) on the same rows; the task's blend is then
 * removed. Null when the model lacks the plan's classification task (with vol cuts in its state) or
 * regression volatility head.
 */
export function fitFusionOnSplit(
  model: TaskAgnosticModel,
  ds: MultiTaskDataset,
  split: MultiTaskSplit,
  raw: readonly Float32Array[],
  forecasts: readonly Float32Array[],
  folds: ArrayLike<number> | undefined,
  blends: BlendReport | undefined,
  plan: FusionPlan,
  /** Prior-shift class weights by task id (class-mix.ts): the plain fits' row weights and the weighted metric of the offsets and folds. */
  classWeights: Readonly<Record<string, readonly number[]>> = {},
  /**
   * How the fusion is weighed against the task's blend: 'oneSe' (default) compares pooled out-of-fold
   * scores with the blend's best candidate; 'best' compares mean fold scores, the criterion the blends'
   * rule 'best' picks by, so the deployed layer is the best of all candidates by one measure.
   */
  rule: BlendRule = 'oneSe',
): FusionReport | null {
  const tasks = model.tasks as unknown as TrainableTask[];
  const fi = tasks.findIndex((t) => t.id === plan.task);
  const vi = tasks.findIndex((t) => t.id === plan.volatilityTask);
  const di = plan.directionTask === undefined ? -1 : tasks.findIndex((t) => t.id === plan.directionTask && t.kind === 'classification');
  model.clearFusion(plan.task);
  if (fi < 0 || vi < 0 || tasks[fi]!.kind !== 'classification' || tasks[vi]!.kind !== 'regression' || !split.endRows || split.n === 0) return null;
  const ft = tasks[fi]!;
  const vt = tasks[vi]!;
  const dt = di >= 0 ? tasks[di]! : undefined;
  const K = ft.outputDim;
  if (!Array.isArray((model.taskStates.get(ft.id) as Record<string, unknown>).volCuts)) return null;
  const horizon = (model.taskStates.get(ft.id) as Record<string, unknown>).horizon;
  const y = split.targets[fi]!;
  const candidates: FusionReport['candidates'][number][] = [];
  let best: { fit: ReturnType<typeof fitHeadFusion>; spec: HeadFusionSpec } | null = null;
  for (const v of plan.variants ?? [{}]) {
    // a candidate that reads the direction head needs the model to have one (else it would repeat another candidate)
    if (v.direction === true && dt === undefined) continue;
    const trailingBars = v.trailingWindow ? (typeof horizon === 'number' ? horizon : ft.horizon) : undefined;
    const useDir = v.direction === true && dt !== undefined;
    const balanced = (v.balanced ?? plan.balanced) === true;
    const spec: HeadFusionSpec = {
      task: ft.id,
      classes: taskClasses(ft),
      ...(useDir ? { directionClasses: taskClasses(dt) } : {}),
      ...(trailingBars !== undefined ? { trailingBars } : {}),
      ...(v.head === false ? { head: false } : {}),
    };
    const cw = classWeights[ft.id];
    const fit = fitHeadFusion(headFusionFeatureNames(spec), variantFeatures(spec, model, ds, split, raw, forecasts, fi, vi, di), y, raw[fi]!, split.n, K, blendScore(ft, cw), folds, { taskName: ft.id, balanced, ...(cw ? { classWeights: cw } : {}) });
    candidates.push({ features: headFusionFeatureNames(spec).length, head: v.head !== false, direction: useDir, trailingBars: trailingBars ?? null, balanced, fusion: fit.heldOut.fusion });
    if (!best || (fit.fusion && (!best.fit.fusion || fit.heldOut.fusion > best.fit.heldOut.fusion))) best = { fit, spec };
  }
  const { fit, spec } = best!;
  const head = blends?.heads.find((h) => h.task === ft.id);
  const h = head?.selection.heldOut;
  // the best out-of-fold score among the task blend's candidates (the head alone, persistence, the stack, the tuned stack)
  const blendBest = h ? Math.max(...[h.model, h.baseline, h.combined, h.tuned ?? Number.NaN].filter((v) => Number.isFinite(v))) : fit.heldOut.model;
  const heldOut = { model: fit.heldOut.model, blend: blendBest, fusion: fit.heldOut.fusion };
  // rule 'best': mean fold scores over the same folds (the blend's candidates were all scored on every fold)
  const o = head?.selection.oneSe;
  const bestMean = o?.byCandidate[o.best]?.mean;
  const comparable = rule === 'best' && o !== undefined && bestMean !== undefined && o.folds === fit.foldScores.length && fit.foldScores.every((f) => Number.isFinite(f.fusion));
  const foldMean = comparable ? { blend: bestMean, fusion: fit.foldScores.reduce((a, f) => a + f.fusion, 0) / fit.foldScores.length } : undefined;
  const base = {
    task: ft.id,
    fitRows: fit.n,
    folds: fit.folds,
    heldOut,
    ...(foldMean ? { foldMean } : {}),
    foldScores: fit.foldScores,
    candidates,
    ...(fit.warning ? { warning: fit.warning } : {}),
  };
  if (!fit.fusion) return { chosen: false, ...base, fusion: null };
  const fusion: HeadFusionData = {
    task: ft.id,
    volatilityTask: vt.id,
    ...(spec.directionClasses ? { directionTask: dt!.id } : {}),
    ...(spec.trailingBars !== undefined ? { trailingBars: spec.trailingBars } : {}),
    ...(spec.head === false ? { head: false } : {}),
    features: [...fit.fusion.features],
    weights: [...fit.fusion.weights],
    offsets: [...fit.fusion.offsets],
  };
  if (!(foldMean ? foldMean.fusion > foldMean.blend : fit.heldOut.fusion > blendBest)) return { chosen: false, ...base, fusion };
  model.setFusion(fusion);
  // the fusion replaces the task's blend (it reads persistence itself)
  model.setBlends(Object.fromEntries([...model.blends].filter(([id]) => id !== ft.id)));
  return { chosen: true, ...base, fusion };
}

/** fitFusionOnSplit for the risk plan (FUSION_PLANS[0]): the same arguments but the plan (and the class weights). */
export function fitRiskFusionOnSplit(...args: Parameters<typeof fitFusionOnSplit> extends [...infer A, FusionPlan, unknown?, unknown?] ? A : never): FusionReport | null {
  return fitFusionOnSplit(...args, FUSION_PLANS[0]!);
}
