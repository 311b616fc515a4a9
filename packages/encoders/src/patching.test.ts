import { describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { patchify } from './layers.js';

describe('patching', () => {
  it('patchify folds P steps per token in time order', () => {
    const x = tf.tensor3d([[[1], [2], [3], [4], [5], [6]]]); // [1, 6, 1]
    expect(patchify(x, 3).arraySync()).toEqual([[[1, 2, 3], [4, 5, 6]]]);
    // T = 5, P = 3: one zero step is padded at the front (the oldest end)
    expect(patchify(tf.slice(x, [0, 1, 0], [1, 5, 1]), 3).arraySync()).toEqual([[[0, 2, 3], [4, 5, 6]]]);
  });

  it.each([['transformer'], ['moe']] as const)('%s: a window whose length P does not divide equals the zero-front-padded window', async (type) => {
    await tf.setBackend('cpu');
    const cfg = encoderPreset('tiny', type); // patchLen 4
    const e15 = buildEncoder(cfg, [15, 5], 3);
    const e16 = buildEncoder(cfg, [16, 5], 3); // same seed, same parameter shapes
    const x = tf.randomNormal([2, 15, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
    const a = e15.apply(x).dataSync();
    const b = e16.apply(tf.pad(x, [[0, 0], [1, 0], [0, 0]]) as tf.Tensor3D).dataSync();
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    e15.dispose();
    e16.dispose();
  });

  it('cnn: attention pooling handles a stride that does not divide T', async () => {
    await tf.setBackend('cpu');
    const enc = buildEncoder({ ...encoderPreset('tiny', 'cnn'), attentionPool: 4 } as ReturnType<typeof encoderPreset>, [15, 5], 3);
    const y = enc.apply(tf.randomNormal([3, 15, 5], 0, 1, 'float32', 1) as tf.Tensor3D);
    expect(y.shape).toEqual([3, 16]);
    expect(y.dataSync().every(Number.isFinite)).toBe(true);
    enc.dispose();
  });
});
