/**
 * Loops shared by the encoders' inference paths, run in place on the backend's memory through
 * KernelRunner.values (allocate first, then take the views): the residual update fused with the
 * next normalisation, and the attention core read straight out of a fused QKV projection.
 */
import { layerNormRowStats, type KernelRunner, type TensorRef } from '@task-agnostic/tf';
import { LN_EPS } from './fold.js';

/**
 * Longest token sequence the inference paths take. Its attention is plain loops (O(L^2 d) in JS): measured
 * against the graph path at d 64, 4 heads, 2 layers, batch 1 on wasm: L 12 0.21 vs 0.49 ms,
 * L 24 0.52 vs 0.51 ms, L 48 1.7 vs 1.1 ms, L 96 6.0 vs 3.1 ms. Longer windows use the graph path.
 */
export const MAX_LOOP_ATTENTION_TOKENS = 24;

/** Attention as loops, with scratch buffers reused across calls. */
export class LoopAttention {
  private scores = new Float64Array(0);
  private context = new Float64Array(0);

  /**
   * Multi-head self-attention core on the fused projection qkv [N*L, 3d] (columns: q | k | v, head
   * h at h*dh inside each; q already scaled by 1/sqrt(dh)) -> context [N*L, d] with heads merged.
   * Plain loops: at inference sizes (L ~ 12 tokens) this is a few microseconds, and it replaces
   * the head transposes, slices and batched products of the graph path.
   */
  apply(k: KernelRunner, qkv: TensorRef, n: number, l: number, heads: number): TensorRef {
    const d3 = qkv.shape[1]!;
    const d = d3 / 3;
    const dh = d / heads;
    const out = k.empty([n * l, d]);
    const qv = k.values(qkv);
    const ov = k.values(out);
    if (this.scores.length < l) this.scores = new Float64Array(l);
    if (this.context.length < dh) this.context = new Float64Array(dh);
    const sc = this.scores;
    const ctx = this.context;
    for (let s = 0; s < n; s++) {
      const r0 = s * l;
      for (let hh = 0; hh < heads; hh++) {
        const hq = hh * dh;
        for (let i = 0; i < l; i++) {
          const qOff = (r0 + i) * d3 + hq;
          let max = -Infinity;
          for (let j = 0; j < l; j++) {
            const kOff = (r0 + j) * d3 + d + hq;
            let dot = 0;
            for (let c = 0; c < dh; c++) dot += qv[qOff + c]! * qv[kOff + c]!;
            sc[j] = dot;
            if (dot > max) max = dot;
          }
          let sum = 0;
          for (let j = 0; j < l; j++) {
            const e = Math.exp(sc[j]! - max);
            sc[j] = e;
            sum += e;
          }
          // context row: sum_j p_j v_j, walking each v row contiguously
          ctx.fill(0, 0, dh);
          for (let j = 0; j < l; j++) {
            const p = sc[j]!;
            const vOff = (r0 + j) * d3 + 2 * d + hq;
            for (let c = 0; c < dh; c++) ctx[c] = ctx[c]! + p * qv[vOff + c]!;
          }
          const oOff = (r0 + i) * d + hq;
          const inv = 1 / sum;
          for (let c = 0; c < dh; c++) ov[oOff + c] = ctx[c]! * inv;
        }
      }
    }
    return out;
  }
}

/**
 * The residual stream update and the next layer norm in one pass: h += delta (+ rowBias[r mod L])
 * in place, returns norm(h) (no gain/bias: folded into the next product). h, delta [rows, d];
 * rowBias [L, d].
 */
export function residualNorm(k: KernelRunner, h: TensorRef, delta: TensorRef | null, rowBias: TensorRef | null, l: number): TensorRef {
  const [rows, d] = h.shape as [number, number];
  const u = k.empty([rows, d]);
  const hv = k.values(h);
  const uv = k.values(u);
  const dv = delta ? k.values(delta) : null;
  const bv = rowBias ? k.values(rowBias) : null;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    accumulateRow(hv, dv, bv, base, (r % l) * d, d);
    const { mean, rstd } = layerNormRowStats(hv, base, d, LN_EPS);
    for (let j = 0; j < d; j++) uv[base + j] = (hv[base + j]! - mean) * rstd;
  }
  return u;
}

/** As residualNorm, then the mean over each sample's L rows: [N, d] (the encoder's pooling). */
export function residualNormMean(k: KernelRunner, h: TensorRef, delta: TensorRef | null, rowBias: TensorRef | null, n: number, l: number): TensorRef {
  const d = h.shape[1]!;
  const pooled = k.empty([n, d]);
  const hv = k.values(h);
  const pv = k.values(pooled);
  const dv = delta ? k.values(delta) : null;
  const bv = rowBias ? k.values(rowBias) : null;
  pv.fill(0, 0, n * d);
  for (let r = 0; r < n * l; r++) {
    const base = r * d;
    const out = Math.floor(r / l) * d;
    accumulateRow(hv, dv, bv, base, (r % l) * d, d);
    const { mean, rstd } = layerNormRowStats(hv, base, d, LN_EPS);
    const inv = rstd / l;
    for (let j = 0; j < d; j++) pv[out + j] = pv[out + j]! + (hv[base + j]! - mean) * inv;
  }
  return pooled;
}

/** h[base..base+d) += delta (+ rowBias at bBase), stored as float32. */
function accumulateRow(hv: Float32Array, dv: Float32Array | null, bv: Float32Array | null, base: number, bBase: number, d: number): void {
  if (!dv && !bv) return;
  for (let j = 0; j < d; j++) {
    let x = hv[base + j]!;
    if (dv) x += dv[base + j]!;
    if (bv) x += bv[bBase + j]!;
    hv[base + j] = x;
  }
}
