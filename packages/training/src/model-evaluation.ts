/**
 * Evaluating a TaskAgnosticModel on a dataset outside of training: rebuild the dataset a saved model
 * was trained on (same features, tasks, window length and splits) and score the test split beside
 * each task's naive baselines. `trainer evaluate` / `trainer backtest` use it on a saved artifact.
 */
import { ConfigError } from '@task-agnostic/core';
import { gatherTargets } from '@task-agnostic/heads';
import type { FeatureSetConfig } from '@task-agnostic/features';
import { fusionField, type HeadBlend, type HeadFusionData, type TaskAgnosticModel } from '@task-agnostic/model';
import { applyTaskBlend, seriesRows } from './baseline-blend.js';
import { fuseTaskRows } from './head-fusion.js';
import type { TaskStateLike, TrainableHead, TrainableTask } from './contracts.js';
import { buildDataset, type DatasetConfigInput, type MultiTaskDataset, type SeriesInput, type SplitBoundaries } from './dataset.js';
import { evaluateSplit } from './evaluate.js';
import { featurePipeline } from './features-pipeline.js';
import { defaultComponents } from './model-components.js';
import type { MultiTaskParts } from './step.js';
import type { SeriesEvaluation, TaskEvaluation } from './train-model.js';

/** The model's encoder, tasks, heads and task states as training's parts. */
export function modelParts(model: TaskAgnosticModel): MultiTaskParts {
  const e = model.encoder as unknown as MultiTaskParts['encoder'];
  if (!e || !Array.isArray(e.trainableVariables) || !e.lastSharedWeights) {
    throw new ConfigError('the encoder lacks trainableVariables / lastSharedWeights (the encoders contract)', 'model.encoder');
  }
  const tasks = model.tasks as unknown as TrainableTask[];
  const heads = tasks.map((t) => model.heads.get(t.id)! as TrainableHead);
  const taskStates: TaskStateLike[] = tasks.map((t) => model.taskStates.get(t.id)!);
  return { encoder: e, tasks, heads, taskStates };
}

/** Rebuilds the dataset for a model: its feature set, tasks and window length over `series`. */
export function datasetForModel(
  model: TaskAgnosticModel,
  series: readonly SeriesInput[],
  dataset: Omit<DatasetConfigInput, 'windowLength'> = {},
  boundaries?: readonly SplitBoundaries[],
): MultiTaskDataset {
  const featureConfig = defaultComponents.parseFeatureSetConfig(model.config.features) as FeatureSetConfig;
  return buildDataset(series, model.tasks as unknown as TrainableTask[], featurePipeline(featureConfig), { ...dataset, windowLength: model.windowLength }, boundaries);
}

/** A head's calibration as evaluateTest applies it: out'[j] = scale[j] x out[j] + shift[j]. */
export interface OutputAffine {
  readonly scale: readonly number[];
  readonly shift: readonly number[];
}

/**
 * The calibrations that change a head's point forecast: those of its regression heads (the return
 * head's shrinkage toward the zero forecast, the volatility head's affine level), by task id. A
 * classifier's calibration refits its probabilities for NLL (calibrateModel reports ECE and Brier
 * before and after) and is left out: undoing a class-balanced head's balance moves its argmax
 * toward the majority class and trades macro-F1 for likelihood (measured on the main job's
 * validation split: direction macro-F1 0.395 -> 0.349 under vector scaling).
 */
export function forecastCalibration(model: TaskAgnosticModel): Map<string, OutputAffine> {
  const out = new Map<string, OutputAffine>();
  for (const t of model.tasks) {
    const c = model.calibration.get(t.id);
    if (c && t.kind === 'regression') out.set(t.id, c);
  }
  return out;
}

/**
 * Test-split metrics per task (pooled) and, per symbol, the model beside the task's naive baselines
 * on the same rows. With `calibration` (task id -> the head's calibration, e.g.
 * `forecastCalibration(model)`) those heads' outputs are calibrated first; with `blends` (task id ->
 * the head's baseline blend, `model.blends`) each head is then combined with its baseline, per series;
 * with `fusions` (`model.fusions`, or one fusion) a fused task's answer is its fusion instead.
 */
