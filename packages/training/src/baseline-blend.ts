/**
 * Each head combined with its task's best naive baseline, fitted on the validation split only
 * (see @task-agnostic/heads baseline-blend): the baseline is the one with the best pooled validation
 * metric (macro-F1 for classifiers, MSE for regressions), the combination (a stacked classifier or a
 * convex blend of point forecasts) is chosen against the head alone and the baseline alone by
 * cross-fitting over spans of calendar time. Stored on the model (model.blends, in the artifact) and
 * applied wherever the model's forecasts are scored: evaluateTest here, the trainer's lso and
 * out-of-sample evaluations through applyTaskBlend. The baseline of row t reads bars <= t only.
 */
import type { CandleColumns } from '@task-agnostic/core';
import { ConfigError } from '@task-agnostic/core';
import { applyBlend, fitBlend, isUnitWeights, weightedMacroF1, type BlendForm, type BlendRule, type BlendSelection } from '@task-agnostic/heads';
import type { HeadBlend, TaskAgnosticModel } from '@task-agnostic/model';
import type { TaskStateLike, TrainableTask } from './contracts.js';
import type { MultiTaskDataset } from './dataset.js';
import type { MultiTaskSplit } from './split.js';

type BaselineList = ReturnType<NonNullable<TrainableTask['baseline']>>;

/**
 * The metric a blend is chosen on: the task's primary metric, as higher-is-better. With class weights
 * (a classifier's prior-shift weights, class-mix.ts), the macro-F1 of the weighted confusion matrix:
 * the macro-F1 expected under the class mix the weights reweight to.
 */
export function blendScore(task: Pick<TrainableTask, 'kind' | 'metrics' | 'outputDim'>, classWeights?: readonly number[]): (outputs: Float32Array, targets: Float32Array, n: number) => number {
  if (task.kind === 'classification' && classWeights && !isUnitWeights(classWeights)) {
    if (task.outputDim < 2) throw new ConfigError(`class weights for a one-logit classifier: its blend metric reads softmax classes`, 'classMix');
    return (o, y, n) => weightedMacroF1(o, y, n, task.outputDim, classWeights);
  }
  return task.kind === 'classification' ? (o, y, n) => task.metrics(o, y, n).macroF1 ?? Number.NaN : (o, y, n) => -(task.metrics(o, y, n).mse ?? Number.NaN);
}

/** How a head's outputs are blended: softmax classes, or a regression's point forecast; null when it has no blend (one-logit classifiers). */
export function blendFormOf(task: Pick<TrainableTask, 'kind' | 'outputDim'>): BlendForm | null {
  if (task.kind === 'classification') return task.outputDim > 1 ? 'classes' : null;
  return 'point';
}

/**
 * A head's outputs [n, outputDim] on candle rows `rows` of one series after its blend: the named
 * baseline is computed on the same rows with the series' task state (or taken from `baselines`,
 * the task's baseline() on those rows, when the caller has it). No blend, or 'model': the outputs as they are.
 */
export function applyTaskBlend(
  task: Pick<TrainableTask, 'id' | 'kind' | 'outputDim' | 'baseline'>,
  blend: HeadBlend | undefined,
  outputs: Float32Array,
  candles: CandleColumns,
  state: TaskStateLike,
  rows: ArrayLike<number>,
  baselines?: BaselineList,
): Float32Array {
  if (!blend || blend.method === 'model') return outputs;
  const form = blendFormOf(task);
  if (!form || !task.baseline) throw new ConfigError(`the model has a baseline blend for '${task.id}', whose head has no baseline to blend with`, `blends.${task.id}`);
  const list = baselines ?? task.baseline(candles, state, rows);
  const b = list.find((x) => x.name === blend.baseline);
  if (!b?.outputs) throw new ConfigError(`the blend of '${task.id}' reads the baseline '${blend.baseline}', which this task does not have (it has ${list.map((x) => x.name).join(', ')})`, `blends.${task.id}`);
  return applyBlend(blend, form, outputs, b.outputs, rows.length, task.outputDim);
}

/** Each series' rows of a split: the split row indices and the candle rows (end of each window). */
export function seriesRows(split: MultiTaskSplit, seriesCount: number): { idx: number[]; rows: number[] }[] {
  const out = Array.from({ length: seriesCount }, () => ({ idx: [] as number[], rows: [] as number[] }));
  for (let r = 0; r < split.n; r++) {
    const k = split.seriesIds ? split.seriesIds[r]! : 0;
    out[k]!.idx.push(r);
    out[k]!.rows.push(split.endRows![r]!);
  }
  return out;
}

