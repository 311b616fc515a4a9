import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { Adam } from './adam.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('Adam', () => {
  it('matches tfjs AdamOptimizer step for step (independent implementation)', () => {
    const a = tf.variable(tf.tensor1d([1, -2, 3]), true, 'adam_test_a');
    const b = tf.variable(tf.tensor1d([1, -2, 3]), true, 'adam_test_b');
    const ours = new Adam([a], { epsilon: 1e-7 });
    const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
    for (let s = 0; s < 5; s++) {
      const g = tf.tensor1d([0.5 * s - 1, 2, -0.1 * s]);
      ours.apply([g], 0.05);
      ref.applyGradients([{ name: b.name, tensor: g }]);
      g.dispose();
    }
    const x = a.dataSync();
    const y = b.dataSync();
    for (let i = 0; i < 3; i++) expect(x[i]).toBeCloseTo(y[i]!, 5);
    // first step moves each weight by ~lr in the direction opposite the gradient's sign
    const c = tf.variable(tf.tensor1d([0, 0]), true, 'adam_test_c');
    const o2 = new Adam([c]);
    const g = tf.tensor1d([3, -0.01]);
    o2.apply([g], 0.1);
    expect(Array.from(c.dataSync()).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([-0.1, 0.1]);
    // state round trip continues identically
    const st = ours.getState();
    const d = tf.variable(tf.tensor1d([1, -2, 3]), true, 'adam_test_d');
    const o3 = new Adam([d]);
    o3.setState({ step: st.step, m: st.m, v: st.v });
    d.assign(a);
    expect(o3.step).toBe(5);
    const g2 = tf.tensor1d([0.3, -0.2, 0.1]);
    ours.apply([g2], 0.01);
    o3.apply([g2], 0.01);
    expect(Array.from(d.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([d, g2]);
    expect(() => ours.apply([], 0.1)).toThrow(/0 gradients for 1 variables/);
    tf.dispose([a, b, c, g]);
    ours.dispose();
    o2.dispose();
    o3.dispose();
    ref.dispose();
  });
});
