/**
 * The core of multi-head self-attention, from the fused QKV projection to the merged heads:
 *
 *   qkv [N*L, 3d] (columns q | k | v, head h at columns h*dh..(h+1)*dh-1 of each, dh = d/H)
 *   -> ctx [N*L, d], ctx_h = softmax(Q_h K_h^T / sqrt(dh)) V_h for every sequence n and head h.
 *
 * On wasm (with WebAssembly SIMD) it runs as three kernels of this file around one tfjs softmax,
 * with a custom gradient: every per-head product reads its operands straight out of qkv (and
 * writes ctx, and dqkv in the backward pass) through strides, so no transpose, slice, reshape or
 * pad runs forward or backward, the products run on the register-tiled SIMD kernel instead of
 * tfjs-backend-wasm's scalar batched loop, and softmax's gradient is one fused pass per head
 * (simd-kernels.ts). Elsewhere the same function of plain tf ops (`multiHeadAttentionReference`).
 */
import { tf } from './tfjs.js';
import { type TensorInfo, type WasmBackendInternals, simdInstance } from './simd-instance.js';

const SCORES = 'TatAttentionScores';
const CONTEXT = 'TatAttentionContext';
const BACKWARD = 'TatAttentionBackward';

interface Attrs {
  batch: number;
  tokens: number;
  heads: number;
  scale: number;
}

let enabledFlag = true;

/** Turn the fused wasm path off (true = on), for A/B timing: the reference ops run instead. */
export function setFusedAttentionEnabled(on: boolean): void {
  enabledFlag = on;
}

function dims(a: Attrs, qkv: TensorInfo): { n: number; l: number; h: number; d: number; dh: number } {
  const d = qkv.shape[1]! / 3;
  return { n: a.batch, l: a.tokens, h: a.heads, d, dh: d / a.heads };
}

function register(): void {
  if (tf.getKernel(SCORES, 'wasm')) return;
  // S [N*H, L, L] = Q_g K_g^T (unscaled) for g = n*H + h.
  tf.registerKernel({
    kernelName: SCORES,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const inst = simdInstance(backend)!;
      const qkv = (inputs as unknown as { qkv: TensorInfo }).qkv;
      const { n, l, h, d, dh } = dims(attrs as unknown as Attrs, qkv);
      const be = backend as unknown as WasmBackendInternals;
      const scratch = inst.scratch(dh * l * 4);
      const out = be.makeOutput([n * h, l, l], 'float32');
      const base = inst.offset(qkv);
      const o = inst.offset(out);
      const row = 3 * d * 4;
      const { gemm, pack } = inst.kernels;
      for (let s = 0; s < n; s++) {
        for (let hh = 0; hh < h; hh++) {
          const q = base + s * l * row + hh * dh * 4;
          pack(q + d * 4, scratch, dh, l, 4, row); // K_g^T [dh, L]
          gemm(q, scratch, o + (s * h + hh) * l * l * 4, l, l, dh, row, 4, l * 4, l * 4, 0, 0);
        }
      }
      return out as never;
    },
  });
  // ctx [N*L, d]: ctx_g = P_g V_g, written into head g's columns.
  tf.registerKernel({
    kernelName: CONTEXT,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const inst = simdInstance(backend)!;
      const { p, qkv } = inputs as unknown as { p: TensorInfo; qkv: TensorInfo };
      const { n, l, h, d, dh } = dims(attrs as unknown as Attrs, qkv);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput([n * l, d], 'float32');
      const base = inst.offset(qkv);
      const pAt = inst.offset(p);
      const o = inst.offset(out);
      const row = 3 * d * 4;
      for (let s = 0; s < n; s++) {
        for (let hh = 0; hh < h; hh++) {
          const v = base + s * l * row + 2 * d * 4 + hh * dh * 4;
          inst.kernels.gemm(pAt + (s * h + hh) * l * l * 4, v, o + (s * l * d + hh * dh) * 4, l, dh, l, l * 4, 4, row, d * 4, 0, 0);
        }
      }
      return out as never;
    },
  });
  // dqkv [N*L, 3d] from P, qkv and dctx, one head at a time (dP and dS live in the scratch area):
  //   dP = dctx_g V_g^T; dV_g = P_g^T dctx_g; dS = scale * P (dP - rowsum(P dP));
  //   dQ_g = dS K_g; dK_g = dS^T Q_g.
  tf.registerKernel({
    kernelName: BACKWARD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const inst = simdInstance(backend)!;
      const a = attrs as unknown as Attrs;
      const { p, qkv, dctx } = inputs as unknown as { p: TensorInfo; qkv: TensorInfo; dctx: TensorInfo };
      const { n, l, h, d, dh } = dims(a, qkv);
      const be = backend as unknown as WasmBackendInternals;
      const scratch = inst.scratch((l * l + dh * l) * 4);
      const vt = scratch + l * l * 4;
      const out = be.makeOutput([n * l, 3 * d], 'float32');
      const base = inst.offset(qkv);
      const pAt = inst.offset(p);
      const dAt = inst.offset(dctx);
      const o = inst.offset(out);
      const row = 3 * d * 4;
      const { gemm, pack, softmaxBackward } = inst.kernels;
      for (let s = 0; s < n; s++) {
        for (let hh = 0; hh < h; hh++) {
          const col = hh * dh * 4;
          const q = base + s * l * row + col;
          const k = q + d * 4;
          const v = q + 2 * d * 4;
          const pg = pAt + (s * h + hh) * l * l * 4;
          const dc = dAt + s * l * d * 4 + col;
          const dq = o + s * l * row + col;
          pack(v, vt, dh, l, 4, row); // V_g^T [dh, L]
          gemm(dc, vt, scratch, l, l, dh, d * 4, 4, l * 4, l * 4, 0, 0); // dP
          gemm(pg, dc, dq + 2 * d * 4, l, dh, l, 4, l * 4, d * 4, row, 0, 0); // dV = P^T dctx
          softmaxBackward(pg, scratch, scratch, l, l, a.scale); // dS, in place
          gemm(scratch, k, dq, l, dh, l, l * 4, 4, row, row, 0, 0); // dQ = dS K
          gemm(scratch, q, dq + d * 4, l, dh, l, 4, l * 4, row, row, 0, 0); // dK = dS^T Q
        }
      }
      return out as never;
    },
  });
}
register();