export function evaluateTest(
  parts: MultiTaskParts,
  ds: MultiTaskDataset,
  batchSize = 256,
  calibration?: ReadonlyMap<string, OutputAffine>,
  blends?: ReadonlyMap<string, HeadBlend>,
  fusions?: HeadFusionData | Iterable<HeadFusionData> | ReadonlyMap<string, HeadFusionData> | null,
): Record<string, TaskEvaluation> {
  const test: Record<string, TaskEvaluation> = {};
  if (ds.test.n === 0) return test;
  const ev = evaluateSplit(parts, ds.test, batchSize);
  const bySeriesRows = seriesRows(ds.test, ds.series.length);
  // a fusion reads the fused and direction heads raw and the volatility head calibrated (before any blend)
  const fusionList = listFusions(fusions);
  const rawCopies = parts.tasks.map((t, i) => (fusionList.some((f) => f.task === t.id || f.directionTask === t.id) ? Float32Array.from(ev.outputs[i]!) : null));
  const volCalibrated = new Map(fusionList.map((f) => [f.task, calibratedCopy(parts, ev.outputs, f.volatilityTask, f.task, calibration)]));
  const indexOf = (id: string): number => parts.tasks.findIndex((t) => t.id === id);
  parts.tasks.forEach((t, i) => {
    const cal = calibration?.get(t.id);
    const o = ev.outputs[i]!;
    const d = t.outputDim;
    if (cal) {
      if (cal.scale.length !== d) throw new ConfigError(`calibration of '${t.id}' has ${cal.scale.length} columns but the head outputs ${d}`, `calibration.${t.id}`);
      for (let r = 0; r < ds.test.n; r++) for (let j = 0; j < d; j++) o[r * d + j] = cal.scale[j]! * o[r * d + j]! + cal.shift[j]!;
    }
    const blend = blends?.get(t.id);
    const bySeries: Record<string, SeriesEvaluation> = {};
    ds.series.forEach((s, k) => {
      const { idx, rows } = bySeriesRows[k]!;
      if (idx.length === 0) return;
      // the baselines read the states the labels were made with (the series' own under taskFit 'perSymbol')
      const state = ds.symbolTaskStates?.[s.symbol]?.[i] ?? parts.taskStates![i]!;
      const baselines = t.baseline ? t.baseline(s.candles, state, rows) : [];
      const fusion = fusionList.find((f) => f.task === t.id);
      const stateOf = (id: string) => ds.symbolTaskStates?.[s.symbol]?.[indexOf(id)] ?? parts.taskStates![indexOf(id)]!;
      const out = fusion
        ? fuseTaskRows(
            fusion,
            parts.tasks,
            {
              headRaw: gatherTargets(rawCopies[i]!, d, idx),
              volForecast: volCalibrated.get(fusion.task)!(idx),
              ...(fusion.directionTask !== undefined ? { directionRaw: gatherTargets(rawCopies[indexOf(fusion.directionTask)]!, parts.tasks[indexOf(fusion.directionTask)]!.outputDim, idx) } : {}),
            },
            s.candles,
            stateOf,
            rows,
            baselines,
          )
        : applyTaskBlend(t, blend, gatherTargets(o, d, idx), s.candles, state, rows, baselines);
      // the blended rows back into the pooled outputs
      idx.forEach((r, j) => o.set(out.subarray(j * d, (j + 1) * d), r * d));
      const y = gatherTargets(ds.test.targets[i]!, ds.test.targetDims[i]!, idx);
      const se: SeriesEvaluation = { metrics: t.metrics(out, y, idx.length), baselines };
      Object.defineProperties(se, { outputs: { value: out }, targets: { value: y }, rows: { value: rows } });
      bySeries[s.symbol] = se;
    });
    if (cal || (blend && blend.method !== 'model') || fusionList.some((f) => f.task === t.id)) ev.metrics[i] = t.metrics(o, ds.test.targets[i]!, ds.test.n);
    test[t.id] = { metrics: ev.metrics[i]!, bySeries };
  });
  return test;
}

/** evaluateTest's `fusions` as a list: none, a map by task (model.fusions), any iterable, or one fusion. */
function listFusions(fusions: HeadFusionData | Iterable<HeadFusionData> | ReadonlyMap<string, HeadFusionData> | null | undefined): HeadFusionData[] {
  if (!fusions) return [];
  if (fusions instanceof Map) return [...fusions.values()];
  return Symbol.iterator in Object(fusions) ? [...(fusions as Iterable<HeadFusionData>)] : [fusions as HeadFusionData];
}

/** The volatility head's calibrated forecast (first column), copied before any blend changes it, as a gatherer of rows. */
function calibratedCopy(parts: MultiTaskParts, outputs: readonly Float32Array[], volTask: string, fusedTask: string, calibration?: ReadonlyMap<string, OutputAffine>): (idx: readonly number[]) => Float32Array {
  const vi = parts.tasks.findIndex((t) => t.id === volTask);
  if (vi < 0) throw new ConfigError(`the ${fusedTask} fusion reads the head '${volTask}'; the model has ${parts.tasks.map((t) => t.id).join(', ')}`, fusionField(fusedTask));
  const d = parts.tasks[vi]!.outputDim;
  const cal = calibration?.get(volTask);
  const src = outputs[vi]!;
  const vol = new Float32Array(src.length / d);
  for (let r = 0; r < vol.length; r++) vol[r] = cal ? cal.scale[0]! * src[r * d]! + cal.shift[0]! : src[r * d]!;
  return (idx) => Float32Array.from(idx, (r) => vol[r]!);
}
