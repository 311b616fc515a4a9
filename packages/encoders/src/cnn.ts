/**
 * CNN encoder, the source design's "Architecture 1": stacked temporal convolutions for local,
 * mid and long range (dilations 1, 2, 4 with kernel 3 by default), their outputs concatenated
 * (multi-scale features) and projected to dModel, one multi-head self-attention block
 * (pre-LN, residual) for temporal relationships, global average pooling, output projection.
 * `attentionPool` > 1 average-pools the time axis before attention (cost / stride^2).
 */
import { tf } from '@task-agnostic/tf';
import { ConfigError, Rng } from '@task-agnostic/core';
import type { CnnConfig } from './config.js';
import { BaseEncoder } from './encoder.js';
import { ParamStore } from './params.js';
import {
  type AttentionParams,
  type DenseParams,
  type NormParams,
  applyAttention,
  applyDense,
  applyNorm,
  makeAttention,
  makeDense,
  makeNorm,
  maybeDropout,
} from './layers.js';
import { type TemporalConvParams, applyTemporalConv, makeTemporalConv } from './temporal-conv.js';

export class CnnEncoder extends BaseEncoder<CnnConfig> {
  readonly lastSharedWeights: tf.Variable;
  private readonly convs: TemporalConvParams[] = [];
  private readonly mix: DenseParams;
  private readonly attnNorm: NormParams | null;
  private readonly attn: AttentionParams | null;
  private readonly outProj: DenseParams;

  constructor(config: CnnConfig, inputShape: readonly [number, number], seed: number) {
    const [t, f] = inputShape;
    if (t % config.attentionPool !== 0) {
      throw new ConfigError(`encoder.attentionPool ${config.attentionPool} must divide the window length ${t}`, 'encoder.attentionPool');
    }
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
  }

  protected forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D {
    const scales: tf.Tensor3D[] = [];
    let h = x;
    for (const c of this.convs) {
      h = applyTemporalConv(h, c, 'relu');
      scales.push(h);
    }
    const multi = scales.length === 1 ? scales[0]! : tf.concat(scales, 2);
    let z = applyDense(multi, this.mix, 'relu');
    const pool = this.config.attentionPool;
    if (pool > 1) {
      const [n, t, d] = z.shape;
      z = tf.mean(tf.reshape(z, [n, t / pool, pool, d]), 2) as tf.Tensor3D;
    }
    if (this.attn && this.attnNorm) {
      const a = applyAttention(applyNorm(z, this.attnNorm), this.attn);
      z = tf.add(z, maybeDropout(a, this.config.dropout, training, () => this.params.nextSeed()));
    }
    return applyDense(tf.mean(z, 1) as tf.Tensor2D, this.outProj);
  }
}
