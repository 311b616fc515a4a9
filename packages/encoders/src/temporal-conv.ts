/**
 * A dilated 1-D temporal convolution written as pad + shifted slices + concat + ONE 2-D matMul.
 * tfjs 4.22 cannot train dilated convolutions on any backend nor any convolution on wasm
 * (../shared/docs/TOOLCHAIN.md); this form uses only pad/slice/concat/matMul, whose gradients
 * exist everywhere, and its product takes the wasm fast path.
 *
 * y[n, t, :] = b + sum_j x[n, t + (j - (k-1)/2) * dilation, :] W_j   ('same' zero padding)
 */
import { tf } from '@task-agnostic/tf';
import { type DenseParams, applyDense, makeDense } from './layers.js';
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

/** x [N, T, C] -> [N, T, outChannels]. */
export function applyTemporalConv(x: tf.Tensor3D, c: TemporalConvParams, activation: 'linear' | 'relu' = 'relu'): tf.Tensor3D {
  const [n, t, ch] = x.shape;
  const half = ((c.kernelSize - 1) / 2) * c.dilation;
  const padded = half > 0 ? tf.pad(x, [[0, 0], [half, half], [0, 0]]) : x;
  const taps: tf.Tensor3D[] = [];
  for (let j = 0; j < c.kernelSize; j++) taps.push(tf.slice(padded, [0, j * c.dilation, 0], [n, t, ch]));
  const stacked = taps.length === 1 ? taps[0]! : tf.concat(taps, 2);
  return applyDense(stacked, c.dense, activation);
}
