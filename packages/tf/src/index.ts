export { initBackend, currentBackend, parseBackendPreference, tf } from './backend.js';
export type { BackendName, BackendPreference, BackendInfo, InitBackendOptions } from './backend.js';
export { installFastMatMul, setFastMatMulEnabled, fastMatMulEnabled, fastMatMulInstalledOn } from './fast-matmul.js';
export { dense, layerNorm } from './ops.js';
export type { DenseActivation } from './ops.js';
export { KernelRunner, gradientTapeActive } from './kernels.js';
export type { TensorRef } from './kernels.js';
export { temporalIm2col } from './im2col.js';
export { glorotUniform, computeFans } from './init.js';
