import { describe, expect, it } from 'vitest';
import { tf } from './backend.js';
import { tensorMaxAbsDiff } from '@task-agnostic/test-utils';
import { useTestBackend } from './test-kit.js';
import { setSimdMatMulEnabled, simdMatMulAvailable } from './simd-matmul.js';

/** The same computation with the SIMD batched product on and off (the original wasm kernel). */
function onOff<T>(f: () => T): [T, T] {
  setSimdMatMulEnabled(true);
  const on = f();
  setSimdMatMulEnabled(false);
  try {
    return [on, f()];
  } finally {
    setSimdMatMulEnabled(true);
  }
}

useTestBackend({ use: 'wasm', restore: () => setSimdMatMulEnabled(true) });

describe('SIMD matMul (wasm)', () => {
  it('runs on this wasm backend', () => {
    expect(simdMatMulAvailable(tf.backend())).toBe(true);
  });

  it.each([
    // [label, a shape, b shape, transposeA, transposeB]
    ['rank 3', [5, 7, 3], [5, 3, 9], false, false],
    ['rank 3 tB (Q K^T)', [6, 12, 16], [6, 12, 16], false, true],
    ['rank 3 tA (A^T dC)', [6, 12, 12], [6, 12, 16], true, false],
    ['rank 3 tA tB', [3, 5, 7], [3, 11, 5], true, true],
    ['rank 4 heads x batch', [2, 3, 10, 4], [2, 3, 4, 13], false, false],
    ['batch-1 A against batched B', [1, 6, 5], [4, 5, 6], false, false],
    ['rank 2 A against batched B (tB)', [6, 5], [4, 6, 5], false, true],
    ['single element', [2, 1, 1], [2, 1, 1], false, false],
    ['2-D', [13, 7], [7, 11], false, false],
    ['2-D tA (a weight gradient)', [37, 9], [37, 21], true, false],
    ['2-D tB (an input gradient)', [37, 21], [9, 21], false, true],
    ['2-D tA tB', [7, 13], [11, 7], true, true],
    ['broadcast batch of A', [4, 6, 5], [1, 5, 10], false, false],
    ['broadcast batch of A, tA', [4, 5, 6], [1, 5, 10], true, false],
    ['rank 3 x rank 2', [3, 6, 5], [5, 10], false, false],
  ] as [string, number[], number[], boolean, boolean][])('%s: equals the original kernel and a JS loop', (_, sa, sb, tA, tB) => {
    const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
    const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
    const [on, off] = onOff(() => tf.matMul(a, b, tA, tB));
    expect(tensorMaxAbsDiff(on, off)).toBeLessThan(1e-5);
    // independent: each batch member as a JS triple loop on the transposed-as-needed arrays
    const A = tf.tidy(() => (tA ? tf.transpose(a, [...Array(a.rank - 2).keys(), a.rank - 1, a.rank - 2]) : a.clone()));
    const B = tf.tidy(() => (tB ? tf.transpose(b, [...Array(b.rank - 2).keys(), b.rank - 1, b.rank - 2]) : b.clone()));
    const [m, k] = A.shape.slice(-2) as [number, number];
    const n = B.shape[B.rank - 1]!;
    const av = A.dataSync();
    const bv = B.dataSync();
    const groups = on.size / (m * n);
    const aGroups = A.size / (m * k);
    const bGroups = B.size / (k * n);
    const got = on.dataSync();
    let worst = 0;
    for (let g = 0; g < groups; g++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += av[(aGroups === 1 ? 0 : g) * m * k + i * k + p]! * bv[(bGroups === 1 ? 0 : g) * k * n + p * n + j]!;
          worst = Math.max(worst, Math.abs(s - got[g * m * n + i * n + j]!));
        }
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([a, b, on, off, A, B]);
  });

  it('fused bias + relu (every flag) equals the original kernels, and a dense layer trains to the same gradients', () => {
    const a = tf.randomNormal([19, 7], 0, 1, 'float32', 11);
    const w = tf.randomNormal([7, 10], 0, 1, 'float32', 12);
    const bias = tf.randomNormal([10], 0, 1, 'float32', 13);
    const ref = tf.tidy(() => tf.relu(tf.add(tf.matMul(a, w), bias)));
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as [boolean, boolean][]) {
      const [on, off] = onOff(() =>
        tf.fused.matMul({ a: tA ? tf.transpose(a) : a, b: tB ? tf.transpose(w) : w, transposeA: tA, transposeB: tB, bias, activation: 'relu' }),
      );
      expect(tensorMaxAbsDiff(on, ref)).toBeLessThan(1e-5);
      expect(tensorMaxAbsDiff(off, ref)).toBeLessThan(1e-5);
      tf.dispose([on, off]);
    }
    const linear = tf.fused.matMul({ a, b: w, bias });
    expect(tensorMaxAbsDiff(linear, tf.add(tf.matMul(a, w), bias))).toBeLessThan(1e-5);
    // zeroed by relu somewhere: the epilogue really clamps
    expect(Math.min(...Array.from(ref.dataSync()))).toBe(0);
    const loss = (x: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: x as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb, activation: 'relu' }))) as tf.Scalar;
    const [gOn, gOff] = onOff(() => tf.grads(loss)([a, w, bias]));
    for (let i = 0; i < 3; i++) expect(tensorMaxAbsDiff(gOn[i]!, gOff[i]!)).toBeLessThan(1e-4);
    tf.dispose([a, w, bias, ref, linear, ...gOn, ...gOff]);
  });

  it('gives the same attention gradients as the original kernel (softmax(Q K^T / 4) V, within 1e-5)', () => {
    const q = tf.randomNormal([8, 12, 16], 0, 1, 'float32', 3);
    const k = tf.randomNormal([8, 12, 16], 0, 1, 'float32', 4);
    const v = tf.randomNormal([8, 12, 16], 0, 1, 'float32', 5);
    const w = tf.randomNormal([8, 12, 16], 0, 1, 'float32', 6);
    const loss = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(tf.softmax(tf.mul(tf.matMul(qq, kk, false, true), 0.25)), vv), w)) as tf.Scalar;
    const [on, off] = onOff(() => tf.grads(loss)([q, k, v]));
    for (let i = 0; i < 3; i++) expect(tensorMaxAbsDiff(on[i]!, off[i]!)).toBeLessThan(1e-5);
    tf.dispose([q, k, v, w, ...on, ...off]);
  });

  it('sums over every axis but the last (bias gradients) as the original Sum, within 1e-4', () => {
    const x = tf.randomNormal([3, 256, 19], 0, 1, 'float32', 21);
    for (const [axis, keep] of [[[0, 1], false], [[1, 0], true], [[-3, -2], false]] as [number[], boolean][]) {
      const [on, off] = onOff(() => tf.sum(x, axis, keep));
      expect(on.shape).toEqual(keep ? [1, 1, 19] : [19]);
      expect(tensorMaxAbsDiff(on, off)).toBeLessThan(1e-4);
      tf.dispose([on, off]);
    }
    // other reductions keep the original kernel
    const [last, lastOff] = onOff(() => tf.sum(x, -1));
    expect(tensorMaxAbsDiff(last, lastOff)).toBe(0);
    // hand-computed
    const h = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    expect(Array.from(tf.sum(h, 0).dataSync())).toEqual([9, 12]);
    tf.dispose([x, last, lastOff, h]);
  });

  it('leaves no tensor or backend record behind', () => {
    const a = tf.randomNormal([4, 6, 8]);
    const b = tf.randomNormal([4, 6, 8]);
    const n0 = tf.memory().numTensors;
    const r0 = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) tf.matMul(a, b, false, true).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    expect(tf.backend().numDataIds()).toBe(r0);
    tf.dispose([a, b]);
  });
});
