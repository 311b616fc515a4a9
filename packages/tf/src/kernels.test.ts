import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from './backend.js';
import { tensorMaxAbsDiff } from '@task-agnostic/test-utils';
import { useTestBackend } from './test-kit.js';
import { KernelRunner, gradientTapeActive } from './kernels.js';
import { dense, layerNorm } from './ops.js';

/** Records the backend holds (engine tensors and direct records alike): a direct-path leak shows here. */
function backendRecords(): number {
  return tf.backend().numDataIds();
}

useTestBackend();

describe.each([['cpu'], ['wasm']])('KernelRunner on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it('products, normalisation and in-place values equal the tf ops, and free every record', () => {
    const k = KernelRunner.forCurrentBackend()!;
    expect(k.backendName).toBe(backend);
    const a = tf.randomNormal([13, 7], 0, 1, 'float32', 1);
    const a3 = tf.randomNormal([2, 13, 7], 0, 1, 'float32', 11);
    const w = tf.randomNormal([7, 11], 0, 1, 'float32', 2);
    const b = tf.randomNormal([11], 0, 1, 'float32', 3);
    const w3 = tf.tile(tf.expandDims(w, 0), [2, 1, 1]);
    const cases: [string, () => tf.Tensor, tf.Tensor][] = [
      ['plain', () => k.toTensor(k.matMul(a, w)), tf.matMul(a, w)],
      ['bias + relu', () => k.toTensor(k.matMul(a, w, b, 'relu')), tf.relu(tf.add(tf.matMul(a, w), b))],
      ['batched 3-D', () => k.toTensor(k.matMul(a3, w3)), tf.matMul(a3, w3)],
      ['normalize', () => k.toTensor(k.normalize(a, 1e-5)), tf.tidy(() => {
        const { mean, variance } = tf.moments(a, 1, true);
        return tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5)));
      })],
      ['pad', () => k.toTensor(k.pad(a3, [[0, 0], [2, 0], [0, 1]])), tf.pad(a3, [[0, 0], [2, 0], [0, 1]])],
    ];
    for (const [name, direct, want] of cases) {
      const got = direct();
      expect(tensorMaxAbsDiff(got, want), name).toBeLessThan(1e-5);
      tf.dispose([got, want]);
    }
    // empty + values: written in place, read back through the engine
    const e = k.empty([2, 3]);
    k.values(e).set([1, 2, 3, 4, 5, 6]);
    const t = k.toTensor(e);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    t.dispose();
    // records made and freed directly leave nothing behind (the eps scalar is the runner's, kept)
    const before = backendRecords();
    const r = k.matMul(a, w, b);
    k.free(k.normalize(r, 1e-5));
    k.free(r);
    expect(backendRecords()).toBeLessThanOrEqual(before + 1);
    const after = backendRecords();
    for (let i = 0; i < 20; i++) k.free(k.normalize(k.view(a3, [26, 7]), 1e-5));
    expect(backendRecords()).toBe(after);
    tf.dispose([a, a3, w, w3, b]);
  });

  it('dense and layerNorm take the direct path without a tape and the tf ops under one, with equal results', () => {
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 4);
    const w = tf.variable(tf.randomNormal([8, 6], 0, 1, 'float32', 5)) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(tf.randomNormal([6], 0, 1, 'float32', 6)) as tf.Variable<tf.Rank.R1>;
    const g = tf.variable(tf.randomNormal([8], 1, 0.2, 'float32', 7)) as tf.Variable<tf.Rank.R1>;
    const beta = tf.variable(tf.randomNormal([8], 0, 0.2, 'float32', 8)) as tf.Variable<tf.Rank.R1>;
    const f = () => dense(layerNorm(x, g, beta), w, b, 'relu');
    expect(gradientTapeActive()).toBe(false);
    const direct = tf.tidy(f);
    let taped: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      expect(gradientTapeActive()).toBe(true);
      const y = f();
      taped = tf.keep(tf.clone(y));
      return tf.sum(y) as tf.Scalar;
    }, [w, b, g, beta]);
    expect(tensorMaxAbsDiff(direct, taped!)).toBeLessThan(1e-5);
    for (const v of [w, b, g, beta]) expect(grads[v.name]!.shape).toEqual(v.shape);
    // with no tape no engine op runs: each call adds its result and nothing else
    const n0 = tf.memory().numTensors;
    const r0 = backendRecords();
    const ln = layerNorm(x, g, beta);
    const y = dense(ln, w, b, 'relu');
    expect(tf.memory().numTensors).toBe(n0 + 2);
    tf.dispose([ln, y]);
    expect(backendRecords()).toBe(r0);
    // mixed dtypes and disposed inputs go through the tf ops (which cast, or throw)
    const xi = tf.ones([2, 8], 'int32');
    const yi = dense(xi, w, b);
    expect(yi.dtype).toBe('float32');
    const dead = tf.ones([2, 8]);
    dead.dispose();
    expect(() => dense(dead, w, b)).toThrow();
    expect(() => layerNorm(dead, g, beta)).toThrow();
    tf.dispose([x, w, b, g, beta, direct, taped!, value, xi, yi, ...Object.values(grads)]);
  });
});
