/**
 * Every float32 product of the wasm backend (`BatchMatMul` and `_FusedMatMul` with a rank-1 bias
 * and linear/relu activation: 2-D, batched, rank 4, broadcast batch, any transpose flags) on the
 * register-tiled SIMD kernel of simd-kernels.ts, in place in the wasm module's memory. On
 * tfjs-backend-wasm 4.22 a batched product runs a scalar loop (1.3-2.7 GFLOP/s) and a transposed
 * one needs a materialised transpose before XNNPACK (fast-matmul.ts); here a transposed A costs
 * nothing (strides), a transposed B one pack per batch member, bias and relu are applied as each
 * tile is stored, and a broadcast batch of A is one product over all its rows. The fast-matMul
 * wrapper calls `simdMatMul` first; null means "not handled here" (another backend, no SIMD,
 * non-float32, an empty dimension, a batch broadcast other than equal or 1, a bias other than
 * [N], another activation).
 */
import { type TensorInfo, type WasmBackendInternals, simdInstance } from './simd-instance.js';

let enabledFlag = true;

/** Turn the SIMD product off (true = on), for A/B timing; the original kernels run instead. */
export function setSimdMatMulEnabled(on: boolean): void {
  enabledFlag = on;
}

export function simdMatMulEnabled(): boolean {
  return enabledFlag;
}

/** True where the SIMD kernel runs on this backend object (wasm with SIMD, unshared memory). */
export function simdMatMulAvailable(backend: unknown): boolean {
  return simdInstance(backend) !== null;
}

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

function sameDims(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The broadcast of two batch shapes where one of them holds a single batch (all ones). */
function broadcastLead(x: readonly number[], y: readonly number[]): number[] {
  const r = Math.max(x.length, y.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) out.push(Math.max(x[x.length - r + i] ?? 1, y[y.length - r + i] ?? 1));
  return out;
}

/**
 * act(a b + bias): a [...batchA, M, K] (or [..., K, M] with transposeA) times b [...batchB, K, N]
 * (or [..., N, K]), equal batch dims or one side's batch of 1; bias [N] or null; returns the
 * output record or null (not handled).
 */
export function simdMatMul(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | null,
  activation: string,
  backend: unknown,
): TensorInfo | null {
  if (!enabledFlag || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  const inst = simdInstance(backend);
  if (!inst) return null;
  const be = backend as WasmBackendInternals;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const leadA = a.shape.slice(0, -2);
  const leadB = b.shape.slice(0, -2);
  const batchA = product(leadA);
  const batchB = product(leadB);
  // Equal batch dims, or one side's batch of 1 (broadcast).
  if (batchA > 1 && batchB > 1 && !sameDims(leadA, leadB)) return null;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const k2 = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== k2) throw new Error(`matMul: inner dimensions ${k} and ${k2} differ (shapes [${a.shape}] and [${b.shape}], transposeA ${transposeA}, transposeB ${transposeB})`);
  if (m === 0 || n === 0 || k === 0) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== n)) return null;
  const lead = broadcastLead(leadA, leadB);
  const scratch = transposeB ? inst.scratch(k * n * 4) : 0;
  const out = be.makeOutput([...lead, m, n], 'float32');
  // Offsets after every allocation (they stay valid when the memory grows).
  const aAt = inst.offset(a);
  const bAt = inst.offset(b);
  const cAt = inst.offset(out);
  const biasAt = bias ? inst.offset(bias) : 0;
  const relu = activation === 'relu' ? 1 : 0;
  const { gemm, pack } = inst.kernels;
  let bp = bAt;
  if (transposeB && batchB === 1) {
    pack(bAt, scratch, k, n, 4, k * 4); // B stored [N, K]: B^T as [K, N] rows, once
    bp = scratch;
  }
  if (batchB === 1 && !transposeA) {
    // One product over every row of A (a broadcast batch folds into the rows).
    gemm(aAt, bp, cAt, batchA * m, n, k, k * 4, 4, n * 4, n * 4, biasAt, relu);
    return out;
  }
  const groups = Math.max(batchA, batchB);
  const aStep = batchA > 1 ? m * k * 4 : 0;
  const bStep = batchB > 1 ? k * n * 4 : 0;
  const sAi = transposeA ? 4 : k * 4;
  const sAk = transposeA ? m * 4 : 4;
  for (let g = 0; g < groups; g++) {
    if (transposeB && bStep !== 0) {
      pack(bAt + g * bStep, scratch, k, n, 4, k * 4);
      bp = scratch;
    } else if (bStep !== 0) bp = bAt + g * bStep;
    gemm(aAt + g * aStep, bp, cAt + g * m * n * 4, m, n, k, sAi, sAk, n * 4, n * 4, biasAt, relu);
  }
  return out;
}
