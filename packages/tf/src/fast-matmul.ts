/**
 * Speed lever for the wasm backend: on tfjs-backend-wasm 4.22 only a plain matMul (no transpose
 * flags, batch 1) takes XNNPACK's fast path (~14 GFLOP/s); transposeA runs at ~0.6, transposeB at
 * ~1.7 GFLOP/s (../shared/bench/README.md). Backpropagation through matMul is almost all
 * transposed products (dA = dY B^T, dB = A^T dY), so training is slow.
 *
 * `installFastMatMul()` re-registers the wasm `BatchMatMul` and `_FusedMatMul` kernels behind a
 * wrapper that (1) materialises transposed operands with the wasm Transpose kernel and calls the
 * original kernel with both flags false, and (2) folds a broadcast batch ([B,M,K] x [1,K,N]) into
 * one [1,B*M,K] x [1,K,N] product. Results are the same products (float32), every tfjs op and
 * gradient that reaches these kernels gains, and nothing else changes. (3) Before both, every
 * product goes to the SIMD kernel of simd-matmul.ts where it runs (wasm with WebAssembly SIMD;
 * faster than XNNPACK's path at this project's sizes, and no transpose is materialised); (1) and
 * (2) are the fallback.
 */
import { tf } from './tfjs.js';
import { simdMatMul } from './simd-matmul.js';
import { installSimdColumnSum } from './simd-column-sum.js';

type KernelConfig = ReturnType<typeof tf.getKernel> & object;
type KernelFunc = KernelConfig['kernelFunc'];
type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type KernelArgs = Parameters<KernelFunc>[0];
interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

const WRAPPED = new Set<string>();
let enabledFlag = true;

/** Turn the wrapper off (true = on) without unregistering: for A/B timing in benchmarks. */
export function setFastMatMulEnabled(on: boolean): void {
  enabledFlag = on;
}

export function fastMatMulEnabled(): boolean {
  return enabledFlag;
}

/** Which backends have the wrapper installed. */
export function fastMatMulInstalledOn(): readonly string[] {
  return [...WRAPPED];
}

function runKernel(name: string, backendName: string, args: KernelArgs): TensorInfo {
  const k = tf.getKernel(name, backendName);
  if (!k) throw new Error(`kernel ${name} is not registered for ${backendName}`);
  return k.kernelFunc(args) as TensorInfo;
}

function wrap(kernelName: string, backendName: string): boolean {
  const original = tf.getKernel(kernelName, backendName);
  const transposeKernel = tf.getKernel('Transpose', backendName);
  const reshapeKernel = tf.getKernel('Reshape', backendName);
  if (!original || !transposeKernel || !reshapeKernel) return false;
  const origFunc = original.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    if (!enabledFlag) return origFunc(args);
    const { backend } = args;
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean } & Record<string, unknown>;
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    {
      // The SIMD kernel of simd-matmul.ts where it runs (every flag, batch and fused bias/relu).
      const fused = kernelName === '_FusedMatMul';
      const bias = fused ? (inputs.bias ?? null) : null;
      const activation = fused ? String(attrs.activation ?? 'linear') : 'linear';
      const out = fused && inputs.preluActivationWeights ? null : simdMatMul(a, b, !!attrs.transposeA, !!attrs.transposeB, bias, activation, backend);
      if (out) return out as never;
    }
    // Already a plain product (no flags, no broadcast batch to fold): the original kernel as is,
    // without the wrapper's per-call allocations (batch-1 inference runs many of these).
    if (!attrs.transposeA && !attrs.transposeB && !(a.shape.length === 3 && b.shape.length === 3 && a.shape[0]! > 1 && b.shape[0] === 1)) {
      return origFunc(args);
    }
    const temps: TensorInfo[] = [];
    const swapLast = (x: TensorInfo): TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      const t = runKernel('Transpose', backendName, { inputs: { x } as never, backend, attrs: { perm } as never });
      temps.push(t);
      return t;
    };
    try {
      if (attrs.transposeA) a = swapLast(a);
      if (attrs.transposeB) b = swapLast(b);
      const aBatch = a.shape.length === 3 ? a.shape[0]! : 1;
      const bBatch = b.shape.length === 3 ? b.shape[0]! : 1;
      let outShape: number[] | null = null;
      if (a.shape.length === 3 && b.shape.length === 3 && aBatch > 1 && bBatch === 1) {
        // [B,M,K] x [1,K,N] -> [1,B*M,K] x [1,K,N]: one fast product instead of B slow ones.
        const [B, M, K] = a.shape as [number, number, number];
        outShape = [B, M, b.shape[2]!];
        const r = runKernel('Reshape', backendName, { inputs: { x: a } as never, backend, attrs: { shape: [1, B * M, K] } as never });
        temps.push(r);
        a = r;
      }
      const out = origFunc({
        inputs: { ...inputs, a, b } as never,
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false } as never,
      }) as TensorInfo;
      if (!outShape) return out;
      const reshaped = runKernel('Reshape', backendName, { inputs: { x: out } as never, backend, attrs: { shape: outShape } as never });
      (backend as unknown as DisposingBackend).disposeData(out.dataId);
      return reshaped;
    } finally {
      for (const t of temps) (backend as unknown as DisposingBackend).disposeData(t.dataId);
    }
  };
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc });
  return true;
}

/**
 * Installs the wrapper on the wasm backend (idempotent). Returns true when installed.
 * Called by initBackend() whenever the wasm backend starts; safe to call again.
 */
export function installFastMatMul(backendName = 'wasm'): boolean {
  if (WRAPPED.has(backendName)) return true;
  const ok1 = wrap('BatchMatMul', backendName);
  const ok2 = wrap('_FusedMatMul', backendName);
  if (backendName === 'wasm') installSimdColumnSum(backendName);
  if (ok1 || ok2) WRAPPED.add(backendName);
  return ok1 || ok2;
}
