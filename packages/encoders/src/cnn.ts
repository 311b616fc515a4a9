/**
 * CNN encoder, the source design's "Architecture 1": stacked temporal convolutions for local,
 * mid and long range (dilations 1, 2, 4 with kernel 3 by default), their outputs concatenated
 * (multi-scale features) and projected to dModel, one multi-head self-attention block
 * (pre-LN, residual) for temporal relationships, global average pooling, output projection.
 * `attentionPool` > 1 average-pools the time axis before attention (cost / stride^2).
 * [N, T, F] windows of any length T work with any patch/pool setting.
 */
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import type { CnnConfig } from './config.js';
import { BaseEncoder } from './encoder.js';
import { ParamStore } from './params.js';
import {
  type AttentionParams,
  type DenseParams,
  type NormParams,
  applyAttention,
  applyDense,
  applyDenseOverParts,
  applyNorm,
  makeAttention,
  makeDense,
  makeNorm,
  frontPad,
  maybeDropout,
} from './layers.js';
import { type TemporalConvParams, applyTemporalConv, makeTemporalConv } from './temporal-conv.js';
import { CnnInference } from './cnn-inference.js';

export class CnnEncoder extends BaseEncoder<CnnConfig> {
  readonly lastSharedWeights: tf.Variable;
  private readonly convs: TemporalConvParams[] = [];
  private readonly mix: DenseParams;
  private readonly attnNorm: NormParams | null;
  private readonly attn: AttentionParams | null;
  private readonly outProj: DenseParams;
  private readonly inference: CnnInference;

  constructor(config: CnnConfig, inputShape: readonly [number, number], seed: number) {
    const [t, f] = inputShape;
    const p = new ParamStore(new Rng(seed), 'cnn');
    super(config, inputShape, p);
    let inCh = f;
    config.dilations.forEach((dil, i) => {
      this.convs.push(makeTemporalConv(p, `conv${i}`, inCh, config.channels, config.kernelSize, dil));
      inCh = config.channels;
    });
    this.mix = makeDense(p, 'mix', config.channels * config.dilations.length, config.dModel);
    if (config.numHeads > 0) {
      this.attnNorm = makeNorm(p, 'attn_norm', config.dModel);
      this.attn = makeAttention(p, 'attn', config.dModel, config.numHeads);
    } else {
      this.attnNorm = null;
      this.attn = null;
    }
    this.outProj = makeDense(p, 'output', config.dModel, config.outputDim);
    this.lastSharedWeights = this.outProj.w;
    this.inference = new CnnInference({
      convs: this.convs,
      mix: this.mix,
      attnNorm: this.attnNorm,
      attn: this.attn,
      outProj: this.outProj,
      attentionPool: config.attentionPool,
      variables: p.variables,
    });
  }

  protected override infer(x: tf.Tensor3D): tf.Tensor2D | null {
    return this.inference.apply(x);
  }

  protected override disposeExtra(): void {
    this.inference.dispose();
  }

  protected forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D {
    const scales: tf.Tensor3D[] = [];
    let h = x;
    for (const c of this.convs) {
      h = applyTemporalConv(h, c, 'relu');
      scales.push(h);
    }
    // The multi-scale features concatenated and projected, without materialising the concat.
    let z = applyDenseOverParts(scales, this.mix, 'relu') as tf.Tensor3D;
    const pool = this.config.attentionPool;
    if (pool > 1) {
      // Average over non-overlapping groups of `pool` steps; when pool does not divide T the
      // oldest group is shorter (its mean is taken over its real steps only).
      const [n, t, d] = z.shape;
      const pad = frontPad(t, pool);
      const zp = pad > 0 ? tf.pad(z, [[0, 0], [pad, 0], [0, 0]]) : z;
      const sums = tf.sum(tf.reshape(zp, [n, (t + pad) / pool, pool, d]), 2);
      const counts = Array.from({ length: (t + pad) / pool }, (_, i) => (i === 0 ? pool - pad : pool));
      z = tf.div(sums, tf.tensor3d(counts, [1, counts.length, 1])) as tf.Tensor3D;
    }
    if (this.attn && this.attnNorm) {
      const a = applyAttention(applyNorm(z, this.attnNorm), this.attn);
      z = tf.add(z, maybeDropout(a, this.config.dropout, training, () => this.params.nextSeed()));
    }
    return applyDense(tf.mean(z, 1) as tf.Tensor2D, this.outProj);
  }
}
