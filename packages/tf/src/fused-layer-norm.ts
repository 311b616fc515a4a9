/**
 * Layer normalisation over the last axis as two kernels with a custom gradient, for training on
 * wasm and cpu: y = (x - mean) * rstd * gain + bias with rstd = 1 / sqrt(var + eps), and backward
 *   xhat = (x - mean) * rstd, g = dy * gain,
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dgain = sum_rows dy * xhat, dbias = sum_rows dy
 * (mean and rstd recomputed from x). Through tf ops the same function records ~10 kernels forward
 * (moments, sub, add, rsqrt, mul, mul, add) and ~25 backward (broadcast reductions and products);
 * here one pass of JS over the backend's memory each way, accumulating in float64.
 */
import { tf } from './tfjs.js';
import type { CpuBackend, TensorInfo, WasmBackend } from './backend-internals.js';
import { layerNormRowStats } from './layer-norm-row.js';

const FORWARD = 'TatLayerNorm';
const BACKWARD = 'TatLayerNormGrad';


/** Allocation and in-place views per backend: allocate every output first, then take the views. */
interface Memory {
  alloc(shape: number[]): TensorInfo;
  view(x: TensorInfo): Float32Array;
}

function memoryOf(backendName: string, backend: unknown): Memory {
  if (backendName === 'wasm') {
    const be = backend as WasmBackend;
    return { alloc: (shape) => be.makeOutput(shape, 'float32'), view: (x) => be.typedArrayFromHeap(x) };
  }
  const be = backend as CpuBackend;
  return {
    alloc: (shape) => be.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    view: (x) => be.data.get(x.dataId).values,
  };
}

function forward(x: Float32Array, g: Float32Array, b: Float32Array, y: Float32Array, rows: number, d: number, eps: number): void {
  for (let r = 0, o = 0; r < rows; r++, o += d) {
    const { mean, rstd } = layerNormRowStats(x, o, d, eps);
    for (let j = 0; j < d; j++) y[o + j] = (x[o + j]! - mean) * rstd * g[j]! + b[j]!;
  }
}

function backward(x: Float32Array, g: Float32Array, dy: Float32Array, dx: Float32Array, dg: Float32Array, db: Float32Array, rows: number, d: number, eps: number): void {
  const dgAcc = new Float64Array(d);
  const dbAcc = new Float64Array(d);
  for (let r = 0, o = 0; r < rows; r++, o += d) {
    const { mean, rstd } = layerNormRowStats(x, o, d, eps);
    let m1 = 0;
    let m2 = 0;
    for (let j = 0; j < d; j++) {
      const xhat = (x[o + j]! - mean) * rstd;
      const gj = dy[o + j]! * g[j]!;
      m1 += gj;
      m2 += gj * xhat;
      dgAcc[j] = dgAcc[j]! + dy[o + j]! * xhat;
      dbAcc[j] = dbAcc[j]! + dy[o + j]!;
    }
    m1 /= d;
    m2 /= d;
    for (let j = 0; j < d; j++) {
      const xhat = (x[o + j]! - mean) * rstd;
      dx[o + j] = rstd * (dy[o + j]! * g[j]! - m1 - xhat * m2);
    }
  }
  dg.set(dgAcc);
  db.set(dbAcc);
}

/** The rows of x normalised over its last axis (width d), and the kernels' eps attribute. */
function layoutOf(x: TensorInfo, attrs: unknown): { rows: number; d: number; eps: number } {
  const d = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.reduce((a, b) => a * b, 1) / d, d, eps: (attrs as { eps: number }).eps };
}

function register(backendName: string): void {
  if (tf.getKernel(FORWARD, backendName)) return;
  tf.registerKernel({
    kernelName: FORWARD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, gain, bias } = inputs as unknown as { x: TensorInfo; gain: TensorInfo; bias: TensorInfo };
      const { rows, d, eps } = layoutOf(x, attrs);
      const mem = memoryOf(backendName, backend);
      const y = mem.alloc(x.shape);
      forward(mem.view(x), mem.view(gain), mem.view(bias), mem.view(y), rows, d, eps);
      return y as never;
    },
  });
  tf.registerKernel({
    kernelName: BACKWARD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, gain, dy } = inputs as unknown as { x: TensorInfo; gain: TensorInfo; dy: TensorInfo };
      const { rows, d, eps } = layoutOf(x, attrs);
      const mem = memoryOf(backendName, backend);
      const dx = mem.alloc(x.shape);
      const dg = mem.alloc([d]);
      const db = mem.alloc([d]);
      backward(mem.view(x), mem.view(gain), mem.view(dy), mem.view(dx), mem.view(dg), mem.view(db), rows, d, eps);
      return [dx, dg, db] as never;
    },
  });
}
register('wasm');
register('cpu');

let enabledFlag = true;

/** Turn the fused layer norm off (true = on), for A/B timing: tf ops run instead. */
export function setFusedLayerNormEnabled(on: boolean): void {
  enabledFlag = on;
}

/** True where `fusedLayerNorm` runs its kernels (wasm or cpu, float32 operands, the switch on). */
export function fusedLayerNormAvailable(...ts: tf.Tensor[]): boolean {
  const name = tf.getBackend();
  return enabledFlag && (name === 'wasm' || name === 'cpu') && ts.every((t) => t.dtype === 'float32');
}

/** Layer norm over the last axis (gain, bias [d]) with the fused kernels and their gradient. */
export function fusedLayerNorm<R extends tf.Rank>(x: tf.Tensor<R>, gain: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor<R> {
  const attrs = { eps };
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    save([xx, g]);
    return {
      value: tf.engine().runKernel(FORWARD, { x: xx, gain: g, bias: b }, attrs as never) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(BACKWARD, { x: saved[0]!, gain: saved[1]!, dy }, attrs as never) as tf.Tensor[],
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(x, gain, bias) as tf.Tensor<R>;
}
