/**
 * A head fusion applied to one series' rows: the one implementation behind the model's forecastRaw
 * (predictCandles, the streaming predictor) and training's evaluations (evaluateTest, the trainer's
 * lso and out-of-sample scoring), so that every path fuses the same inputs the same way.
 */
import { ConfigError, type CandleColumns } from '@task-agnostic/core';
import { baselineForecasts, fusedHeadLogits, taskClasses, type BaselineSource } from '@task-agnostic/heads';
import { fusionField, type HeadFusionData } from './calibration.js';

/** What a fusion needs of a task: its id, output width, class names (a classifier's), horizon and baselines. */
export interface FusionTask extends BaselineSource {
  readonly id: string;
  readonly outputDim: number;
  readonly classes?: readonly string[];
}

/** The heads' outputs on one series' rows that a fusion reads. */
export interface FusionRowOutputs {
  /** The fused task's head raw logits [rows x K]. */
  readonly headRaw: ArrayLike<number>;
  /** The volatility head's calibrated forecast [rows] (its first column, before its blend). */
  readonly volForecast: ArrayLike<number>;
  /** The direction head's raw logits [rows x Kd] (when the fusion reads a direction task). */
  readonly directionRaw?: ArrayLike<number>;
}

/** A task's baselines as Task.baseline returns them (what a caller may already have computed). */
export type FusionBaselines = readonly { readonly name: string; readonly outputs?: Float32Array }[];

/**
 * The fused logits [rows x K] on one series' rows: the heads' outputs on those rows, the fused and
 * volatility tasks' 'persistence' baselines on the same candles and rows (baselineForecasts: bars <=
 * each row, so also rows whose label cannot be formed yet) with the series' task states
 * (`stateOf(task id)`). `fusedBaselines`: the fused task's baselines on those rows, when the caller
 * has them. Throws a ConfigError (the fusion's field) when it reads a task or baseline the model lacks.
 */
export function fuseTaskRows(
  fusion: HeadFusionData,
  tasks: readonly FusionTask[],
  outputs: FusionRowOutputs,
  candles: CandleColumns,
  stateOf: (taskId: string) => Readonly<Record<string, unknown>>,
  rows: ArrayLike<number>,
  fusedBaselines?: FusionBaselines,
): Float32Array {
  const find = (id: string): FusionTask => {
    const t = tasks.find((x) => x.id === id);
    if (!t) throw new ConfigError(`the ${fusion.task} fusion reads the head '${id}'; the model has ${tasks.map((x) => x.id).join(', ')}`, fusionField(fusion.task));
    return t;
  };
  const ft = find(fusion.task);
  const vt = find(fusion.volatilityTask);
  const dt = fusion.directionTask === undefined ? undefined : find(fusion.directionTask);
  const fs = stateOf(ft.id);
  const vs = stateOf(vt.id);
  const persistence = (task: FusionTask, state: Readonly<Record<string, unknown>>, given?: FusionBaselines): Float32Array => {
    const p = given ? given.find((b) => b.name === 'persistence')?.outputs : baselineForecasts(task, candles, state, rows).get('persistence');
    if (!p) throw new ConfigError(`the ${fusion.task} fusion reads the 'persistence' baseline of '${task.id}', which this task does not have`, fusionField(fusion.task));
    return p;
  };
  const pers = persistence(ft, fs, fusedBaselines);
  const trailing = persistence(vt, vs);
  return fusedHeadLogits(
    fusion,
    taskClasses(ft),
    dt ? taskClasses(dt) : undefined,
    { headLogits: outputs.headRaw, volForecast: outputs.volForecast, persistence: pers, trailingVol: trailing, ...(outputs.directionRaw ? { directionLogits: outputs.directionRaw } : {}), close: candles.close, rows },
    fs,
    vs,
    rows.length,
  );
}
