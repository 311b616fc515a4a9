/**
 * The transformer's inference path (training = false, no gradient tape): the same function as the
 * graph path in transformer.ts, without the tfjs engine. The graph path runs ~160 engine ops per
 * batch-1 call and leaves ~670 KB of JS garbage, so V8's scavenges land in a few percent of
 * predictions; this path makes 4N+2 products (N layers x 4 + input + output) through
 * KernelRunner (@task-agnostic/tf) and does the small rest in plain loops over the backend's
 * memory (inference-ops.ts), leaving ~8 KB. Windows of more than MAX_LOOP_ATTENTION_TOKENS tokens
 * take the graph path.
 *
 * - Each pre-LN layer norm's gain and bias are folded into the product that follows it:
 *   LN(x) W + b = norm(x) (diag(g) W) + (beta W + b). The final norm folds into the output
 *   projection the same way (mean pooling is linear). The attention scale 1/sqrt(dh) folds into
 *   the query columns of the QKV projection; the input bias folds into the positional table.
 * - One pass per residual update: h += delta (in place), then norm(h) for the next product.
 * - Attention reads q, k, v straight out of the fused [N*L, 3d] projection and writes the merged
 *   heads [N*L, d]: no transposes, slices or batched products.
 * - Folded weights are cached and keyed on the variables' dataIds (tf.Variable.assign gives a
 *   variable a new dataId, so any optimiser step or weight load invalidates the cache) and on the
 *   backend; dispose() frees them.
 */
import { tf, KernelRunner, type TensorRef } from '@task-agnostic/tf';
import type { AttentionParams, DenseParams, FeedForwardParams, NormParams } from './layers.js';
import { FoldCache, foldNorm } from './fold.js';
import { LoopAttention, MAX_LOOP_ATTENTION_TOKENS, residualNorm, residualNormMean } from './inference-ops.js';

export interface TransformerWeights {
  readonly inProj: DenseParams;
  readonly positions: tf.Tensor2D;
  readonly layers: readonly { norm1: NormParams; attn: AttentionParams; norm2: NormParams; ff: FeedForwardParams }[];
  readonly finalNorm: NormParams;
  readonly outProj: DenseParams;
  /** Every variable the weights above hold, in a stable order: the cache key. */
  readonly variables: readonly tf.Variable[];
}

interface FoldedLayer {
  readonly qkvW: TensorRef;
  readonly qkvB: TensorRef;
  readonly outW: TensorRef;
  readonly outB: TensorRef;
  readonly upW: TensorRef;
  readonly upB: TensorRef;
  readonly downW: TensorRef;
  readonly downB: TensorRef;
  readonly numHeads: number;
}

/**
 * The folded weights: backend records made by `runner` (not engine tensors), or the variables
 * themselves where nothing folds into them (output and down projections).
 */
interface Folded {
  readonly inW: TensorRef;
  /** positions + input bias, [L, d]. */
  readonly posBias: TensorRef;
  readonly layers: readonly FoldedLayer[];
  readonly finW: TensorRef;
  readonly finB: TensorRef;
}


export class TransformerInference {
  private readonly folded: FoldCache<Folded>;
  private readonly attention = new LoopAttention();

  constructor(
    private readonly weights: TransformerWeights,
    private readonly patchLen: number,
  ) {
    this.folded = new FoldCache(weights.variables);
  }

  /**
   * [N, T, F] -> [N, D], or null (use the graph path) when the backend has no direct kernels or
   * the window has more than MAX_LOOP_ATTENTION_TOKENS tokens.
   */
  apply(x: tf.Tensor3D): tf.Tensor2D | null {
    const k = x.dtype === 'float32' && !x.isDisposed ? KernelRunner.forCurrentBackend() : null;
    if (!k) return null;
    const f = this.folded.get(k, (owned) => this.fold(k, owned));
    const [n, t, feat] = x.shape;
    const p = this.patchLen;
    const pad = (p - (t % p)) % p;
    const l = (t + pad) / p;
    if (l > MAX_LOOP_ATTENTION_TOKENS) return null;
    const rows = n * l;
    // Records still to free (freed as soon as they are consumed; the rest on an error).
    const live: TensorRef[] = [];
    const own = (r: TensorRef): TensorRef => {
      live.push(r);
      return r;
    };
    const release = (r: TensorRef): void => {
      const i = live.indexOf(r);
      live[i] = live[live.length - 1]!;
      live.length--;
      k.free(r);
    };
    try {
      const xin = pad > 0 ? own(k.pad(x, [[0, 0], [pad, 0], [0, 0]])) : x;
      // h: the residual stream [rows, d], updated in place (h += delta, + positions at the start).
      const h = own(k.matMul(k.view(xin, [rows, p * feat]), f.inW));
      if (xin !== x) release(xin);
      let delta: TensorRef | null = null;
      let rowBias: TensorRef | null = f.posBias;
      for (const layer of f.layers) {
        const u = own(residualNorm(k, h, delta, rowBias, l));
        if (delta) release(delta);
        rowBias = null;
        const qkv = own(k.matMul(u, layer.qkvW, layer.qkvB));
        release(u);
        const ctx = own(this.attention.apply(k, qkv, n, l, layer.numHeads));
        release(qkv);
        const a = own(k.matMul(ctx, layer.outW, layer.outB));
        release(ctx);
        const u2 = own(residualNorm(k, h, a, null, l));
        release(a);
        const up = own(k.matMul(u2, layer.upW, layer.upB, 'relu'));
        release(u2);
        delta = own(k.matMul(up, layer.downW, layer.downB));
        release(up);
      }
      const pooled = own(residualNormMean(k, h, delta, rowBias, n, l));
      if (delta) release(delta);
      release(h);
      const out = own(k.matMul(pooled, f.finW, f.finB));
      release(pooled);
      const y = k.toTensor<tf.Rank.R2>(out);
      live.length = 0; // `out` now belongs to the engine
      return y;
    } finally {
      for (const r of live) k.free(r);
    }
  }

  private fold(k: KernelRunner, owned: TensorRef[]): Folded {
    const w = this.weights;
    const layers: FoldedLayer[] = w.layers.map((layer) => {
      const d = layer.attn.qkv.w.shape[0];
      const scale = 1 / Math.sqrt(d / layer.attn.numHeads);
      const [qkvW, qkvB] = foldNorm(k, layer.norm1, layer.attn.qkv, (j) => (j < d ? scale : 1));
      const [upW, upB] = foldNorm(k, layer.norm2, layer.ff.up);
      owned.push(qkvW, qkvB, upW, upB);
      const { out } = layer.attn;
      const { down } = layer.ff;
      return { qkvW, qkvB, upW, upB, outW: out.w, outB: out.b, downW: down.w, downB: down.b, numHeads: layer.attn.numHeads };
    });
    const [finW, finB] = foldNorm(k, w.finalNorm, w.outProj);
    const [l, dModel] = w.positions.shape;
    k.values(w.positions), k.values(w.inProj.b); // moves any still on another backend
    const posBias = k.empty([l, dModel]);
    const pos = k.values(w.positions);
    const inB = k.values(w.inProj.b);
    const pb = k.values(posBias);
    for (let r = 0; r < l; r++) for (let c = 0; c < dModel; c++) pb[r * dModel + c] = pos[r * dModel + c]! + inB[c]!;
    owned.push(finW, finB, posBias);
    return { inW: w.inProj.w, posBias, layers, finW, finB };
  }

  /** Frees the folded weights (rebuilt on the next apply). */
  dispose(): void {
    this.folded.dispose();
  }
}
