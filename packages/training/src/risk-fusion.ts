/**
 * The risk answer fused from the model's risk and volatility heads (see @task-agnostic/heads
 * risk-vol-fusion): fitted on the validation split only, chosen by cross-fitting against the risk
 * head's baseline blend (or the head alone) on the same folds, stored on the model (model.riskFusion,
 * in the artifact) and applied wherever the model's forecasts are scored (evaluateTest here, the
 * trainer's lso and out-of-sample evaluations through fuseRiskRows, the model's predictCandles and
 * the streaming predictor through model.forecastRaw). When chosen it replaces the risk head's blend.
 */
import { ConfigError } from '@task-agnostic/core';
import { fitRiskFusion, fusedRiskLogits, riskFusionFeatures, RISK_FUSION_FEATURES } from '@task-agnostic/heads';
import type { RiskFusionData, TaskAgnosticModel } from '@task-agnostic/model';
import type { TaskStateLike, TrainableTask } from './contracts.js';
import type { MultiTaskDataset } from './dataset.js';
import type { MultiTaskSplit } from './split.js';
import { blendScore, seriesRows, type BlendReport } from './baseline-blend.js';

type BaselineList = ReturnType<NonNullable<TrainableTask['baseline']>>;

function persistenceOf(task: Pick<TrainableTask, 'id' | 'baseline'>, candles: Parameters<NonNullable<TrainableTask['baseline']>>[0], state: TaskStateLike, rows: ArrayLike<number>, given?: BaselineList): Float32Array {
  const list = given ?? (task.baseline ? task.baseline(candles, state, rows) : []);
  const p = list.find((b) => b.name === 'persistence')?.outputs;
  if (!p) throw new ConfigError(`the risk fusion reads the 'persistence' baseline of '${task.id}', which this task does not have`, 'riskFusion');
  return p;
}

/**
 * The fused risk logits on one series' rows: `riskRaw` the risk head's raw logits [rows x 3],
 * `volForecast` the volatility head's calibrated forecast [rows] (before its blend), the baselines
 * computed on the same candles and rows with the series' task states (`riskBaselines`: the risk
 * task's baseline() on those rows, when the caller has it).
 */
export function fuseRiskRows(
  fusion: RiskFusionData,
  riskTask: Pick<TrainableTask, 'id' | 'baseline'>,
  volTask: Pick<TrainableTask, 'id' | 'baseline'>,
  riskRaw: ArrayLike<number>,
  volForecast: ArrayLike<number>,
  candles: Parameters<NonNullable<TrainableTask['baseline']>>[0],
  riskState: TaskStateLike,
  volState: TaskStateLike,
  rows: ArrayLike<number>,
  riskBaselines?: BaselineList,
): Float32Array {
  const pers = persistenceOf(riskTask, candles, riskState, rows, riskBaselines);
  const trailing = persistenceOf(volTask, candles, volState, rows);
  return fusedRiskLogits(fusion, riskRaw, volForecast, pers, trailing, riskState as Record<string, unknown>, volState as Record<string, unknown>, rows.length);
}

export interface RiskFusionReport {
  readonly chosen: boolean;
  readonly fitRows: number;
  readonly folds: number;
  /** Out-of-fold validation macro-F1 over the same rows and folds: the head alone, the risk blend as chosen (its best), the fusion. */
  readonly heldOut: { readonly model: number; readonly blend: number; readonly fusion: number };
  /** The fusion fitted on all the validation rows (set on the model only when chosen); null when it could not be fitted. */
  readonly fusion: RiskFusionData | null;
  readonly warning?: string;
}

/**
 * Fits the risk fusion on `split` (validation windows of `ds.series`) from the heads' raw outputs
 * (`raw`) and the calibrated volatility forecast (`forecasts`, regression heads calibrated), scores
 * it out of fold on `folds`, and sets it on the model when it beats the risk head's blend choice
 * (its best out-of-fold score in `blends`, or the head alone) on the same rows; the risk blend is
 * then removed. Null when the model has no 3-class 'risk' and regression 'volatility' heads.
 */
