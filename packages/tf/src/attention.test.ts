import { describe, expect, it } from 'vitest';
import { tf } from './backend.js';
import { maxAbsDiff } from '@task-agnostic/test-utils';
import { useTestBackend } from './test-kit.js';
import { multiHeadAttention, multiHeadAttentionReference, setFusedAttentionEnabled } from './attention.js';

/** Output and d(sum(out * w))/d(qkv) of `f` on the current backend, as plain arrays. */
function valueAndGrad(f: typeof multiHeadAttention, qkv: Float32Array, w: Float32Array, n: number, l: number, h: number, d: number): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const x = tf.tensor2d(qkv, [n * l, 3 * d]);
    const wt = tf.tensor2d(w, [n * l, d]);
    const out = f(x, n, l, h);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor2D, n, l, h), wt)))(x);
    return [out.dataSync() as Float32Array, g.dataSync() as Float32Array];
  });
}

function data(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 1.5);
}

useTestBackend({ restore: () => setFusedAttentionEnabled(true) });

describe('multiHeadAttention', () => {
  it.each([
    // n, l, h, d: the default preset's shapes (12 tokens, 4 heads of 16), odd tokens and head size, one token
    [3, 12, 4, 64],
    [2, 7, 2, 6],
    [2, 13, 3, 15],
    [1, 1, 1, 3],
  ])('N %i, L %i, H %i, d %i: fused wasm output and gradient equal the reference ops on wasm and on cpu (within 2e-5)', async (n, l, h, d) => {
    const qkv = data(n * l * 3 * d, n + l);
    const w = data(n * l * d, h + d);
    await tf.setBackend('cpu');
    const [cpuOut, cpuGrad] = valueAndGrad(multiHeadAttentionReference, qkv, w, n, l, h, d);
    await tf.setBackend('wasm');
    const [refOut, refGrad] = valueAndGrad(multiHeadAttentionReference, qkv, w, n, l, h, d);
    const [out, grad] = valueAndGrad(multiHeadAttention, qkv, w, n, l, h, d);
    expect(maxAbsDiff(out, refOut)).toBeLessThan(2e-5);
    expect(maxAbsDiff(grad, refGrad)).toBeLessThan(2e-5);
    expect(maxAbsDiff(out, cpuOut)).toBeLessThan(2e-5);
    expect(maxAbsDiff(grad, cpuGrad)).toBeLessThan(2e-5);
    // the gradient is not trivially zero
    expect(Math.max(...Array.from(grad, Math.abs))).toBeGreaterThan(1e-3);
  });

  it('matches a hand-computed case: one head, two tokens', async () => {
    await tf.setBackend('wasm');
    // d = 1 (scale 1): q = [1, 0], k = [0, 0], v = [1, 3]: every score 0 -> p [0.5, 0.5] -> 2.
    const qkv = tf.tensor2d([[1, 0, 1], [0, 0, 3]]);
    expect(Array.from(multiHeadAttention(qkv, 1, 2, 1).dataSync())).toEqual([2, 2]);
    // q = [1, 1], k = [0, ln 3]: token scores [0, ln 3] -> p [1/4, 3/4] -> 1/4 + 9/4 = 2.5
    const qkv2 = tf.tensor2d([[1, 0, 1], [1, Math.log(3), 3]]);
    const out = multiHeadAttention(qkv2, 1, 2, 1).dataSync();
    expect(out[0]).toBeCloseTo(2.5, 5);
    expect(out[1]).toBeCloseTo(2.5, 5);
    tf.dispose([qkv, qkv2]);
  });

  it('rejects bad shapes with a one-line message', () => {
    const x = tf.zeros([6, 12]) as tf.Tensor2D;
    expect(() => multiHeadAttention(x, 4, 2, 2)).toThrow(/must be \[batch\*tokens, 3\*d\]/);
    expect(() => multiHeadAttention(x, 3, 2, 3)).toThrow(/divisible by heads/);
    expect(() => multiHeadAttention(x, 0, 2, 2)).toThrow(/positive integers/);
    x.dispose();
  });

  it('leaves no tensor behind across training steps (fused path on wasm)', async () => {
    await tf.setBackend('wasm');
    const x = tf.variable(tf.randomNormal([24, 48], 0, 1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
    const opt = tf.train.sgd(0.01);
    const step = () => opt.minimize(() => tf.sum(tf.square(multiHeadAttention(x, 2, 12, 4))) as tf.Scalar, false, [x]);
    step();
    const n0 = tf.memory().numTensors;
    const r0 = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    expect(tf.backend().numDataIds()).toBe(r0);
    const y = multiHeadAttention(x, 2, 12, 4);
    expect(tf.memory().numTensors).toBe(n0 + 1);
    tf.dispose([x, y]);
    opt.dispose();
  });
});
