import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from './backend.js';
import { maxAbsDiff } from '@task-agnostic/test-utils';
import { fastMatMulInstalledOn, installFastMatMul, setFastMatMulEnabled } from './fast-matmul.js';

describe('fast matMul wrapper (wasm)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
    installFastMatMul('wasm');
  });

  it('is installed on wasm by initBackend', () => {
    expect(fastMatMulInstalledOn()).toContain('wasm');
  });

  it('gives the same products as the original kernel for every transpose flag, fused bias/relu and broadcast batch', () => {
    const a = tf.randomNormal([13, 7], 0, 1, 'float32', 1);
    const b = tf.randomNormal([7, 11], 0, 1, 'float32', 2);
    const bias = tf.randomNormal([11], 0, 1, 'float32', 3);
    const a3 = tf.randomNormal([4, 13, 7], 0, 1, 'float32', 4);
    const b3 = tf.randomNormal([4, 7, 11], 0, 1, 'float32', 5);
    // Each case: the op under test (wrapper on) vs. a reference built from plain ops with the
    // wrapper off. (The original wasm _FusedMatMul with transposeB adds the bias to the first row
    // only: tfjs-backend-wasm 4.22 bug; the wrapper never passes it a transpose flag.)
    const plainRef = () => tf.matMul(a, b);
    const fusedRef = () => tf.relu(tf.add(tf.matMul(a, b), bias));
    const batchRef = () => tf.stack(tf.unstack(a3).map((ai, i) => tf.matMul(ai, tf.unstack(b3)[i]!)));
    const bcastRef = () => tf.stack(tf.unstack(a3).map((ai) => tf.matMul(ai, b)));
    const cases: [string, () => tf.Tensor, () => tf.Tensor, number[]][] = [
      ['plain', () => tf.matMul(a, b), plainRef, [13, 11]],
      ['tA', () => tf.matMul(tf.transpose(a), b, true, false), plainRef, [13, 11]],
      ['tB', () => tf.matMul(a, tf.transpose(b), false, true), plainRef, [13, 11]],
      ['tAtB', () => tf.matMul(tf.transpose(a), tf.transpose(b), true, true), plainRef, [13, 11]],
      ['fused tB bias relu', () => tf.fused.matMul({ a, b: tf.transpose(b), transposeB: true, bias, activation: 'relu' }), fusedRef, [13, 11]],
      ['fused tA bias relu', () => tf.fused.matMul({ a: tf.transpose(a), b, transposeA: true, bias, activation: 'relu' }), fusedRef, [13, 11]],
      ['batched tB', () => tf.matMul(a3, tf.transpose(b3, [0, 2, 1]), false, true), batchRef, [4, 13, 11]],
      ['broadcast batch', () => tf.matMul(a3, tf.expandDims(b, 0)), bcastRef, [4, 13, 11]],
      ['broadcast fused', () => tf.fused.matMul({ a: a3, b: tf.expandDims(b, 0), bias, activation: 'relu' }), () => tf.relu(tf.add(bcastRef(), bias)), [4, 13, 11]],
    ];
    for (const [name, f, ref, shape] of cases) {
      setFastMatMulEnabled(true);
      const on = tf.tidy(f);
      setFastMatMulEnabled(false);
      const off = tf.tidy(ref);
      setFastMatMulEnabled(true);
      expect(on.shape, name).toEqual(shape);
      expect(maxAbsDiff(on.dataSync(), off.dataSync()), name).toBeLessThan(1e-4);
      tf.dispose([on, off]);
    }
    // an independent check of one product against a plain JS triple loop
    const av = a.arraySync() as number[][];
    const bv = b.arraySync() as number[][];
    const got = tf.tidy(() => tf.matMul(a, tf.transpose(b), false, true).arraySync()) as number[][];
    for (let i = 0; i < 13; i++)
      for (let j = 0; j < 11; j++) {
        let s = 0;
        for (let k = 0; k < 7; k++) s += av[i]![k]! * bv[k]![j]!;
        expect(got[i]![j]!).toBeCloseTo(s, 4);
      }
    tf.dispose([a, b, bias, a3, b3]);
  });

  it('gives the same gradients with and without the wrapper and frees its temporaries', () => {
    const x = tf.randomNormal([9, 6], 0, 1, 'float32', 7);
    const w = tf.randomNormal([6, 5], 0, 1, 'float32', 8);
    const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(xx, ww))));
    const g = tf.grads(loss);
    const run = (on: boolean) => {
      setFastMatMulEnabled(on);
      const [gx, gw] = g([x, w]);
      const r = [gx!.dataSync().slice(), gw!.dataSync().slice()];
      tf.dispose([gx!, gw!]);
      return r;
    };
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    run(true);
    const ids0 = backend.numDataIds();
    const n0 = tf.memory().numTensors;
    const [gxOn, gwOn] = run(true);
    expect(backend.numDataIds()).toBe(ids0);
    expect(tf.memory().numTensors).toBe(n0);
    const [gxOff, gwOff] = run(false);
    setFastMatMulEnabled(true);
    expect(maxAbsDiff(gxOn!, gxOff!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gwOn!, gwOff!)).toBeLessThan(1e-4);
    tf.dispose([x, w]);
  });
});