export function fitRiskFusionOnSplit(
  model: TaskAgnosticModel,
  ds: MultiTaskDataset,
  split: MultiTaskSplit,
  raw: readonly Float32Array[],
  forecasts: readonly Float32Array[],
  folds: ArrayLike<number> | undefined,
  blends: BlendReport | undefined,
): RiskFusionReport | null {
  const tasks = model.tasks as unknown as TrainableTask[];
  const ri = tasks.findIndex((t) => t.id === 'risk');
  const vi = tasks.findIndex((t) => t.id === 'volatility');
  model.setRiskFusion(null);
  if (ri < 0 || vi < 0 || tasks[ri]!.kind !== 'classification' || tasks[ri]!.outputDim !== 3 || tasks[vi]!.kind !== 'regression' || !split.endRows || split.n === 0) return null;
  const rt = tasks[ri]!;
  const vt = tasks[vi]!;
  const F = RISK_FUSION_FEATURES.length;
  const X = new Float64Array(split.n * F);
  for (const [k, { idx, rows }] of seriesRows(split, ds.series.length).entries()) {
    if (idx.length === 0) continue;
    const s = ds.series[k]!;
    const states = ds.symbolTaskStates?.[s.symbol];
    const rs = states?.[ri] ?? model.taskStates.get(rt.id)!;
    const vs = states?.[vi] ?? model.taskStates.get(vt.id)!;
    const riskRaw = new Float32Array(idx.length * 3);
    const vol = new Float32Array(idx.length);
    idx.forEach((r, j) => {
      riskRaw.set(raw[ri]!.subarray(r * 3, (r + 1) * 3), j * 3);
      vol[j] = forecasts[vi]![r * vt.outputDim]!;
    });
    const cuts = (rs as Record<string, unknown>).volCuts as [number, number];
    const centre = (vs as Record<string, unknown>).centre as number;
    const f = riskFusionFeatures({ riskLogits: riskRaw, persistence: persistenceOf(rt, s.candles, rs, rows), volForecast: vol, trailingVol: persistenceOf(vt, s.candles, vs, rows), volCentre: centre, volCuts: cuts }, idx.length);
    idx.forEach((r, j) => X.set(f.subarray(j * F, (j + 1) * F), r * F));
  }
  const y = split.targets[ri]!;
  const fit = fitRiskFusion(X, y, raw[ri]!, split.n, blendScore(rt), folds);
  const head = blends?.heads.find((h) => h.task === rt.id);
  const h = head?.selection.heldOut;
  // the best out-of-fold score among the risk blend's candidates (the head alone, persistence, the stack, the tuned stack)
  const blendBest = h ? Math.max(...[h.model, h.baseline, h.combined, h.tuned ?? Number.NaN].filter((v) => Number.isFinite(v))) : fit.heldOut.model;
  const heldOut = { model: fit.heldOut.model, blend: blendBest, fusion: fit.heldOut.fusion };
  const base = { fitRows: fit.n, folds: fit.folds, heldOut, ...(fit.warning ? { warning: fit.warning } : {}) };
  if (!fit.fusion) return { chosen: false, ...base, fusion: null };
  const fusion: RiskFusionData = { task: rt.id, volatilityTask: vt.id, features: [...fit.fusion.features], weights: [...fit.fusion.weights], offsets: [...fit.fusion.offsets] };
  if (!(fit.heldOut.fusion > blendBest)) return { chosen: false, ...base, fusion };
  model.setRiskFusion(fusion);
  // the fusion replaces the risk head's blend (it reads persistence itself)
  model.setBlends(Object.fromEntries([...model.blends].filter(([id]) => id !== rt.id)));
  return { chosen: true, ...base, fusion };
}
