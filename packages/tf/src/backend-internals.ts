/**
 * The parts of the tfjs backends' internals (tfjs 4.22) that this package's custom kernels use to
 * allocate outputs and read or write tensor memory in place: the wasm backend's heap and the cpu
 * backend's value store.
 */
import type { tf } from './tfjs.js';

export type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };

/** tfjs-backend-wasm: outputs allocated in the module's heap, viewed in place. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(x: TensorInfo): Float32Array;
}

/** tfjs-backend-cpu: tensors made from values, and their values by data id. */
export interface CpuBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
  data: { get(dataId: object): { values: Float32Array } };
}
