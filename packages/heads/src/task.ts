/**
 * The Task contract: everything about one trading question (labels, head, loss, metrics,
 * baseline, decode) behind one interface, so the trainer and the model treat every task alike.
 *
 * Label convention ("a label at t reads only (t, t+h]"): the label of row t may read the bars
 * t+1..t+h (all of their fields) and, as its reference price, the close of bar t — the price at
 * which a decision taken at the close of bar t would be made, so it is known at t. It never reads
 * any other field of bar t, any bar before t, or any bar after t+h. Fitted scales (thresholds,
 * quantiles) come from `fit(candles, trainEnd)`, which reads only bars [0, trainEnd).
 */
import type { CandleColumns } from '@task-agnostic/core';
import type { tf } from '@task-agnostic/tf';
import type { CalibrationForm } from './calibration.js';

export type TaskKind = 'classification' | 'regression';

/** JSON-serialisable fitted state of a task (goes in model.json). */
export type TaskState = Readonly<Record<string, unknown>>;

/**
 * Labels, one row per candle index t. valid[t] = 0 where the label cannot be formed (t + h beyond
 * the data). Classification: targetDim = 1 holding the class index. Regression: targetDim targets.
 */
export interface TaskLabels {
  readonly targets: Float32Array;
  readonly targetDim: number;
  readonly valid: Uint8Array;
}

/** A task head: embedding [N, D] -> raw output [N, outputDim]. */
export interface Head {
  apply(embedding: tf.Tensor2D, options?: { training?: boolean }): tf.Tensor2D;
  /** All state, stable order: [dense1 kernel, dense1 bias, dense2 kernel, dense2 bias]. */
  readonly variables: readonly tf.Variable[];
  readonly inputDim: number;
  readonly outputDim: number;
  dispose(): void;
}

/** Metrics of a naive baseline on the same rows as the model, computed by the task's own metrics(). */
export interface BaselineReport {
  readonly name: string;
  readonly description: string;
  readonly metrics: Record<string, number>;
  /**
   * The baseline's raw outputs on the rows, [n, outputDim] like the head's, so that callers can
   * compare it with the model window by window (paired bootstrap intervals). Not enumerable: JSON
   * reports of baselines stay small.
   */
  readonly outputs?: Float32Array;
}

/** A baseline report scored with the task's metrics, carrying its outputs (not enumerable). */
export function scoredBaseline(
  name: string,
  description: string,
  metrics: (outputs: Float32Array, targets: Float32Array, n: number) => Record<string, number>,
  outputs: Float32Array,
  targets: Float32Array,
  n: number,
): BaselineReport {
  const report = { name, description, metrics: metrics(outputs, targets, n) };
  Object.defineProperty(report, 'outputs', { value: outputs, enumerable: false });
  return report;
}

export interface Task<Out = unknown> {
  readonly id: string;
  readonly kind: TaskKind;
  /** Class names in class-index order (classification tasks). */
  readonly classes?: readonly string[];
  readonly horizon: number;
  /** Width of the head's raw output. */
  readonly outputDim: number;
  /** Width of a label row. */
  readonly targetDim: number;
  /**
   * How the raw outputs are read for calibration (calibration.ts); inferred when absent:
   * classification -> softmax (K outputs) or sigmoid (1), regression with 1 output -> affine.
   */
  readonly calibrationForm?: CalibrationForm;
  /** The validated config with defaults filled in (JSON). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Thresholds, scales and quantiles from bars [0, trainEnd) only. */
  fit(candles: CandleColumns, trainEnd: number): TaskState;
  /** Label at t reads only close[t] (reference) and bars t+1..t+h. */
  labels(candles: CandleColumns, state: TaskState): TaskLabels;
  /** D -> 64 (ReLU) -> outputDim, seeded. */
  buildHead(inputDim: number, seed: number): Head;
  /**
   * Mean loss over the batch; targets [N, targetDim]. Pass `state` to apply fitted class weights
   * (classification tasks configured with classWeighting 'balanced'); without it the loss is unweighted.
   */
  loss(output: tf.Tensor2D, targets: tf.Tensor2D, state?: TaskState): tf.Scalar;
  /** outputs: raw head outputs [n, outputDim] row-major; targets: [n, targetDim]. */
  metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number>;
  /**
   * Naive baselines evaluated on candle rows `rows` (each must have a valid label), with the same
   * metrics() as the model. Baselines read bars <= t (and the fitted state) only.
   */
  baseline(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly BaselineReport[];
  /** One raw output row -> the TaskOutputs entry (core's types). */
  decode(output: ArrayLike<number>, state: TaskState): Out;
}

/**
 * How a task is registered: an id, a zod schema for its config (defaults filled in by the schema)
 * and a constructor from the parsed config. See the README for the recipe.
 */
export interface TaskFactory<C = unknown> {
  readonly id: string;
  readonly description: string;
  readonly configSchema: import('zod/v3').z.ZodType<C, import('zod/v3').z.ZodTypeDef, unknown>;
  create(config: C): Task;
}