function check(qkv: tf.Tensor2D, batch: number, tokens: number, heads: number): void {
  const [rows, cols] = qkv.shape;
  if (!Number.isInteger(batch) || !Number.isInteger(tokens) || !Number.isInteger(heads) || batch < 1 || tokens < 1 || heads < 1) {
    throw new Error(`multiHeadAttention: batch, tokens and heads must be positive integers, got ${batch}, ${tokens}, ${heads}`);
  }
  if (rows !== batch * tokens || cols % (3 * heads) !== 0) {
    throw new Error(`multiHeadAttention: qkv [${qkv.shape}] must be [batch*tokens, 3*d] with d divisible by heads (batch ${batch}, tokens ${tokens}, heads ${heads})`);
  }
}

/**
 * The same function as plain tf ops (every backend): heads folded into the batch with 3-D
 * transposes only, one batched product each for scores and context.
 */
export function multiHeadAttentionReference(qkv: tf.Tensor2D, batch: number, tokens: number, heads: number): tf.Tensor2D {
  check(qkv, batch, tokens, heads);
  return tf.tidy(() => {
    const d = qkv.shape[1] / 3;
    const dh = d / heads;
    const rows = batch * tokens;
    const byHead = tf.transpose(tf.reshape(qkv, [rows, 3 * heads, dh]), [1, 0, 2]); // [3H, N*L, dh]
    const part = (block: number) => tf.reshape(tf.slice(byHead, [block * heads, 0, 0], [heads, rows, dh]), [heads * batch, tokens, dh]) as tf.Tensor3D;
    const q = tf.mul(part(0), 1 / Math.sqrt(dh)) as tf.Tensor3D;
    const scores = tf.matMul(q, part(1), false, true); // [H*N, L, L]
    const ctx = tf.matMul(tf.softmax(scores, -1), part(2)); // [H*N, L, dh]
    return tf.reshape(tf.transpose(tf.reshape(ctx, [heads, rows, dh]), [1, 0, 2]), [rows, d]) as tf.Tensor2D;
  });
}

/** True where the fused path runs: the wasm backend with WebAssembly SIMD, float32 input. */
function fusedAvailable(qkv: tf.Tensor): boolean {
  return enabledFlag && qkv.dtype === 'float32' && tf.getBackend() === 'wasm' && simdInstance(tf.backend()) !== null;
}

/**
 * Multi-head self-attention core: qkv [batch*tokens, 3d] -> ctx [batch*tokens, d] (see the file
 * comment). Differentiable on every backend; on wasm the fused kernels with their own gradient.
 */
export function multiHeadAttention(qkv: tf.Tensor2D, batch: number, tokens: number, heads: number): tf.Tensor2D {
  check(qkv, batch, tokens, heads);
  if (!fusedAvailable(qkv)) return multiHeadAttentionReference(qkv, batch, tokens, heads);
  const d = qkv.shape[1] / 3;
  const attrs: Attrs = { batch, tokens, heads, scale: 1 / Math.sqrt(d / heads) };
  const run = (name: string, inputs: Record<string, tf.Tensor>) => tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const p = tf.tidy(() => tf.softmax(tf.mul(run(SCORES, { qkv: x }), attrs.scale)));
    const value = run(CONTEXT, { p, qkv: x });
    save([x, p]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [run(BACKWARD, { p: saved[1]!, qkv: saved[0]!, dctx: dy })],
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(qkv) as tf.Tensor2D;
}
