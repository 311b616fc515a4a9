import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { temporalIm2col } from './im2col.js';
import { tf } from './tfjs.js';

describe('temporalIm2col', () => {
  it.each([
    ['cpu', 3, 1, 7],
    ['cpu', 5, 2, 8],
    ['wasm', 3, 4, 7],
    ['wasm', 5, 1, 8],
    ['wasm', 3, 2, 3],
  ] as const)('equals pad + shifted slices + concat (%s, kernel %i, dilation %i, T %i)', async (backend, k, dil, t) => {
    await initBackend({ prefer: 'wasm', quiet: true });
    expect(await tf.setBackend(backend)).toBe(true);
    const [n, ch] = [2, 3];
    const x = tf.tensor3d(Float32Array.from({ length: n * t * ch }, (_, i) => i + 1), [n, t, ch]);
    const n0 = tf.memory().numTensors;
    const got = temporalIm2col(x, k, dil);
    const half = ((k - 1) / 2) * dil;
    const ref = tf.tidy(() => {
      const p = tf.pad(x, [[0, 0], [half, half], [0, 0]]);
      const taps = Array.from({ length: k }, (_, j) => tf.slice(p, [0, j * dil, 0], [n, t, ch]));
      return tf.reshape(tf.concat(taps, 2), [n * t, k * ch]);
    });
    expect(got.shape).toEqual([n * t, k * ch]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([got, ref]);
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
  });
});