export interface HeadBlendReport {
  readonly task: string;
  readonly baseline: string;
  readonly method: HeadBlend['method'];
  readonly modelWeight: number;
  readonly baselineWeight: number;
  readonly offsets: readonly number[];
  /** Validation rows it was fitted on. */
  readonly fitRows: number;
  /** The pooled validation metric of every baseline (the best one is blended with). */
  readonly baselines: Readonly<Record<string, number>>;
  readonly selection: BlendSelection;
  readonly warning?: string;
}

export interface BlendReport {
  readonly split: 'validation';
  readonly heads: readonly HeadBlendReport[];
  readonly warnings: readonly string[];
}

/**
 * Fits every head's blend on `split` (validation windows of `ds.series`), given the heads' forecast
 * outputs there (regression heads after their calibration, classifiers raw: what evaluateTest
 * scores), sets them on the model and returns what was chosen and why. `folds`: the fold of every
 * row for the cross-fitted choice (timeFolds: spans of calendar time).
 */
export function fitBlends(
  model: TaskAgnosticModel,
  ds: MultiTaskDataset,
  split: MultiTaskSplit,
  outputs: readonly Float32Array[],
  folds?: ArrayLike<number>,
  /** Prior-shift class weights by task id (class-mix.ts): they weigh the metric that picks the baseline, tunes the offsets and scores the folds. */
  classWeights: Readonly<Record<string, readonly number[]>> = {},
  /** The cross-fitted choice's rule (heads' BlendRule; default 'oneSe'). */
  rule: BlendRule = 'oneSe',
): BlendReport {
  const warnings: string[] = [];
  const tasks = model.tasks as unknown as TrainableTask[];
  const blends: Record<string, HeadBlend> = {};
  const heads: HeadBlendReport[] = [];
  if (split.n === 0 || !split.endRows) {
    model.setBlends({});
    return { split: 'validation', heads, warnings: ['the validation split has no rows: no baseline blends (the heads alone)'] };
  }
  const bySeries = seriesRows(split, ds.series.length);
  tasks.forEach((t, i) => {
    const form = blendFormOf(t);
    if (!form || !t.baseline) return;
    const dim = t.outputDim;
    // every baseline of the task on the validation rows, stitched back into split order
    const stitched = new Map<string, Float32Array>();
    bySeries.forEach(({ idx, rows }, k) => {
      if (idx.length === 0) return;
      const s = ds.series[k]!;
      const state = ds.symbolTaskStates?.[s.symbol]?.[i] ?? model.taskStates.get(t.id)!;
      for (const b of t.baseline!(s.candles, state, rows)) {
        if (!b.outputs) continue;
        let a = stitched.get(b.name);
        if (!a) stitched.set(b.name, (a = new Float32Array(split.n * dim)));
        idx.forEach((r, j) => a!.set(b.outputs!.subarray(j * dim, (j + 1) * dim), r * dim));
      }
    });
    const score = blendScore(t, classWeights[t.id]);
    const y = split.targets[i]!;
    const scores: Record<string, number> = {};
    let best: string | null = null;
    for (const [name, a] of stitched) {
      scores[name] = score(a, y, split.n);
      if (Number.isFinite(scores[name]) && (best === null || scores[name]! > scores[best]!)) best = name;
    }
    if (best === null) return;
    const fit = fitBlend(best, form, outputs[i]!, stitched.get(best)!, y, split.n, dim, split.targetDims[i]!, score, { rule, ...(folds ? { folds } : {}) });
    if (fit.warning) warnings.push(`'${t.id}': ${fit.warning}`);
    blends[t.id] = { baseline: fit.baseline, method: fit.method, modelWeight: fit.modelWeight, baselineWeight: fit.baselineWeight, offsets: [...fit.offsets] };
    heads.push({
      task: t.id,
      baseline: fit.baseline,
      method: fit.method,
      modelWeight: fit.modelWeight,
      baselineWeight: fit.baselineWeight,
      offsets: [...fit.offsets],
      fitRows: fit.n,
      baselines: scores,
      selection: fit.selection,
      ...(fit.warning ? { warning: fit.warning } : {}),
    });
  });
  model.setBlends(blends);
  return { split: 'validation', heads, warnings };
}
