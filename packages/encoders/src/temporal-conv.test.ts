import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import { tensorMaxAbsDiff } from '@task-agnostic/test-utils';
import { ParamStore } from './params.js';
import { applyTemporalConv, applyTemporalConvPerTap, makeTemporalConv } from './temporal-conv.js';

describe('temporal convolution as shifted slices + one matMul', () => {
  it.each([
    [3, 1],
    [3, 2],
    [3, 4],
    [5, 2],
  ])('equals a direct dilated convolution (kernel %i, dilation %i) and tf.conv1d', async (k, dil) => {
    await tf.setBackend('cpu');
    const n = 2;
    const t = 11;
    const cin = 3;
    const cout = 4;
    const store = new ParamStore(new Rng(1), 'test');
    const conv = makeTemporalConv(store, 'c', cin, cout, k, dil);
    const rng = new Rng(2);
    const xv = new Float32Array(n * t * cin).map(() => rng.normal());
    const x = tf.tensor3d(xv, [n, t, cin]);
    const y = applyTemporalConv(x, conv, 'linear').dataSync();
    const w = conv.dense.w.dataSync(); // [k*cin, cout], tap j in rows j*cin..
    const b = conv.dense.b.dataSync();
    const half = ((k - 1) / 2) * dil;
    for (let s = 0; s < n; s++)
      for (let i = 0; i < t; i++)
        for (let o = 0; o < cout; o++) {
          let acc = b[o]!;
          for (let j = 0; j < k; j++) {
            const src = i + j * dil - half;
            if (src < 0 || src >= t) continue;
            for (let c = 0; c < cin; c++) acc += xv[(s * t + src) * cin + c]! * w[(j * cin + c) * cout + o]!;
          }
          expect(y[(s * t + i) * cout + o]!).toBeCloseTo(acc, 4);
        }
    // and tfjs's own (forward-only) dilated conv1d with the same filter [k, cin, cout]
    const ref = tf.conv1d(x, tf.reshape(conv.dense.w, [k, cin, cout]) as tf.Tensor3D, 1, 'same', 'NWC', dil);
    const refv = tf.add(ref, conv.dense.b).dataSync();
    refv.forEach((v, q) => expect(y[q]!).toBeCloseTo(v, 4));
    store.dispose();
    tf.dispose([x, ref]);
  });
});

describe('im2col temporal convolution with a custom gradient', () => {
  const cases: [string, number, number, number][] = [];
  for (const backend of ['cpu', 'wasm'])
    for (const [k, dil] of [
      [3, 1],
      [3, 2],
      [3, 4],
      [5, 1],
      [5, 2],
      [5, 4],
    ] as const)
      for (const t of [11, 12]) cases.push([backend, k, dil, t]);
  it.each(cases)('equals the per-tap form, forward and gradients wrt x, W and b (%s, kernel %i, dilation %i, T %i)', async (backend, k, dil, t) => {
    await initBackend({ prefer: 'wasm', quiet: true });
    expect(await tf.setBackend(backend)).toBe(true);
    const n = 3;
    const cin = 5;
    const cout = 7;
    const store = new ParamStore(new Rng(3), 'test');
    const conv = makeTemporalConv(store, 'c', cin, cout, k, dil);
    const rng = new Rng(4);
    const x = tf.tensor3d(new Float32Array(n * t * cin).map(() => rng.normal()), [n, t, cin]);
    const up = tf.tensor3d(new Float32Array(n * t * cout).map(() => rng.normal()), [n, t, cout]);
    const n0 = tf.memory().numTensors;
    for (const act of ['linear', 'relu'] as const) {
      const run = (f: typeof applyTemporalConv) =>
        tf.grads((xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
          void w;
          void b;
          return tf.sum(tf.mul(f(xi as tf.Tensor3D, conv, act), up));
        })([x, conv.dense.w, conv.dense.b]);
      // tf.grads differentiates wrt the given tensors; W and b enter through conv (the same tensors).
      const yNew = tf.tidy(() => applyTemporalConv(x, conv, act));
      const yRef = tf.tidy(() => applyTemporalConvPerTap(x, conv, act));
      expect(tensorMaxAbsDiff(yNew, yRef)).toBeLessThanOrEqual(1e-5);
      const gNew = run(applyTemporalConv);
      const gRef = run(applyTemporalConvPerTap);
      for (let i = 0; i < 3; i++) expect(tensorMaxAbsDiff(gNew[i]!, gRef[i]!), `grad ${i}`).toBeLessThanOrEqual(1e-5);
      tf.dispose([yNew, yRef, ...gNew, ...gRef]);
    }
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([x, up]);
    store.dispose();
  });
});
