/**
 * The loss functions of the self-supervised objectives, on tensors, with no sampling in them:
 * masked reconstruction, InfoNCE, temporal order and next-step statistics.
 */
import { tf } from '@task-agnostic/tf';

/**
 * Mean squared error over the MASKED time steps only. `mask` is [N, T] with 1 where a step was
 * hidden; recon and target are [N, T, F].
 */
export function maskedReconstructionLoss(recon: tf.Tensor3D, target: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const F = target.shape[2];
    const m = tf.expandDims(mask, 2);
    const se = tf.mul(tf.square(tf.sub(recon, target)), m);
    const count = tf.maximum(tf.mul(tf.sum(mask), F), 1);
    return tf.div(tf.sum(se), count) as tf.Scalar;
  });
}

/** Rows scaled to unit L2 norm. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D);
}

/**
 * Symmetric InfoNCE (van den Oord et al. 2018; the SimCLR/CLIP form): row i of `a` and row i of
 * `b` are a positive pair, every other row of the batch is a negative.
 * L = 1/2 [CE(softmax(a b^T / tau), I) + CE(softmax(b a^T / tau), I)] on L2-normalised rows.
 */
export function infoNceLoss(a: tf.Tensor2D, b: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const n = a.shape[0];
    const an = l2Normalize(a);
    const bn = l2Normalize(b);
    const logits = tf.div(tf.matMul(an, tf.transpose(bn)), temperature) as tf.Tensor2D;
    const eye = tf.eye(n);
    const l1 = tf.losses.softmaxCrossEntropy(eye, logits);
    const l2 = tf.losses.softmaxCrossEntropy(eye, tf.transpose(logits));
    return tf.mul(tf.add(l1, l2), 0.5) as tf.Scalar;
  });
}

/** Binary cross-entropy with logits, mean over rows. `labels` in {0,1}. */
export function binaryLogitLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar);
}
