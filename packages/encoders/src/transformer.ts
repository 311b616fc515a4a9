/**
 * Transformer encoder (source design, "TransformerEncoder"): input projection, sinusoidal
 * positions, N pre-LN layers (multi-head self-attention + feed-forward, dropout, residuals),
 * final layer norm, mean pooling, output projection. Optional PatchTST patching: P consecutive
 * steps form one token (the window is left-padded with zeros when P does not divide T), which
 * divides attention cost by ~P^2.
 */
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import type { TransformerConfig } from './config.js';
import { BaseEncoder } from './encoder.js';
import { ParamStore } from './params.js';
import { TransformerInference } from './transformer-inference.js';
import {
  type AttentionParams,
  type DenseParams,
  type FeedForwardParams,
  type NormParams,
  applyAttention,
  applyDense,
  applyFeedForward,
  applyNorm,
  makeAttention,
  makeDense,
  makeFeedForward,
  makeNorm,
  maybeDropout,
  patchify,
  sinusoidalPositions,
} from './layers.js';

interface Layer {
  readonly norm1: NormParams;
  readonly attn: AttentionParams;
  readonly norm2: NormParams;
  readonly ff: FeedForwardParams;
}

export class TransformerEncoder extends BaseEncoder<TransformerConfig> {
  readonly lastSharedWeights: tf.Variable;
  private readonly inProj: DenseParams;
  private readonly layers: Layer[] = [];
  private readonly finalNorm: NormParams;
  private readonly outProj: DenseParams;
  private readonly positions: tf.Tensor2D;
  private readonly tokens: number;
  private readonly inference: TransformerInference;

  constructor(config: TransformerConfig, inputShape: readonly [number, number], seed: number) {
    const [t, f] = inputShape;
    const p = new ParamStore(new Rng(seed), 'transformer');
    super(config, inputShape, p);
    const d = config.dModel;
    this.tokens = Math.ceil(t / config.patchLen);
    this.inProj = makeDense(p, 'input', config.patchLen * f, d);
    for (let i = 0; i < config.numLayers; i++) {
      this.layers.push({
        norm1: makeNorm(p, `layer${i}/norm1`, d),
        attn: makeAttention(p, `layer${i}/attn`, d, config.numHeads),
        norm2: makeNorm(p, `layer${i}/norm2`, d),
        ff: makeFeedForward(p, `layer${i}/ff`, d, config.ffDim),
      });
    }
    this.finalNorm = makeNorm(p, 'final_norm', d);
    this.outProj = makeDense(p, 'output', d, config.outputDim);
    this.lastSharedWeights = this.outProj.w;
    this.positions = tf.tensor2d(sinusoidalPositions(this.tokens, d), [this.tokens, d]);
    this.inference = new TransformerInference(
      { inProj: this.inProj, positions: this.positions, layers: this.layers, finalNorm: this.finalNorm, outProj: this.outProj, variables: p.variables },
      config.patchLen,
    );
  }

  protected override infer(x: tf.Tensor3D): tf.Tensor2D | null {
    return this.inference.apply(x);
  }

  protected forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D {
    const { dropout } = this.config;
    const seed = () => this.params.nextSeed();
    let h = tf.add(applyDense(patchify(x, this.config.patchLen), this.inProj), this.positions) as tf.Tensor3D;
    for (const layer of this.layers) {
      const a = applyAttention(applyNorm(h, layer.norm1), layer.attn);
      h = tf.add(h, maybeDropout(a, dropout, training, seed));
      const f = applyFeedForward(applyNorm(h, layer.norm2), layer.ff);
      h = tf.add(h, maybeDropout(f, dropout, training, seed));
    }
    const pooled = tf.mean(applyNorm(h, this.finalNorm), 1) as tf.Tensor2D;
    return applyDense(pooled, this.outProj);
  }

  protected override disposeExtra(): void {
    this.inference.dispose();
    this.positions.dispose();
  }
}
