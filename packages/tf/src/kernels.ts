/**
 * Direct kernel execution for inference paths: runs the current backend's registered kernels on
 * plain tensor records ({ dataId, shape, dtype }), bypassing the tfjs engine. Through the engine
 * a kernel costs ~4 KB of JS garbage (Tensor objects, scope and tape bookkeeping, closures) and a
 * few microseconds; a batch-1 encoder call runs ~150 of them, so V8's young-generation collections
 * (0.4-0.6 ms each) land inside a few percent of predictions and set the latency tail. Called
 * directly, the same kernels cost a fraction of that. The results are the same kernels' outputs.
 *
 * Rules: no gradient is recorded (use it only when `gradientTapeActive()` is false), every record a
 * kernel returns is owned by the caller and freed with `free` (or handed to the engine with
 * `toTensor`), and `view` (a free reshape) shares its source's data: free the source, never the
 * view. Only the `cpu` and `wasm` backends are supported (their kernels return plain records):
 * `KernelRunner.forCurrentBackend()` returns null elsewhere.
 */
import { tf } from './tfjs.js';

/** A backend tensor record: what kernels take and return. A tf.Tensor is one too. */
export interface TensorRef {
  readonly dataId: object;
  readonly shape: number[];
  readonly dtype: tf.DataType;
}

type KernelFunc = NonNullable<ReturnType<typeof tf.getKernel>>['kernelFunc'];
interface Backend {
  disposeData(dataId: object, force?: boolean): boolean;
}
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorRef;
  typedArrayFromHeap(x: TensorRef): Float32Array;
  dataIdMap: { get(dataId: object): { id: number } };
  wasm: WasmModule;
}
/** The parts of tfjs-backend-wasm 4.22's emscripten module used for the direct product. */
interface WasmModule {
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  __FusedMatMul(
    aId: number,
    aShape: number,
    aRank: number,
    bId: number,
    bShape: number,
    bRank: number,
    transposeA: number,
    transposeB: number,
    activation: number,
    biasId: number,
    preluId: number,
    leakyreluAlpha: number,
    outId: number,
  ): void;
}
interface CpuBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorRef;
  data: { get(dataId: object): { values: Float32Array } };
}
interface EngineInternals {
  isTapeOn(): boolean;
  makeTensorFromTensorInfo(info: TensorRef, backend?: unknown): tf.Tensor;
}

const SUPPORTED = new Set(['cpu', 'wasm']);
const KERNELS = ['Add', 'Sub', 'Multiply', 'Square', 'Rsqrt', 'Mean', 'BatchMatMul', '_FusedMatMul', 'PadV2'] as const;
type KernelName = (typeof KERNELS)[number];

/** True while a gradient tape records (inside tf.grad / variableGrads / minimize): use tf ops then. */
export function gradientTapeActive(): boolean {
  return (tf.engine() as unknown as EngineInternals).isTapeOn();
}

export class KernelRunner {
  private static readonly byBackend = new WeakMap<tf.KernelBackend, KernelRunner>();
  private readonly scalars = new Map<number, TensorRef>();

  /** wasm: 6 int32 of module memory for the operand shapes of the direct product, else 0. */
  private readonly shapePtr: number;

  private constructor(
    readonly backendName: string,
    private readonly backend: tf.KernelBackend,
    private readonly kernels: Record<KernelName, KernelFunc>,
  ) {
    const m = backendName === 'wasm' ? (backend as unknown as WasmBackend).wasm : null;
    this.shapePtr = m && typeof m.__FusedMatMul === 'function' && typeof m._malloc === 'function' ? m._malloc(24) : 0;
  }

  /**
   * The runner for the active backend (kernels looked up once per backend instance, so after
   * initBackend's re-registrations), or null when the backend is not cpu or wasm.
   */
  static forCurrentBackend(): KernelRunner | null {
    const name = tf.getBackend();
    if (!SUPPORTED.has(name)) return null;
    const backend = tf.backend();
    const c = KernelRunner.byBackend.get(backend);
    if (c) return c;
    const kernels = {} as Record<KernelName, KernelFunc>;
    for (const k of KERNELS) {
      const cfg = tf.getKernel(k, name);
      if (!cfg) return null;
      kernels[k] = cfg.kernelFunc;
    }
    const runner = new KernelRunner(name, backend, kernels);
    KernelRunner.byBackend.set(backend, runner);
    return runner;
  }

  private run(name: KernelName, inputs: Record<string, TensorRef | null | undefined>, attrs: Record<string, unknown>): TensorRef {
    return this.kernels[name]({ inputs, attrs, backend: this.backend } as never) as unknown as TensorRef;
  }

