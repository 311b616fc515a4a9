/**
 * The SIMD kernels of simd-kernels.ts bound to one tfjs wasm backend: instantiated on the backend
 * module's own memory (so they read and write tensors in place, by their memory offsets), with one
 * scratch area (malloc'd from the module, grown on demand) for packed operands.
 */
import type { tf } from './tfjs.js';
import { type SimdGemm, instantiateSimdGemm } from './simd-kernels.js';
import { type WasmMemory, wasmApi } from './wasm-assembler.js';

export type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };

export interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: WasmMemory }; _malloc(bytes: number): number; _free(ptr: number): void };
}

export interface SimdInstance {
  readonly kernels: SimdGemm;
  /** A scratch area of at least `bytes` (valid until the next call; its offset survives memory growth). */
  scratch(bytes: number): number;
  /** A record's byte offset in the module memory. */
  offset(x: TensorInfo): number;
}

const instances = new WeakMap<object, SimdInstance | null>();

function create(backend: WasmBackendInternals): SimdInstance | null {
  const memory = backend.wasm?.asm?.memory;
  const api = wasmApi();
  const kernels = api && memory instanceof api.Memory ? instantiateSimdGemm(memory) : null;
  if (!kernels) return null;
  let at = 0;
  let size = 0;
  return {
    kernels,
    scratch(bytes: number): number {
      if (bytes > size) {
        if (at !== 0) backend.wasm._free(at);
        size = Math.max(bytes, 2 * size, 16384);
        at = backend.wasm._malloc(size);
      }
      return at;
    },
    offset(x: TensorInfo): number {
      const d = backend.dataIdMap.get(x.dataId);
      if (!d) throw new Error('simd kernels: a tensor is not on the wasm backend');
      return d.memoryOffset;
    },
  };
}

/** The instance for a wasm backend object, or null (not wasm, no WebAssembly SIMD, shared memory). */
export function simdInstance(backend: unknown): SimdInstance | null {
  if (typeof backend !== 'object' || backend === null || !('dataIdMap' in backend) || !('wasm' in backend)) return null;
  let inst = instances.get(backend);
  if (inst === undefined) {
    inst = create(backend as WasmBackendInternals);
    instances.set(backend, inst);
  }
  return inst;
}
