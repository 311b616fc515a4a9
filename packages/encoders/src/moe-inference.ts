/**
 * The mixture of experts' inference path (training = false, no gradient tape): the same function
 * as MoeEncoder.forward without the tfjs engine (38 engine ops and ~150 KB of JS garbage per
 * batch-1 call there). Four products through KernelRunner (patch embedding, router, all experts'
 * first layers, all experts' second layers); pooling, the normalisation, the router softmax, top-k
 * routing and the gate scaling are plain loops over the backend's memory. The summary layer norm's
 * gain and bias are folded into the router and expert products (cached, keyed on the variables'
 * dataIds, freed by dispose()). Routing ties go to the lower expert index, as in routing.ts.
 */
import { tf, KernelRunner, layerNormRowStats, type TensorRef } from '@task-agnostic/tf';
import type { DenseParams, NormParams } from './layers.js';
import { FoldCache, LN_EPS, foldNorm } from './fold.js';

export interface MoeWeights {
  readonly embed: DenseParams;
  readonly norm: NormParams;
  readonly router: DenseParams;
  readonly expertUp: DenseParams;
  readonly expertDownW: tf.Variable<tf.Rank.R2>;
  readonly expertDownB: tf.Variable<tf.Rank.R2>;
  /** Every variable the weights above hold, in a stable order: the cache key. */
  readonly variables: readonly tf.Variable[];
}

export interface MoeShape {
  readonly patchLen: number;
  readonly numExperts: number;
  readonly topK: number;
  readonly expertDim: number;
  readonly auxLossWeight: number;
}

/** One inference call's embedding and routing, as engine tensors owned by the caller. */
export interface MoeInferenceResult {
  readonly out: tf.Tensor2D;
  readonly probs: tf.Tensor2D;
  readonly mask: tf.Tensor2D;
  readonly gates: tf.Tensor2D;
  /** The unweighted load-balancing loss (routing.ts loadBalanceLoss). */
  readonly balance: tf.Scalar;
  /** balance x auxLossWeight. */
  readonly aux: tf.Scalar;
}

interface Folded {
  readonly routerW: TensorRef;
  readonly routerB: TensorRef;
  readonly upW: TensorRef;
  readonly upB: TensorRef;
}

export class MoeInference {
  private readonly folded: FoldCache<Folded>;

  constructor(
    private readonly weights: MoeWeights,
    private readonly shape: MoeShape,
  ) {
    this.folded = new FoldCache(weights.variables);
  }

