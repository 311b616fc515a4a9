import { describe, expect, it } from 'vitest';
import { tf } from './backend.js';
import { dense, layerNorm } from './ops.js';

describe('dense / layerNorm', () => {
  it('dense folds any rank to one 2-D product with bias and relu (hand-computed)', () => {
    const x = tf.tensor3d([[[1, 2], [3, -4]]]); // [1,2,2]
    const w = tf.tensor2d([[1, -1, 0.5], [2, 0, -1]]); // [2,3]
    const b = tf.tensor1d([0.5, 0, -1]);
    const y = dense(x, w, b);
    expect(y.shape).toEqual([1, 2, 3]);
    // row [1,2]: [1+4+0.5, -1+0, 0.5-2-1] ; row [3,-4]: [3-8+0.5, -3, 1.5+4-1]
    expect(Array.from(y.dataSync())).toEqual([5.5, -1, -2.5, -4.5, -3, 4.5]);
    const r = dense(x, w, b, 'relu');
    expect(Array.from(r.dataSync())).toEqual([5.5, 0, 0, 0, 0, 4.5]);
    expect(() => dense(tf.zeros([2, 3]), w)).toThrow(/does not match/);
    tf.dispose([x, w, b, y, r]);
  });

  it('layerNorm matches the formula', () => {
    const x = tf.tensor2d([[1, 2, 3, 6]]);
    const y = layerNorm(x, tf.tensor1d([1, 2, 1, 1]), tf.tensor1d([0, 0, 1, 0]), 0);
    const m = 3;
    const sd = Math.sqrt((4 + 1 + 0 + 9) / 4);
    const want = [(1 - m) / sd, (2 * (2 - m)) / sd, 1 + 0, (6 - m) / sd];
    const got = y.dataSync();
    want.forEach((v, i) => expect(got[i]!).toBeCloseTo(v, 5));
    tf.dispose([x, y]);
  });
});
