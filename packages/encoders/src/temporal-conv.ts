/**
 * A dilated 1-D temporal convolution as im2col + one plain 2-D product with a custom gradient.
 * tfjs 4.22 cannot train dilated convolutions on any backend nor any convolution on wasm
 * (../shared/docs/TOOLCHAIN.md); this form uses only the im2col kernel of @task-agnostic/tf
 * (pad + slices + concat where it is not registered), matMul, transpose and reverse, and its
 * products take the wasm fast path.
 *
 * y[n, t, :] = b + sum_j x[n, t + (j - (k-1)/2) * dilation, :] W_j   ('same' zero padding)
 */
import { tf, temporalIm2col } from '@task-agnostic/tf';
import { type DenseParams, applyDenseOverParts, makeDense } from './layers.js';
import type { ParamStore } from './params.js';

export interface TemporalConvParams {
  readonly kernelSize: number;
  readonly dilation: number;
  /** Weight [kernelSize * inChannels, outChannels]: rows j*C..(j+1)*C-1 hold tap j. */
  readonly dense: DenseParams;
}

export function makeTemporalConv(
  p: ParamStore,
  name: string,
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  dilation: number,
): TemporalConvParams {
  return { kernelSize, dilation, dense: makeDense(p, name, kernelSize * inChannels, outChannels) };
}

/**
 * x [N, T, C] -> [N, T, outChannels]: act(b + sum_j shift_j(x) W_j) as ONE plain 2-D product on
 * the im2col matrix [N*T, k*C] (pad + k shifted slices + one concat), with a custom gradient:
 * dW = cols^T dY (one product) and dX = im2col(dY) Wflip (the transposed convolution is itself a
 * 'same' dilated convolution of dY with the taps reversed and transposed: one more im2col and one
 * product), so backpropagation never runs the pad/slice/concat gradients (strided scatters).
 * Bias and activation stay ordinary tfjs ops. Same numbers as the per-tap form
 * (applyTemporalConvPerTap) within float32 summation order.
 */
export function applyTemporalConv(x: tf.Tensor3D, c: TemporalConvParams, activation: 'linear' | 'relu' = 'relu'): tf.Tensor3D {
  const [n, t] = x.shape;
  const out = c.dense.w.shape[1];
  return tf.reshape(temporalConvCore(x, c.dense.w, c.dense.b, c.kernelSize, c.dilation, activation), [n, t, out]);
}

/**
 * act(im2col(x) w + b): x [N, T, C], w [k*C, O], b [O] -> [N*T, O], one fused product forward;
 * backward (dz = dy, masked by y > 0 for relu): dW = cols^T dz, db = column sums of dz and
 * dX = im2col(dz) Wflip. (Measured on wasm and not kept: dW as (dz^T cols)^T and db as 1^T dz,
 * both slower: XNNPACK repacks the long right operand on every call.)
 */
export function temporalConvCore(
  x: tf.Tensor3D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  kernelSize: number,
  dilation: number,
  activation: 'linear' | 'relu',
): tf.Tensor2D {
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x3 = args[0] as tf.Tensor3D;
    const w2 = args[1] as tf.Tensor2D;
    const b1 = args[2] as tf.Tensor1D;
    const save = args[3] as tf.GradSaveFunc;
    const cols = temporalIm2col(x3, kernelSize, dilation);
    const value = tf.fused.matMul({ a: cols, b: w2, bias: b1, activation });
    save([cols, w2, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedCols, savedW, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const [n, t, ch] = x3.shape;
        const o = savedW.shape[1];
        return tf.tidy(() => {
          const dz = (activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy) as tf.Tensor2D;
          const dW = tf.matMul(savedCols, dz, true, false);
          const db = tf.sum(dz, 0);
          // Wflip rows j*O..(j+1)*O-1 = W_{k-1-j}^T
          const wflip =
            kernelSize === 1
              ? tf.transpose(savedW)
              : tf.reshape(tf.transpose(tf.reverse(tf.reshape(savedW, [kernelSize, ch, o]), 0), [0, 2, 1]), [kernelSize * o, ch]);
          const dcols = temporalIm2col(tf.reshape(dz, [n, t, o]) as tf.Tensor3D, kernelSize, dilation);
          const dX = tf.reshape(tf.matMul(dcols, wflip as tf.Tensor2D), [n, t, ch]);
          return [dX, dW, db];
        });
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(x, w, b) as tf.Tensor2D;
}

/**
 * The previous formulation (pad + shifted slices + one product per tap, tfjs autodiff), kept as
 * the reference the tests compare against.
 */
export function applyTemporalConvPerTap(x: tf.Tensor3D, c: TemporalConvParams, activation: 'linear' | 'relu' = 'relu'): tf.Tensor3D {
  const [n, t, ch] = x.shape;
  const half = ((c.kernelSize - 1) / 2) * c.dilation;
  const padded = half > 0 ? tf.pad(x, [[0, 0], [half, half], [0, 0]]) : x;
  const taps: tf.Tensor3D[] = [];
  for (let j = 0; j < c.kernelSize; j++) taps.push(tf.slice(padded, [0, j * c.dilation, 0], [n, t, ch]));
  return applyDenseOverParts(taps, c.dense, activation) as tf.Tensor3D;
}
