/**
 * Functional layers shared by the encoders. Every product goes through `dense` (2-D, fused bias
 * and activation) or a batched matMul without broadcasting, so all of them train on cpu, wasm and
 * tfjs-node, and the wasm fast-matMul wrapper in @task-agnostic/tf applies.
 */
import { tf, dense, layerNorm, multiHeadAttention } from '@task-agnostic/tf';
import type { ParamStore } from './params.js';

export interface DenseParams {
  readonly w: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
}

export function makeDense(p: ParamStore, name: string, fanIn: number, fanOut: number): DenseParams {
  return { w: p.weight(`${name}/w`, fanIn, fanOut), b: p.fill(`${name}/b`, fanOut, 0) };
}

export function applyDense<R extends tf.Rank>(x: tf.Tensor<R>, d: DenseParams, activation: 'linear' | 'relu' = 'linear'): tf.Tensor<R> {
  return dense(x, d.w, d.b, activation);
}

/**
 * act(concat(parts, lastAxis) W + b) without materialising the concat: sum_i parts_i W_i + b, with
 * W_i the rows of W that face part i. Each product is a plain 2-D matMul; the concat's gradient
 * (a last-axis split, a slow strided copy on wasm) is avoided. Parts are [..., C_i] of equal
 * leading shape.
 */
export function applyDenseOverParts(parts: readonly tf.Tensor[], d: DenseParams, activation: 'linear' | 'relu' = 'linear'): tf.Tensor {
  const lead = parts[0]!.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const out = d.w.shape[1];
  const channels = parts.reduce((s, p) => s + p.shape[p.rank - 1]!, 0);
  if (channels !== d.w.shape[0]) throw new Error(`applyDenseOverParts: parts have ${channels} channels, weight has ${d.w.shape[0]} rows`);
  let offset = 0;
  let acc: tf.Tensor2D | null = null;
  for (const part of parts) {
    const c = part.shape[part.rank - 1]!;
    const wi = parts.length === 1 ? d.w : (tf.slice(d.w, [offset, 0], [c, out]) as tf.Tensor2D);
    offset += c;
    const y = tf.matMul(tf.reshape(part, [rows, c]) as tf.Tensor2D, wi) as tf.Tensor2D;
    acc = acc ? (tf.add(acc, y) as tf.Tensor2D) : y;
  }
  const z = tf.add(acc!, d.b);
  return tf.reshape(activation === 'relu' ? tf.relu(z) : z, [...lead, out]);
}

export interface NormParams {
  readonly gain: tf.Variable<tf.Rank.R1>;
  readonly bias: tf.Variable<tf.Rank.R1>;
}

export function makeNorm(p: ParamStore, name: string, dim: number): NormParams {
  return { gain: p.fill(`${name}/gain`, dim, 1), bias: p.fill(`${name}/bias`, dim, 0) };
}

export function applyNorm<R extends tf.Rank>(x: tf.Tensor<R>, n: NormParams): tf.Tensor<R> {
  return layerNorm(x, n.gain, n.bias);
}

export interface AttentionParams {
  readonly qkv: DenseParams;
  readonly out: DenseParams;
  readonly numHeads: number;
}

export function makeAttention(p: ParamStore, name: string, dModel: number, numHeads: number): AttentionParams {
  return { qkv: makeDense(p, `${name}/qkv`, dModel, 3 * dModel), out: makeDense(p, `${name}/out`, dModel, dModel), numHeads };
}

/**
 * Multi-head self-attention over x [N, L, d] -> [N, L, d]: one fused 2-D QKV projection, the
 * attention core of @task-agnostic/tf (`multiHeadAttention`: on wasm fused SIMD kernels with their
 * own gradient that read the heads straight out of the QKV matrix; elsewhere heads folded into the
 * batch with 3-D transposes, one batched product each for scores and context), output projection.
 */
export function applyAttention(x: tf.Tensor3D, a: AttentionParams): tf.Tensor3D {
  const [n, l, d] = x.shape;
  const qkv = applyDense(tf.reshape(x, [n * l, d]) as tf.Tensor2D, a.qkv); // [N*L, 3d]
  const ctx = multiHeadAttention(qkv, n, l, a.numHeads); // [N*L, d]
  return applyDense(tf.reshape(ctx, [n, l, d]) as tf.Tensor3D, a.out);
}

export interface FeedForwardParams {
  readonly up: DenseParams;
  readonly down: DenseParams;
}

export function makeFeedForward(p: ParamStore, name: string, dModel: number, ffDim: number): FeedForwardParams {
  return { up: makeDense(p, `${name}/up`, dModel, ffDim), down: makeDense(p, `${name}/down`, ffDim, dModel) };
}

export function applyFeedForward(x: tf.Tensor3D, f: FeedForwardParams): tf.Tensor3D {
  return applyDense(applyDense(x, f.up, 'relu'), f.down);
}

/** Inverted dropout with an explicit seed (deterministic); identity when not training or rate 0. */
export function maybeDropout<R extends tf.Rank>(x: tf.Tensor<R>, rate: number, training: boolean, seed: () => number): tf.Tensor<R> {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, seed()) as tf.Tensor<R>;
}

/** Sinusoidal positional encoding [L, d] (Vaswani et al.), as in the PyTorch reference. */
export function sinusoidalPositions(length: number, dModel: number): Float32Array {
  const pe = new Float32Array(length * dModel);
  for (let pos = 0; pos < length; pos++) {
    for (let i = 0; i < dModel; i += 2) {
      const div = Math.exp(-(i * Math.log(10000)) / dModel);
      pe[pos * dModel + i] = Math.sin(pos * div);
      if (i + 1 < dModel) pe[pos * dModel + i + 1] = Math.cos(pos * div);
    }
  }
  return pe;
}

/** Front zero-padding that makes T a multiple of P (the oldest steps are padded, never dropped). */
export function frontPad(t: number, p: number): number {
  return (p - (t % p)) % p;
}

/**
 * Folds P consecutive steps into one token: [N, T, F] -> [N, ceil(T/P), P*F] (a free reshape after
 * left-padding the window with zeros when P does not divide T).
 */
export function patchify(x: tf.Tensor3D, patchLen: number): tf.Tensor3D {
  if (patchLen === 1) return x;
  const [n, t, f] = x.shape;
  const pad = frontPad(t, patchLen);
  const xp = pad > 0 ? tf.pad(x, [[0, 0], [pad, 0], [0, 0]]) : x;
  return tf.reshape(xp, [n, (t + pad) / patchLen, patchLen * f]);
}