  /** [N, T, F] -> the embedding and routing, or null when the backend has no direct kernels. */
  apply(x: tf.Tensor3D): MoeInferenceResult | null {
    const k = x.dtype === 'float32' && !x.isDisposed ? KernelRunner.forCurrentBackend() : null;
    if (!k) return null;
    const f = this.folded.get(k, (owned) => this.fold(k, owned));
    const w = this.weights;
    const { patchLen: p, numExperts: e, topK, expertDim } = this.shape;
    const [n, t, feat] = x.shape;
    const pad = (p - (t % p)) % p;
    const l = (t + pad) / p;
    const d = w.embed.w.shape[1];
    const outDim = w.expertDownW.shape[1];
    const live: TensorRef[] = [];
    const own = (r: TensorRef): TensorRef => {
      live.push(r);
      return r;
    };
    try {
      const xin = pad > 0 ? own(k.pad(x, [[0, 0], [pad, 0], [0, 0]])) : x;
      const tokens = own(k.matMul(k.view(xin, [n * l, p * feat]), w.embed.w, w.embed.b, 'relu')); // [N*L, d]
      // summary = norm(concat(mean over tokens, last token)) [N, 2d] (gain and bias folded)
      const summary = own(k.empty([n, 2 * d]));
      {
        const tv = k.values(tokens);
        const sv = k.values(summary);
        for (let s = 0; s < n; s++) {
          const so = s * 2 * d;
          for (let c = 0; c < d; c++) {
            let acc = 0;
            for (let r = 0; r < l; r++) acc += tv[(s * l + r) * d + c]!;
            sv[so + c] = acc / l;
            sv[so + d + c] = tv[(s * l + l - 1) * d + c]!;
          }
          normalizeRow(sv, so, 2 * d);
        }
      }
      const logits = own(k.matMul(summary, f.routerW, f.routerB)); // [N, E]
      const hidden = own(k.matMul(summary, f.upW, f.upB, 'relu')); // [N, E * expertDim]
      const probs = own(k.empty([n, e]));
      const mask = own(k.empty([n, e]));
      const gates = own(k.empty([n, e]));
      const balanceRec = own(k.empty([]));
      const auxRec = own(k.empty([]));
      let balance = 0;
      {
        const lv = k.values(logits);
        const pv = k.values(probs);
        const mv = k.values(mask);
        const gv = k.values(gates);
        const hv = k.values(hidden);
        const colMask = new Float64Array(e);
        const colProb = new Float64Array(e);
        for (let s = 0; s < n; s++) {
          const o = s * e;
          let max = -Infinity;
          for (let i = 0; i < e; i++) max = Math.max(max, lv[o + i]!);
          let sum = 0;
          for (let i = 0; i < e; i++) {
            const v = Math.exp(lv[o + i]! - max);
            pv[o + i] = v;
            sum += v;
          }
          for (let i = 0; i < e; i++) pv[o + i] = pv[o + i]! / sum;
          // top-k: expert i is kept when fewer than k experts beat it (higher prob, or equal and lower index)
          let kept = 0;
          for (let i = 0; i < e; i++) {
            let beaten = 0;
            for (let j = 0; j < e; j++) if (pv[o + j]! > pv[o + i]! || (pv[o + j] === pv[o + i] && j < i)) beaten++;
            const m = beaten < topK ? 1 : 0;
            mv[o + i] = m;
            kept += m * pv[o + i]!;
            colMask[i] = colMask[i]! + m;
            colProb[i] = colProb[i]! + pv[o + i]!;
          }
          for (let i = 0; i < e; i++) {
            const g = (mv[o + i]! * pv[o + i]!) / (kept + 1e-9);
            gv[o + i] = g;
            const hb = s * e * expertDim + i * expertDim;
            for (let c = 0; c < expertDim; c++) hv[hb + c] = hv[hb + c]! * g;
          }
        }
        let assignments = 0;
        for (let i = 0; i < e; i++) assignments += colMask[i]!;
        for (let i = 0; i < e; i++) balance += (colMask[i]! / assignments) * (colProb[i]! / n);
        balance *= e;
        k.values(balanceRec)[0] = balance;
        k.values(auxRec)[0] = balance * this.shape.auxLossWeight;
      }
      // out = gated hidden x W_down + gates x B_down
      const out = own(k.matMul(hidden, w.expertDownW)); // [N, D]
      {
        const ov = k.values(out);
        const gv = k.values(gates);
        const bv = k.values(w.expertDownB);
        for (let s = 0; s < n; s++) {
          for (let i = 0; i < e; i++) {
            const g = gv[s * e + i]!;
            if (g === 0) continue;
            for (let c = 0; c < outDim; c++) ov[s * outDim + c] = ov[s * outDim + c]! + g * bv[i * outDim + c]!;
          }
        }
      }
      // hand the results to the engine; free the rest
      const result: MoeInferenceResult = {
        out: k.toTensor<tf.Rank.R2>(out),
        probs: k.toTensor<tf.Rank.R2>(probs),
        mask: k.toTensor<tf.Rank.R2>(mask),
        gates: k.toTensor<tf.Rank.R2>(gates),
        balance: k.toTensor<tf.Rank.R0>(balanceRec),
        aux: k.toTensor<tf.Rank.R0>(auxRec),
      };
      for (const r of [out, probs, mask, gates, balanceRec, auxRec]) live.splice(live.indexOf(r), 1);
      return result;
    } finally {
      for (const r of live) k.free(r);
    }
  }

  private fold(k: KernelRunner, owned: TensorRef[]): Folded {
    const w = this.weights;
    const [routerW, routerB] = foldNorm(k, w.norm, w.router);
    owned.push(routerW, routerB);
    const [upW, upB] = foldNorm(k, w.norm, w.expertUp);
    owned.push(upW, upB);
    return { routerW, routerB, upW, upB };
  }

  /** Frees the folded weights (rebuilt on the next apply). */
  dispose(): void {
    this.folded.dispose();
  }
}

/** (x - mean) / sqrt(var + eps) over v[o, o + d), in place. */
function normalizeRow(v: Float32Array, o: number, d: number): void {
  const { mean, rstd } = layerNormRowStats(v, o, d, LN_EPS);
  for (let c = 0; c < d; c++) v[o + c] = (v[o + c]! - mean) * rstd;
}
