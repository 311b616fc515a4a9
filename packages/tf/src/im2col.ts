/**
 * im2col for a 'same' zero-padded dilated 1-D convolution over time, as one kernel:
 * x [N, T, C] -> [N*T, k*C] with row (n, t) holding x[n, t + (j - (k-1)/2) * dilation, :] in
 * columns j*C..(j+1)*C-1 (zeros outside 0..T-1). On wasm and cpu it is one JS copy loop over the
 * backend's own memory (tfjs's Slice/Concat/GatherV2 on wasm cost ~1 ms per [64, 96, 64] slice and
 * ~30 ms per gather); other backends get the same matrix from pad + k slices + concat.
 * No gradient is registered: use it inside a tf.customGrad (packages/encoders' temporal conv).
 */
import { tf } from './tfjs.js';
import type { CpuBackend, TensorInfo, WasmBackend } from './backend-internals.js';

const KERNEL = 'TatTemporalIm2col';

interface Attrs {
  kernelSize: number;
  dilation: number;
}

/**
 * Writes the im2col rows of x (at src[srcAt..]) into dst[dstAt..]. Where both are views of one
 * buffer (the wasm module memory) each C-float row is one native copyWithin; otherwise a set.
 */
function im2colInto(src: Float32Array, srcAt: number, dst: Float32Array, dstAt: number, n: number, t: number, ch: number, k: number, dil: number): void {
  const half = ((k - 1) / 2) * dil;
  const sameBuffer = src.buffer === dst.buffer && src.byteOffset === 0 && dst.byteOffset === 0;
  let o = dstAt;
  for (let s = 0; s < n; s++) {
    const base = srcAt + s * t * ch;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < k; j++) {
        const at = i + j * dil - half;
        if (at < 0 || at >= t) dst.fill(0, o, o + ch);
        else {
          const p = base + at * ch;
          if (sameBuffer) dst.copyWithin(o, p, p + ch);
          else dst.set(src.subarray(p, p + ch), o);
        }
        o += ch;
      }
    }
  }
}

/** Registers the kernel on `backendName` (once) with `run` producing its output record. */
function registerOn(backendName: string, run: (x: TensorInfo, backend: unknown, rows: number, cols: number, a: Attrs) => TensorInfo): void {
  if (tf.getKernel(KERNEL, backendName)) return;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = (inputs as unknown as { x: TensorInfo }).x;
      const a = attrs as unknown as Attrs;
      const [n, t, ch] = x.shape as [number, number, number];
      return run(x, backend, n * t, a.kernelSize * ch, a) as never;
    },
  });
}

function register(): void {
  registerOn('wasm', (x, backend, rows, cols, a) => {
    const be = backend as unknown as WasmBackend;
    const out = be.makeOutput([rows, cols], 'float32');
    // Views after the allocation (it may grow the heap and detach earlier views); both live in the
    // one module memory, so the rows are copied inside it.
    const src = be.typedArrayFromHeap(x);
    const dst = be.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const [n, t, ch] = x.shape as [number, number, number];
    im2colInto(heap, src.byteOffset >> 2, heap, dst.byteOffset >> 2, n, t, ch, a.kernelSize, a.dilation);
    return out;
  });
  registerOn('cpu', (x, backend, rows, cols, a) => {
    const be = backend as unknown as CpuBackend;
    const dst = new Float32Array(rows * cols);
    const [n, t, ch] = x.shape as [number, number, number];
    im2colInto(be.data.get(x.dataId).values, 0, dst, 0, n, t, ch, a.kernelSize, a.dilation);
    return be.makeTensorInfo([rows, cols], 'float32', dst);
  });
}
register();

/** x [N, T, C] -> [N*T, kernelSize*C] ('same' zero padding, odd or even kernel as (k-1)/2*dilation each side). */
export function temporalIm2col(x: tf.Tensor3D, kernelSize: number, dilation: number): tf.Tensor2D {
  const [n, t, ch] = x.shape;
  if (kernelSize === 1) return tf.reshape(x, [n * t, ch]);
  const half = ((kernelSize - 1) / 2) * dilation;
  if (x.dtype === 'float32' && Number.isInteger(half) && tf.getKernel(KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(KERNEL, { x }, { kernelSize, dilation } as never) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [half, half], [0, 0]]);
    const taps: tf.Tensor3D[] = [];
    for (let j = 0; j < kernelSize; j++) taps.push(tf.slice(padded, [0, j * dilation, 0], [n, t, ch]));
    return tf.reshape(tf.concat(taps, 2), [n * t, kernelSize * ch]) as tf.Tensor2D;
  });
}
