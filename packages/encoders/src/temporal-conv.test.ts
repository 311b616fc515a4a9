import { describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import { ParamStore } from './params.js';
import { applyTemporalConv, makeTemporalConv } from './temporal-conv.js';

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
