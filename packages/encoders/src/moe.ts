/**
 * Mixture-of-experts encoder: patches of the window are embedded (dModel) and pooled (mean and
 * last patch, so the summary keeps recency), a router (softmax over K experts) picks the top-k
 * experts per sample, each expert is an MLP dModel*2 -> expertDim -> outputDim, and the output is
 * the gate-weighted sum of the chosen experts. The experts run densely (K is small, and dense
 * 2-D products are what wasm does fast); the gates are zero outside the top-k set, so outputs and
 * gradients are exactly those of sparse routing. auxLoss() returns the weighted Switch/GShard
 * load-balancing loss of the last apply; diagnostics() its expert usage.
 */
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import type { MoeConfig } from './config.js';
import { BaseEncoder } from './encoder.js';
import { ParamStore } from './params.js';
import { type DenseParams, type NormParams, applyDense, applyNorm, makeDense, makeNorm, maybeDropout, patchify } from './layers.js';

interface LastRouting {
  readonly aux: tf.Scalar;
  readonly balance: tf.Scalar;
  readonly probs: tf.Tensor2D;
  readonly mask: tf.Tensor2D;
  readonly gates: tf.Tensor2D;
}
import { type ExpertUsage, expertUsage, loadBalanceLoss, topKGates, topKMask } from './routing.js';
import { MoeInference } from './moe-inference.js';

export class MoeEncoder extends BaseEncoder<MoeConfig> {
  readonly lastSharedWeights: tf.Variable;
  private readonly embed: DenseParams;
  private readonly norm: NormParams;
  private readonly router: DenseParams;
  /** All experts' first layers side by side: [2d, K * expertDim]. */
  private readonly expertUp: DenseParams;
  /** All experts' second layers stacked: [K * expertDim, outputDim], biases [K, outputDim]. */
  private readonly expertDownW: tf.Variable<tf.Rank.R2>;
  private readonly expertDownB: tf.Variable<tf.Rank.R2>;
  private last: LastRouting | null = null;
  private readonly inference: MoeInference;

  constructor(config: MoeConfig, inputShape: readonly [number, number], seed: number) {
    const [t, f] = inputShape;
    const p = new ParamStore(new Rng(seed), 'moe');
    super(config, inputShape, p);
    const d = config.dModel;
    this.embed = makeDense(p, 'embed', config.patchLen * f, d);
    this.norm = makeNorm(p, 'norm', 2 * d);
    this.router = makeDense(p, 'router', 2 * d, config.numExperts);
    this.expertUp = makeDense(p, 'experts/up', 2 * d, config.numExperts * config.expertDim);
    // Each expert's block of rows is Glorot-initialised for its own fan-in/fan-out.
    const blocks = Array.from({ length: config.numExperts }, (_, i) => p.weight(`experts/${i}/down/w`, config.expertDim, config.outputDim));
    this.expertDownW = p.adopt('experts/down/w', tf.concat(blocks, 0) as tf.Tensor2D, blocks);
    this.expertDownB = p.adopt('experts/down/b', tf.zeros([config.numExperts, config.outputDim]) as tf.Tensor2D, []);
    // The stacked expert output layer is the last layer shared by all tasks (GradNorm measures here).
    this.lastSharedWeights = this.expertDownW;
    this.inference = new MoeInference(
      { embed: this.embed, norm: this.norm, router: this.router, expertUp: this.expertUp, expertDownW: this.expertDownW, expertDownB: this.expertDownB, variables: p.variables },
      config,
    );
  }

  protected override infer(x: tf.Tensor3D): tf.Tensor2D | null {
    const r = this.inference.apply(x);
    if (!r) return null;
    this.replaceLast({ aux: r.aux, balance: r.balance, probs: r.probs, mask: r.mask, gates: r.gates });
    return r.out;
  }

  protected forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D {
    const { numExperts: e, topK, expertDim, dropout, auxLossWeight } = this.config;
    const tokens = applyDense(patchify(x, this.config.patchLen), this.embed, 'relu'); // [N, L, d]
    const l = tokens.shape[1];
    const lastTok = tf.reshape(tf.slice(tokens, [0, l - 1, 0], [-1, 1, -1]), [tokens.shape[0], tokens.shape[2]]);
    const summary = applyNorm(tf.concat([tf.mean(tokens, 1), lastTok], 1) as tf.Tensor2D, this.norm); // [N, 2d]
    const probs = tf.softmax(applyDense(summary, this.router)); // [N, K]
    const mask = topKMask(probs, topK);
    const gates = topKGates(probs, mask);
    const hidden = maybeDropout(applyDense(summary, this.expertUp, 'relu'), dropout, training, () => this.params.nextSeed());
    // sum_i g_i (h_i W_i + b_i) as ONE product: scale each expert's hidden block by its gate,
    // then [N, K*expertDim] x [K*expertDim, D] + gates x B.
    const n = hidden.shape[0];
    const gated = tf.reshape(tf.mul(tf.reshape(hidden, [n, e, expertDim]), tf.expandDims(gates, 2)), [n, e * expertDim]);
    const out = tf.add(tf.matMul(gated, this.expertDownW), tf.matMul(gates, this.expertDownB)) as tf.Tensor2D;
    const balance = loadBalanceLoss(probs, mask);
    const aux = tf.mul(balance, auxLossWeight) as tf.Scalar;
    this.replaceLast({ aux, balance, probs, mask, gates });
    return out;
  }

  private replaceLast(next: LastRouting): void {
    if (this.last) tf.dispose(Object.values(this.last));
    for (const t of Object.values(next)) tf.keep(t);
    this.last = next;
  }

  override auxLoss(): tf.Scalar | null {
    return this.last?.aux ?? null;
  }

  /** Expert usage of the last apply: { expertUsage: ExpertUsage, auxLoss: number (unweighted) }. */
  override diagnostics(): Record<string, unknown> {
    if (!this.last) return {};
    const [n, e] = this.last.probs.shape;
    const usage: ExpertUsage = expertUsage(this.last.probs.dataSync(), this.last.mask.dataSync(), this.last.gates.dataSync(), n, e);
    return { expertUsage: usage, loadBalanceLoss: this.last.balance.dataSync()[0]! };
  }

  protected override disposeExtra(): void {
    this.inference.dispose();
    if (this.last) tf.dispose(Object.values(this.last));
    this.last = null;
  }
}
