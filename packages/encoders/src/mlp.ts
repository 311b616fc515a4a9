/**
 * MLP encoder (the source design's feed-forward encoder): the flattened window [T*F] goes through
 * dense -> batch norm -> ReLU layers (a residual connection where a layer's input and output
 * widths match), dropout, and an output projection; the embedding is L2-normalised. Batch-norm
 * moving statistics are non-trainable variables in `variables` (saved with the model); training
 * applies use batch statistics and update them, inference uses them.
 */
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import type { MlpConfig } from './config.js';
import { BaseEncoder } from './encoder.js';
import { ParamStore } from './params.js';
import { type DenseParams, applyDense, makeDense, maybeDropout } from './layers.js';

interface BnLayer {
  readonly dense: DenseParams;
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;
  readonly movingMean: tf.Variable<tf.Rank.R1>;
  readonly movingVar: tf.Variable<tf.Rank.R1>;
  readonly residual: boolean;
}

const BN_EPSILON = 1e-3; // Keras BatchNormalization default

export class MlpEncoder extends BaseEncoder<MlpConfig> {
  readonly lastSharedWeights: tf.Variable;
  private readonly layers: BnLayer[] = [];
  private readonly outProj: DenseParams;

  constructor(config: MlpConfig, inputShape: readonly [number, number], seed: number) {
    const p = new ParamStore(new Rng(seed), 'mlp');
    super(config, inputShape, p);
    let inDim = inputShape[0] * inputShape[1];
    config.hiddenDims.forEach((dim, i) => {
      this.layers.push({
        dense: makeDense(p, `layer${i}/dense`, inDim, dim),
        gamma: p.fill(`layer${i}/bn/gamma`, dim, 1),
        beta: p.fill(`layer${i}/bn/beta`, dim, 0),
        movingMean: p.fill(`layer${i}/bn/moving_mean`, dim, 0, false),
        movingVar: p.fill(`layer${i}/bn/moving_variance`, dim, 1, false),
        residual: inDim === dim,
      });
      inDim = dim;
    });
    this.outProj = makeDense(p, 'output', inDim, config.outputDim);
    this.lastSharedWeights = this.outProj.w;
  }

  protected forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D {
    const [n, t, f] = x.shape;
    let h = tf.reshape(x, [n, t * f]) as tf.Tensor2D;
    const m = this.config.batchNormMomentum;
    for (const layer of this.layers) {
      const z = applyDense(h, layer.dense);
      let normed: tf.Tensor2D;
      if (training && n > 1) {
        const { mean, variance } = tf.moments(z, 0);
        normed = tf.batchNorm(z, mean, variance, layer.beta, layer.gamma, BN_EPSILON) as tf.Tensor2D;
        // Moving statistics (assign is not differentiated); unbiased variance as Keras does.
        const unbiased = tf.mul(variance, n / (n - 1));
        layer.movingMean.assign(tf.add(tf.mul(layer.movingMean, m), tf.mul(mean, 1 - m)) as tf.Tensor1D);
        layer.movingVar.assign(tf.add(tf.mul(layer.movingVar, m), tf.mul(unbiased, 1 - m)) as tf.Tensor1D);
      } else {
        normed = tf.batchNorm(z, layer.movingMean, layer.movingVar, layer.beta, layer.gamma, BN_EPSILON) as tf.Tensor2D;
      }
      let a = tf.relu(normed);
      if (layer.residual) a = tf.add(a, h) as tf.Tensor2D;
      h = maybeDropout(a, this.config.dropout, training, () => this.params.nextSeed());
    }
    const y = applyDense(h, this.outProj);
    if (!this.config.l2Normalize) return y;
    return tf.div(y, tf.sqrt(tf.add(tf.sum(tf.square(y), 1, true), 1e-12))) as tf.Tensor2D;
  }
}
