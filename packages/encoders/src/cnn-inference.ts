/**
 * The CNN's inference path (training = false, no gradient tape, at most MAX_LOOP_ATTENTION_TOKENS
 * steps into its attention): the same function as CnnEncoder.forward without the tfjs engine
 * (~90 engine ops per batch-1 call there). Each temporal convolution is one direct product on an
 * im2col matrix built by a loop ([N*T, k*C]: tap j of step t reads step t + j*dilation - half,
 * zero outside the window), the multi-scale features are concatenated by a loop and projected by
 * one product, time pooling and mean pooling are loops, and the attention block is the
 * transformer's (its pre-LN gain and bias folded into the QKV product, cached and keyed on the
 * variables' dataIds, freed by dispose()).
 */
import { tf, KernelRunner, type TensorRef } from '@task-agnostic/tf';
import type { AttentionParams, DenseParams, NormParams } from './layers.js';
import type { TemporalConvParams } from './temporal-conv.js';
import { FoldCache, foldNorm } from './fold.js';
import { LoopAttention, MAX_LOOP_ATTENTION_TOKENS, residualNorm } from './inference-ops.js';

export interface CnnWeights {
  readonly convs: readonly TemporalConvParams[];
  readonly mix: DenseParams;
  readonly attnNorm: NormParams | null;
  readonly attn: AttentionParams | null;
  readonly outProj: DenseParams;
  readonly attentionPool: number;
  /** Every variable the weights above hold, in a stable order: the cache key. */
  readonly variables: readonly tf.Variable[];
}

interface Folded {
  readonly qkv: readonly [TensorRef, TensorRef] | null;
}

export class CnnInference {
  private readonly folded: FoldCache<Folded>;
  private readonly attention = new LoopAttention();

  constructor(private readonly weights: CnnWeights) {
    this.folded = new FoldCache(weights.variables);
  }

  /** [N, T, F] -> [N, D], or null (use the graph path): no direct kernels, or a long attention. */
  apply(x: tf.Tensor3D): tf.Tensor2D | null {
    const w = this.weights;
    const [n, t] = x.shape;
    const pool = w.attentionPool;
    const pad = (pool - (t % pool)) % pool;
    const l = (t + pad) / pool; // steps after time pooling
    if (w.attn && l > MAX_LOOP_ATTENTION_TOKENS) return null;
    const k = x.dtype === 'float32' && !x.isDisposed ? KernelRunner.forCurrentBackend() : null;
    if (!k) return null;
    const f = this.folded.get(k, (owned) => this.fold(k, owned));
    const live: TensorRef[] = [];
    const own = (r: TensorRef): TensorRef => {
      live.push(r);
      return r;
    };
    try {
      k.values(x); // moves x here if it is still on another backend
      const scales: TensorRef[] = [];
      let h: TensorRef = k.view(x, [n * t, x.shape[2]]);
      for (const c of w.convs) {
        const cols = own(im2col(k, h, n, t, c.kernelSize, c.dilation));
        h = own(k.matMul(cols, c.dense.w, c.dense.b, 'relu'));
        scales.push(h);
      }
      const cat = own(concatColumns(k, scales));
      let z = own(k.matMul(cat, w.mix.w, w.mix.b, 'relu')); // [N*T, d]
      if (pool > 1) z = own(timePool(k, z, n, t, pool));
      const d = z.shape[1]!;
      let delta: TensorRef | null = null;
      if (w.attn && f.qkv) {
        const u = own(residualNorm(k, z, null, null, l));
        const qkv = own(k.matMul(u, f.qkv[0], f.qkv[1]));
        const ctx = own(this.attention.apply(k, qkv, n, l, w.attn.numHeads));
        delta = own(k.matMul(ctx, w.attn.out.w, w.attn.out.b));
      }
      // pooled[n] = mean over steps of (z + delta)
      const pooled = own(k.empty([n, d]));
      {
        const zv = k.values(z);
        const dv = delta ? k.values(delta) : null;
        const pv = k.values(pooled);
        for (let s = 0; s < n; s++) {
          for (let c = 0; c < d; c++) {
            let acc = 0;
            for (let r = 0; r < l; r++) {
              const q = (s * l + r) * d + c;
              acc += dv ? Math.fround(zv[q]! + dv[q]!) : zv[q]!;
            }
            pv[s * d + c] = acc / l;
          }
        }
      }
      const out = k.matMul(pooled, w.outProj.w, w.outProj.b);
      return k.toTensor<tf.Rank.R2>(out);
    } finally {
      for (const r of live) k.free(r);
    }
  }

  private fold(k: KernelRunner, owned: TensorRef[]): Folded {
    const { attn, attnNorm } = this.weights;
    if (!attn || !attnNorm) return { qkv: null };
    const d = attn.qkv.w.shape[0];
    const scale = 1 / Math.sqrt(d / attn.numHeads);
    const qkv = foldNorm(k, attnNorm, attn.qkv, (j) => (j < d ? scale : 1));
    owned.push(...qkv);
    return { qkv };
  }

  /** Frees the folded weights (rebuilt on the next apply). */
  dispose(): void {
    this.folded.dispose();
  }
}

/** [N*T, C] -> [N*T, k*C]: column block j holds step t + j*dilation - half ('same' zero padding). */
function im2col(k: KernelRunner, x: TensorRef, n: number, t: number, kernelSize: number, dilation: number): TensorRef {
  const ch = x.shape[1]!;
  const half = ((kernelSize - 1) / 2) * dilation;
  const width = kernelSize * ch;
  const out = k.empty([n * t, width]);
  const xv = k.values(x);
  const ov = k.values(out);
  for (let s = 0; s < n; s++) {
    for (let step = 0; step < t; step++) {
      const row = (s * t + step) * width;
      for (let j = 0; j < kernelSize; j++) {
        const src = step + j * dilation - half;
        const o = row + j * ch;
        if (src < 0 || src >= t) ov.fill(0, o, o + ch);
        else ov.set(xv.subarray((s * t + src) * ch, (s * t + src + 1) * ch), o);
      }
    }
  }
  return out;
}

/** Row-wise concatenation of equal-height [R, C_i] records -> [R, sum C_i]. */
function concatColumns(k: KernelRunner, parts: readonly TensorRef[]): TensorRef {
  const rows = parts[0]!.shape[0]!;
  const width = parts.reduce((a, p) => a + p.shape[1]!, 0);
  const out = k.empty([rows, width]);
  const ov = k.values(out);
  let offset = 0;
  for (const p of parts) {
    const c = p.shape[1]!;
    const pv = k.values(p);
    for (let r = 0; r < rows; r++) ov.set(pv.subarray(r * c, (r + 1) * c), r * width + offset);
    offset += c;
  }
  return out;
}

/**
 * [N*T, d] -> [N*L, d], L = ceil(T / pool): means over groups of `pool` steps; when pool does not
 * divide T the oldest group is shorter (as CnnEncoder.forward: front padding, mean over real steps).
 */
function timePool(k: KernelRunner, z: TensorRef, n: number, t: number, pool: number): TensorRef {
  const d = z.shape[1]!;
  const pad = (pool - (t % pool)) % pool;
  const l = (t + pad) / pool;
  const out = k.empty([n * l, d]);
  const zv = k.values(z);
  const ov = k.values(out);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < l; g++) {
      const first = Math.max(0, g * pool - pad);
      const last = (g + 1) * pool - pad; // exclusive
      const o = (s * l + g) * d;
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let step = first; step < last; step++) acc += zv[(s * t + step) * d + c]!;
        ov[o + c] = acc / (last - first);
      }
    }
  }
  return out;
}
