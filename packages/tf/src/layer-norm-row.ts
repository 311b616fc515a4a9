/**
 * The statistics one layer-norm row is normalised by, shared by the fused layer-norm kernels
 * (training) and the encoders' inference loops, so every layer norm in JS computes them in one
 * arithmetic order: the sum and the centred sum of squares in float64, in index order.
 */

/** A row's mean and reciprocal standard deviation. */
export interface LayerNormRowStats {
  readonly mean: number;
  /** 1 / sqrt(variance + eps), the variance over the row (divided by d). */
  readonly rstd: number;
}

/** Mean and 1 / sqrt(variance + eps) of the row x[offset, offset + d) (d >= 1). */
export function layerNormRowStats(x: Float32Array, offset: number, d: number, eps: number): LayerNormRowStats {
  let s = 0;
  for (let j = 0; j < d; j++) s += x[offset + j]!;
  const mean = s / d;
  let v = 0;
  for (let j = 0; j < d; j++) {
    const c = x[offset + j]! - mean;
    v += c * c;
  }
  return { mean, rstd: 1 / Math.sqrt(v / d + eps) };
}
