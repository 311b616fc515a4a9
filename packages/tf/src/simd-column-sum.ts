/**
 * Sum over every axis but the last (a bias gradient: tfjs's fused matMul gradient sums dy [rows, N]
 * over its rows) as one SIMD product on the wasm backend: ones[1, rows] x dy[rows, N], with the
 * ones read through a zero stride from a single 1.0. tfjs-backend-wasm 4.22 first transposes the
 * reduced axes innermost (a copy), then sums: ~0.9 ms for [768, 192], the largest kernel of the
 * default transformer's backward pass after the products. Installed with the fast-matMul wrapper
 * (behind the same switch, `setSimdMatMulEnabled`); every other Sum runs the original kernel.
 */
import { tf } from './tfjs.js';
import { type TensorInfo, type WasmBackendInternals, simdInstance } from './simd-instance.js';
import { simdMatMulEnabled } from './simd-matmul.js';

/** The column sums of x (rank >= 2, float32) over all but the last axis, or null (not handled). */
export function simdColumnSum(x: TensorInfo, axis: number | number[], keepDims: boolean, backend: unknown): TensorInfo | null {
  const r = x.shape.length;
  if (!simdMatMulEnabled() || x.dtype !== 'float32' || r < 2) return null;
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)).sort((p, q) => p - q);
  if (axes.length !== r - 1 || axes.some((a, i) => a !== i)) return null;
  const inst = simdInstance(backend);
  if (!inst) return null;
  const n = x.shape[r - 1]!;
  const rows = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
  if (n === 0 || rows === 0) return null;
  const one = inst.scratch(4);
  const out = (backend as WasmBackendInternals).makeOutput(keepDims ? [...new Array<number>(r - 1).fill(1), n] : [n], 'float32');
  const heap = new Float32Array((backend as { wasm: { HEAPF32: Float32Array } }).wasm.HEAPF32.buffer);
  heap[one >> 2] = 1;
  inst.kernels.gemm(one, inst.offset(x), inst.offset(out), 1, n, rows, 0, 0, n * 4, n * 4, 0, 0);
  return out;
}

/** Wraps the wasm Sum kernel (idempotent); false where it is not registered. */
export function installSimdColumnSum(backendName: string): boolean {
  const original = tf.getKernel('Sum', backendName);
  if (!original) return false;
  const inner = original.kernelFunc;
  tf.unregisterKernel('Sum', backendName);
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { x } = args.inputs as unknown as { x: TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      return (simdColumnSum(x, axis, !!keepDims, args.backend) ?? inner(args)) as never;
    },
  });
  return true;
}
