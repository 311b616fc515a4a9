/**
 * The shapes this package consumes from @task-agnostic/encoders, heads and features, written as
 * structural interfaces (the subset of the agreed cross-package contracts that training reads).
 * The real Encoder / Head / Task / FeatureMatrix objects satisfy them as they are; tests may pass
 * small hand-written doubles.
 */
import type { CandleColumns } from '@task-agnostic/core';
import type { tf } from '@task-agnostic/tf';

export interface TrainableEncoder {
  readonly inputShape: readonly [number, number];
  readonly outputDim: number;
  apply(x: tf.Tensor3D, options?: { training?: boolean }): tf.Tensor2D;
  readonly variables: readonly tf.Variable[];
  readonly trainableVariables: readonly tf.Variable[];
  /** The last shared layer's weight W; GradNorm measures gradient norms on it. */
  readonly lastSharedWeights: tf.Variable;
  /** Auxiliary loss of the last apply (MoE load balance), else null. */
  auxLoss(): tf.Scalar | null;
}

export interface TrainableHead {
  apply(embedding: tf.Tensor2D, options?: { training?: boolean }): tf.Tensor2D;
  readonly variables: readonly tf.Variable[];
  dispose(): void;
}

export interface TaskLabelsLike {
  readonly targets: Float32Array;
  readonly targetDim: number;
  readonly valid: Uint8Array;
}

export type TaskStateLike = Readonly<Record<string, unknown>>;

export interface TrainableTask {
  readonly id: string;
  readonly kind: 'classification' | 'regression';
  readonly horizon: number;
  readonly outputDim: number;
  fit(candles: CandleColumns, trainEnd: number): TaskStateLike;
  labels(candles: CandleColumns, state: TaskStateLike): TaskLabelsLike;
  buildHead(inputDim: number, seed: number): TrainableHead;
  /** `state` (the task's fitted state) enables fitted class weights where the task has them. */
  loss(output: tf.Tensor2D, targets: tf.Tensor2D, state?: TaskStateLike): tf.Scalar;
  metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number>;
  /** Naive baselines on candle rows (each with a valid label), scored by metrics(). */
  baseline?(candles: CandleColumns, state: TaskStateLike, rows: ArrayLike<number>): readonly { name: string; description: string; metrics: Record<string, number>; outputs?: Float32Array }[];
}

export interface FeatureMatrixLike {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly names: readonly string[];
  readonly warmup: number;
}

/** A fitted normaliser (the features package's Normalizer satisfies this). */
export interface NormalizerLike {
  transform(m: FeatureMatrixLike): FeatureMatrixLike;
  toJSON(): unknown;
}

/** The features package's batch pipeline, as training uses it (injectable for tests). */
export interface FeaturePipeline {
  compute(candles: CandleColumns): FeatureMatrixLike;
  /** Fits a normaliser on rows [startRow, endRow) of `m` only. */
  fitNormalizer(m: FeatureMatrixLike, startRow: number, endRow: number): NormalizerLike;
  /** [N, T, F]: the window ending at row e holds rows e-T+1..e. */
  makeWindows(m: FeatureMatrixLike, endRows: ArrayLike<number>, windowLength: number): Float32Array;
}
