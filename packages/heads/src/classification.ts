/**
 * What every softmax classification task shares: its head (D -> 64 -> K), the cross-entropy loss
 * (class-weighted when the task's config and fitted state ask for it), the metrics, the decoded
 * probabilities, and the two naive baselines that fit any class label (majority, persistence).
 * Each task file keeps only what is its own: labels, fitting, its extra baselines and its output type.
 */
import type { tf } from '@task-agnostic/tf';
import { balancedPositiveWeight, baseRateLogit, binaryMetrics } from './binary.js';
import { checkMetricsInput, checkOutputRow } from './candles.js';
import { repeatRow } from './config.js';
import { priorLogits } from './forward.js';
import { createMlpHead } from './head-mlp.js';
import { sigmoidCrossEntropy, softmaxCrossEntropy } from './losses.js';
import { classificationMetrics, sigmoid, softmaxRows } from './metrics.js';
import { scoredBaseline, type BaselineReport, type Head, type TaskState } from './task.js';

export interface SoftmaxClassifier {
  buildHead(inputDim: number, seed: number): Head;
  loss(output: tf.Tensor2D, targets: tf.Tensor2D, state?: TaskState): tf.Scalar;
  metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number>;
  /** One output row -> class probabilities (checked). */
  probabilities(output: ArrayLike<number>): Float64Array;
}

/**
 * The shared parts of a K-class task. `classWeights(state)` returns the fitted weights when the
 * loss should be class-weighted (else undefined).
 */
export function softmaxClassifier(id: string, classes: readonly string[], classWeights: (state: TaskState) => readonly number[] | undefined): SoftmaxClassifier {
  const K = classes.length;
  return {
    buildHead: (inputDim, seed) => createMlpHead({ inputDim, outputDim: K, seed, name: `heads/${id}` }),
    loss: (output, targets, state) => softmaxCrossEntropy(output, targets, K, state ? classWeights(state) : undefined),
    metrics(outputs, targets, n) {
      checkMetricsInput(outputs, targets, n, K, 1, id);
      return classificationMetrics(softmaxRows(outputs, n, K), targets, n, classes);
    },
    probabilities(output) {
      checkOutputRow(output, K, id);
      return softmaxRows(output, 1, K);
    },
  };
}

/** Index of the largest value. */
export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j]! > p[best]!) best = j;
  return best;
}

/** Near-one-hot logit rows (0 for the chosen class, -3 for the others) for class-valued naive forecasts. */
export function oneHotLogits(n: number, K: number, classOf: (i: number) => number): Float32Array {
  const out = new Float32Array(n * K).fill(-3);
  for (let i = 0; i < n; i++) out[i * K + classOf(i)] = 0;
  return out;
}

/** The majority baseline: the training class frequencies, as logits, for every row. */
export function majorityBaseline(metrics: SoftmaxClassifier['metrics'], classCounts: readonly number[], y: Float32Array, n: number): BaselineReport {
  return scoredBaseline('majority', 'training class frequencies (argmax = the majority class)', metrics, repeatRow(priorLogits(classCounts), n), y, n);
}

/**
 * The persistence baseline: the label of row t - h, whose window (t-h, t] is known at t (the
 * majority class where t - h is before the data).
 */
export function persistenceBaseline(
  metrics: SoftmaxClassifier['metrics'],
  labels: Float32Array,
  rows: ArrayLike<number>,
  h: number,
  classCounts: readonly number[],
  y: Float32Array,
  description: string,
): BaselineReport {
  const majority = argmax(priorLogits(classCounts));
  const K = classCounts.length;
  const logits = oneHotLogits(rows.length, K, (i) => {
    const t = rows[i]!;
    return t - h >= 0 ? labels[t - h]! : majority;
  });
  return scoredBaseline('persistence', description, metrics, logits, y, rows.length);
}

export interface SigmoidClassifier {
  buildHead(inputDim: number, seed: number): Head;
  loss(output: tf.Tensor2D, targets: tf.Tensor2D, state?: TaskState): tf.Scalar;
  metrics(outputs: Float32Array, targets: Float32Array, n: number): Record<string, number>;
  /** One output row (a logit) -> the probability of the positive class (checked). */
  probability(output: ArrayLike<number>): number;
}

/**
 * The shared parts of a binary task (one logit). `positives(state)` returns the fitted counts when
 * the loss should weight the positive class by balance (else undefined: unweighted).
 */
export function sigmoidClassifier(
  id: string,
  classes: readonly [string, string],
  positives: (state: TaskState) => { positives: number; total: number } | undefined,
): SigmoidClassifier {
  return {
    buildHead: (inputDim, seed) => createMlpHead({ inputDim, outputDim: 1, seed, name: `heads/${id}` }),
    loss(output, targets, state) {
      const c = state ? positives(state) : undefined;
      return sigmoidCrossEntropy(output, targets, c ? balancedPositiveWeight(c.positives, c.total) : 1);
    },
    metrics(outputs, targets, n) {
      checkMetricsInput(outputs, targets, n, 1, 1, id);
      return binaryMetrics(outputs, targets, n, classes);
    },
    probability(output) {
      checkOutputRow(output, 1, id);
      return sigmoid(output[0]!);
    },
  };
}

/** The base-rate baseline of a binary task: the training frequency of positives, for every row. */
export function baseRateBaseline(metrics: SigmoidClassifier['metrics'], positives: number, total: number, y: Float32Array, n: number, description: string): BaselineReport {
  return scoredBaseline('baseRate', description, metrics, repeatRow([baseRateLogit(positives, total)], n), y, n);
}
