/**
 * The parts a model is composed of, as the cross-package contracts define them (features,
 * encoders, heads). The model codes against these shapes only, so any implementation that
 * satisfies them (the real packages, or a test double) plugs in; `components.ts` wires the real ones.
 */
import type { Candle, CandleColumns } from '@task-agnostic/core';
import type { FeatureExtras, StreamingExtras } from '@task-agnostic/features';
import type { tf } from '@task-agnostic/tf';

/** [N,T,F] -> [N,D]; `variables` is all state to save, in a stable order. */
export interface Encoder {
  readonly config: unknown;
  readonly inputShape: readonly [number, number];
  readonly outputDim: number;
  apply(x: tf.Tensor3D, options?: { training?: boolean }): tf.Tensor2D;
  readonly variables: readonly tf.Variable[];
  /** Stable role names parallel to `variables` (e.g. "layer0/attn/qkv/w"), where the encoder has them. */
  readonly variableNames?: readonly string[];
  /**
   * The variables an optimiser updates (a subset of `variables`: e.g. without frozen statistics),
   * where the encoder distinguishes them; training's TrainableEncoder reads it.
   */
  readonly trainableVariables?: readonly tf.Variable[];
  /** The last shared layer's weight W, on which training's GradNorm measures the tasks' gradient norms. */
  readonly lastSharedWeights?: tf.Variable;
  /** The auxiliary loss of the last apply (a mixture of experts' load balance), or null; training adds it to the loss. */
  auxLoss?(): tf.Scalar | null;
  paramCount(): number;
  dispose(): void;
}

/** [N,D] -> [N,outputDim]. */
export interface Head {
  apply(embedding: tf.Tensor2D, options?: { training?: boolean }): tf.Tensor2D;
  readonly variables: readonly tf.Variable[];
  dispose(): void;
}

/** JSON-serialisable fitted state of a task (thresholds, quantiles). */
export type TaskState = Readonly<Record<string, unknown>>;

/** The part of a task the model needs: its identity, its head and how to decode one output row. */
export interface Task {
  readonly id: string;
  readonly kind: 'classification' | 'regression';
  readonly horizon: number;
  readonly outputDim: number;
  /** The output's form where the kind and width do not say it ('gaussian': (mean, log-std) columns). */
  readonly calibrationForm?: 'softmax' | 'sigmoid' | 'gaussian' | 'affine';
  buildHead(inputDim: number, seed: number): Head;
  decode(output: ArrayLike<number>, state: TaskState): unknown;
  /** The naive baselines on candle rows (their outputs shaped like the head's); what a baseline blend combines with. */
  baseline?(candles: CandleColumns, state: TaskState, rows: ArrayLike<number>): readonly { readonly name: string; readonly outputs?: Float32Array }[];
}

export interface FeatureMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly names: readonly string[];
  readonly warmup: number;
}

export interface Normalizer {
  readonly names: readonly string[];
  transform(m: FeatureMatrix): FeatureMatrix;
  transformRow(row: ArrayLike<number>, out?: Float32Array): Float32Array;
  toJSON(): unknown;
}

export interface StreamingFeatures {
  readonly names: readonly string[];
  readonly warmup: number;
  /** `extras`: order book / trades / funding / open interest where the feature set uses them. */
  update(candle: Candle, extras?: StreamingExtras): Float64Array | null;
}

/**
 * The factories a model needs to rebuild itself from plain config (on load) and to stream.
 * Configs are opaque here: each provider validates its own.
 */
export interface ModelComponents {
  parseEncoderConfig(json: unknown): unknown;
  buildEncoder(config: unknown, inputShape: readonly [number, number], seed: number): Encoder;
  getTask(id: string, config?: unknown): Task;
  parseFeatureSetConfig(json: unknown): unknown;
  /** The feature names a feature-set config produces, in column order. */
  featureNames(featureConfig: unknown): readonly string[];
  createStreamingFeatures(featureConfig: unknown): StreamingFeatures;
  computeFeatures(candles: CandleColumns, featureConfig: unknown, extras?: FeatureExtras): FeatureMatrix;
  makeWindows(m: FeatureMatrix, endRows: ArrayLike<number>, windowLength: number, out?: Float32Array): Float32Array;
  normalizerFromJSON(state: unknown): Normalizer;
}