  /**
   * act(a b + bias) for 2-D a [M, K], b [K, N] (or batched 3-D); bias rank 1. On wasm a 2-D product
   * calls the module's fused product (the function the _FusedMatMul kernel calls) directly,
   * without the kernel's per-call JS allocations (shape byte arrays, emscripten ccall closures).
   */
  matMul(a: TensorRef, b: TensorRef, bias: TensorRef | null = null, activation: 'linear' | 'relu' = 'linear'): TensorRef {
    if (this.shapePtr !== 0 && a.shape.length === 2 && b.shape.length === 2) return this.wasmMatMul(a, b, bias, activation);
    // The kernels take 3-D operands (the tf.matMul op reshapes before calling them).
    const flat = a.shape.length === 2;
    const a3 = flat ? this.view(a, [1, ...a.shape]) : a;
    const b3 = b.shape.length === 2 ? this.view(b, [1, ...b.shape]) : b;
    const y =
      bias === null && activation === 'linear'
        ? this.run('BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false })
        : this.run('_FusedMatMul', { a: a3, b: b3, bias }, { transposeA: false, transposeB: false, activation });
    return flat ? this.view(y, y.shape.slice(1)) : y;
  }

  private wasmMatMul(a: TensorRef, b: TensorRef, bias: TensorRef | null, activation: 'linear' | 'relu'): TensorRef {
    const [m, k] = a.shape as [number, number];
    const [k2, n] = b.shape as [number, number];
    if (k !== k2) throw new Error(`matMul: inner dimensions ${k} and ${k2} differ`);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('matMul: float32 only');
    const be = this.backend as unknown as WasmBackend;
    const out = be.makeOutput([m, n], 'float32');
    // Resolve every id first: an input still on another backend is moved here (an allocation).
    const ids = be.dataIdMap;
    const aId = ids.get(a.dataId).id;
    const bId = ids.get(b.dataId).id;
    const biasId = bias ? ids.get(bias.dataId).id : 0;
    const outId = ids.get(out.dataId).id;
    const mod = be.wasm;
    const heap = mod.HEAP32; // read after the allocations: growing the heap replaces this view
    const p = this.shapePtr >> 2;
    heap[p] = 1;
    heap[p + 1] = m;
    heap[p + 2] = k;
    heap[p + 3] = 1;
    heap[p + 4] = k;
    heap[p + 5] = n;
    // FusableActivation of tfjs-backend-wasm: linear 0, relu 1.
    mod.__FusedMatMul(aId, this.shapePtr, 3, bId, this.shapePtr + 12, 3, 0, 0, activation === 'relu' ? 1 : 0, biasId, 0, 0, outId);
    return out;
  }

  add(a: TensorRef, b: TensorRef): TensorRef {
    return this.run('Add', { a, b }, {});
  }

  sub(a: TensorRef, b: TensorRef): TensorRef {
    return this.run('Sub', { a, b }, {});
  }

  mul(a: TensorRef, b: TensorRef): TensorRef {
    return this.run('Multiply', { a, b }, {});
  }

  square(x: TensorRef): TensorRef {
    return this.run('Square', { x }, {});
  }

  rsqrt(x: TensorRef): TensorRef {
    return this.run('Rsqrt', { x }, {});
  }

  mean(x: TensorRef, axis: number, keepDims: boolean): TensorRef {
    return this.run('Mean', { x }, { axis: [axis], keepDims });
  }

  /** Zero padding, [before, after] per axis. */
  pad(x: TensorRef, paddings: [number, number][]): TensorRef {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * A float32 scalar constant owned by the runner (a backend record kept for the backend's
   * lifetime, one per value; not an engine tensor, so not in tf.memory().numTensors). Never free it.
   */
  scalar(value: number): TensorRef {
    let s = this.scalars.get(value);
    if (!s) {
      const dataId = this.backend.write(new Float32Array([value]), [], 'float32');
      s = { dataId, shape: [], dtype: 'float32' };
      this.scalars.set(value, s);
    }
    return s;
  }

  /** (x - mean) / sqrt(var + eps) over the last axis of a 2-D x [rows, d]: 7 kernels. */
  normalize(x: TensorRef, eps: number): TensorRef {
    const axis = x.shape.length - 1;
    const m = this.mean(x, axis, true);
    const c = this.sub(x, m);
    this.free(m);
    const sq = this.square(c);
    const v = this.mean(sq, axis, true);
    this.free(sq);
    const ve = this.add(v, this.scalar(eps));
    this.free(v);
    const r = this.rsqrt(ve);
    this.free(ve);
    const y = this.mul(c, r);
    this.free(c);
    this.free(r);
    return y;
  }

  /** A new float32 record of `shape` with unspecified contents (fill it through `values`). */
  empty(shape: number[]): TensorRef {
    let size = 1;
    for (const n of shape) size *= n;
    if (this.backendName === 'wasm') return (this.backend as unknown as WasmBackend).makeOutput(shape, 'float32');
    return (this.backend as unknown as CpuBackend).makeTensorInfo(shape, 'float32', new Float32Array(size));
  }

  /**
   * The float32 values of a record, read and written in place (wasm: a view of the module's heap,
   * cpu: the stored array). A wasm view is valid until the next allocation on the backend (a
   * kernel call or `empty` may grow the heap): allocate first, then take the views, then compute.
   */
  values(x: TensorRef): Float32Array {
    if (x.dtype !== 'float32') throw new Error(`KernelRunner.values: float32 only, got ${x.dtype}`);
    if (this.backendName === 'wasm') return (this.backend as unknown as WasmBackend).typedArrayFromHeap(x);
    return (this.backend as unknown as CpuBackend).data.get(x.dataId).values;
  }

  /** The same data under another shape (no kernel, no copy). Free the source, not the view. */
  view(x: TensorRef, shape: number[]): TensorRef {
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }

  free(x: TensorRef): void {
    (this.backend as unknown as Backend).disposeData(x.dataId);
  }

  /** Hands a record this runner produced to the engine as a tf.Tensor (tracked by tidy/dispose). */
  toTensor<R extends tf.Rank>(x: TensorRef, shape: number[] = x.shape): tf.Tensor<R> {
    return (tf.engine() as unknown as EngineInternals).makeTensorFromTensorInfo({ dataId: x.dataId, shape, dtype: x.dtype }, this.backend) as tf.Tensor<R>;
  }
}
