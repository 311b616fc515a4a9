/** Losses shared by the tasks. Each returns a scalar mean over the batch and is safe inside tf.tidy / gradients. */
import { DataError } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function checkRows(output: tf.Tensor2D, targets: tf.Tensor2D, outDim: number, targetDim: number, what: string): void {
  if (output.rank !== 2 || output.shape[1] !== outDim) throw new DataError(`${what} loss: output must be [N, ${outDim}], got [${output.shape.join(', ')}]`);
  if (targets.rank !== 2 || targets.shape[1] !== targetDim || targets.shape[0] !== output.shape[0]) {
    throw new DataError(`${what} loss: targets must be [${output.shape[0]}, ${targetDim}], got [${targets.shape.join(', ')}]`);
  }
}

/**
 * Softmax cross-entropy of logits [N, K] against class indices [N, 1]. With `classWeights`
 * (length K) it is the weighted mean sum_i w_{y_i} ce_i / sum_i w_{y_i} (as PyTorch's weighted CE).
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, k: number, classWeights?: readonly number[]): tf.Scalar {
  checkRows(logits, targets, k, 1, 'cross-entropy');
  return tf.tidy(() => {
    const idx = tf.cast(tf.reshape(targets, [-1]), 'int32') as tf.Tensor1D;
    const onehot = tf.oneHot(idx, k);
    const ce = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1));
    if (!classWeights) return tf.mean(ce) as tf.Scalar;
    const w = tf.sum(tf.mul(onehot, tf.tensor1d(classWeights as number[])), 1);
    return tf.div(tf.sum(tf.mul(ce, w)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
  });
}

/**
 * Sigmoid cross-entropy of logits [N, 1] against 0/1 targets [N, 1], in the stable form
 * max(x, 0) - x y + log(1 + exp(-|x|)); `positiveWeight` scales the positive-class terms.
 */
export function sigmoidCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, positiveWeight = 1): tf.Scalar {
  checkRows(logits, targets, 1, 1, 'sigmoid cross-entropy');
  return tf.tidy(() => {
    const x = logits;
    const y = targets;
    const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    if (positiveWeight === 1) return tf.mean(ce) as tf.Scalar;
    const w = tf.add(1, tf.mul(y, positiveWeight - 1));
    return tf.div(tf.sum(tf.mul(ce, w)), tf.sum(w)) as tf.Scalar;
  });
}

/** Mean squared error of output [N, D] against targets [N, D]. */
export function meanSquaredError(output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  checkRows(output, targets, targets.shape[1], output.shape[1], 'MSE');
  return tf.tidy(() => tf.mean(tf.square(tf.sub(output, targets))) as tf.Scalar);
}

/** Bounds on the predicted log-std (in target units), so a degenerate batch cannot send the NLL to -Infinity. */
export const LOG_STD_MIN = -7;
export const LOG_STD_MAX = 7;

/**
 * Gaussian negative log-likelihood of targets [N, 1] under output [N, 2] = (mean, log-std):
 * 0.5 ((y - mu) / sigma)^2 + log sigma + 0.5 log(2 pi), averaged; log sigma clipped to [-7, 7].
 */
export function gaussianNll(output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  checkRows(output, targets, 2, 1, 'Gaussian NLL');
  return tf.tidy(() => {
    const [mu, rawLogStd] = tf.split(output, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const logStd = tf.clipByValue(rawLogStd, LOG_STD_MIN, LOG_STD_MAX);
    const z = tf.mul(tf.sub(targets, mu), tf.exp(tf.neg(logStd)));
    return tf.add(tf.mean(tf.add(tf.mul(0.5, tf.square(z)), logStd)), HALF_LOG_2PI) as tf.Scalar;
  });
}

/** The same Gaussian NLL on plain arrays (for metrics), log-std clipped the same way. */
export function gaussianNllValue(mu: number, logStd: number, y: number): number {
  const s = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, logStd));
  const z = (y - mu) * Math.exp(-s);
  return 0.5 * z * z + s + HALF_LOG_2PI;
}
