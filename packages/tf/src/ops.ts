/**
 * Small functional building blocks that keep every matMul on the wasm fast path: inputs of any
 * rank are folded to 2-D before the product (a 3-D x 2-D broadcast matMul has no gradient in
 * tfjs 4.22 and is slow on wasm), and bias/activation are fused into one kernel.
 */
import * as tf from '@tensorflow/tfjs';

export type DenseActivation = 'linear' | 'relu';

/**
 * y = act(x W + b) over the last axis of x (any rank >= 2): [..., I] x [I, O] -> [..., O].
 * Runs as one fused 2-D matMul + bias + activation.
 */
export function dense<R extends tf.Rank>(
  x: tf.Tensor<R>,
  w: tf.Tensor2D,
  b?: tf.Tensor1D | null,
  activation: DenseActivation = 'linear',
): tf.Tensor<R> {
  return tf.tidy(() => {
    const inDim = w.shape[0];
    const outDim = w.shape[1];
    const lead = x.shape.slice(0, -1);
    if (x.shape[x.shape.length - 1] !== inDim) {
      throw new Error(`dense: input last dimension ${x.shape[x.shape.length - 1]} does not match weight rows ${inDim}`);
    }
    const x2 = x.rank === 2 ? (x as unknown as tf.Tensor2D) : tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
    const y = tf.fused.matMul({ a: x2, b: w, bias: b ?? undefined, activation });
    return (x.rank === 2 ? y : tf.reshape(y, [...lead, outDim] as number[])) as unknown as tf.Tensor<R>;
  });
}

/** Layer normalisation over the last axis with gain and bias: (x - mean) / sqrt(var + eps) * g + b. */
export function layerNorm<R extends tf.Rank>(x: tf.Tensor<R>, gain: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-5): tf.Tensor<R> {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    const xn = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xn, gain), bias) as tf.Tensor<R>;
  });
}
