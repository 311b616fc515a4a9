/**
 * Small functional building blocks that keep every matMul on the wasm fast path: inputs of any
 * rank are folded to 2-D before the product (a 3-D x 2-D broadcast matMul has no gradient in
 * tfjs 4.22 and is slow on wasm), and bias/activation are fused into one kernel.
 */
import { tf } from './tfjs.js';
import { KernelRunner, gradientTapeActive } from './kernels.js';
import { fusedLayerNorm, fusedLayerNormAvailable } from './fused-layer-norm.js';

export type DenseActivation = 'linear' | 'relu';

/** An operand the direct path takes: float32 and alive (the tf ops report the rest as usual). */
function usable(t: tf.Tensor): boolean {
  return t.dtype === 'float32' && !t.isDisposed;
}

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
  const inDim = w.shape[0];
  const outDim = w.shape[1];
  if (x.shape[x.shape.length - 1] !== inDim) {
    throw new Error(`dense: input last dimension ${x.shape[x.shape.length - 1]} does not match weight rows ${inDim}`);
  }
  // Inference (no tape): one direct kernel call, no engine op (see kernels.ts). Mixed dtypes,
  // broadcast biases and disposed operands keep the op (it casts, broadcasts, or throws).
  const plain = usable(x) && usable(w) && (!b || (usable(b) && b.rank === 1 && b.shape[0] === outDim));
  const k = !plain || gradientTapeActive() ? null : KernelRunner.forCurrentBackend();
  if (k) {
    if (x.rank === 2) return k.toTensor<R>(k.matMul(x, w, b ?? null, activation));
    const y = k.matMul(k.view(x, [x.size / inDim, inDim]), w, b ?? null, activation);
    return k.toTensor<R>(y, [...x.shape.slice(0, -1), outDim]);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as unknown as tf.Tensor2D) : tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
    const y = tf.fused.matMul({ a: x2, b: w, bias: b ?? undefined, activation });
    return (x.rank === 2 ? y : tf.reshape(y, [...lead, outDim] as number[])) as unknown as tf.Tensor<R>;
  });
}

/** Layer normalisation over the last axis with gain and bias: (x - mean) / sqrt(var + eps) * g + b. */
export function layerNorm<R extends tf.Rank>(x: tf.Tensor<R>, gain: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-5): tf.Tensor<R> {
  const d = x.shape[x.rank - 1]!;
  const plain = usable(x) && usable(gain) && usable(bias) && gain.size === d && bias.size === d;
  const k = !plain || gradientTapeActive() ? null : KernelRunner.forCurrentBackend();
  if (k) {
    const xn = k.normalize(k.view(x, [x.size / d, d]), eps);
    const g = k.mul(xn, gain);
    k.free(xn);
    const y = k.add(g, bias);
    k.free(g);
    return k.toTensor<R>(y, x.shape);
  }
  // Training on wasm/cpu: one kernel each way with its own gradient (fused-layer-norm.ts).
  if (gain.size === d && bias.size === d && gain.rank === 1 && bias.rank === 1 && !x.isDisposed && fusedLayerNormAvailable(x, gain, bias)) {
    return fusedLayerNorm(x, gain, bias, eps);
  }
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    const xn = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xn, gain), bias) as tf.Tensor<R>;
  });
}
