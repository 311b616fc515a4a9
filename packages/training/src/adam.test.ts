import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { Adam } from './adam.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('Adam', () => {
  it('gradScale is tf.mul(g, gradScale) to the bit, with no tensor per variable (gradient clipping)', () => {
    const init = [0.5, -1.25, 2, 0.003, -7];
    const a = tf.variable(tf.tensor1d(init), true, 'adam_scale_a');
    const b = tf.variable(tf.tensor1d(init), true, 'adam_scale_b');
    const oa = new Adam([a], { weightDecay: 0.01 });
    const ob = new Adam([b], { weightDecay: 0.01 });
    for (let s = 0; s < 6; s++) {
      const g = tf.tensor1d([0.1 * s - 0.3, 1.7, -0.0123 * s, 3.3, -0.9]);
      const scale = 1 / (1.3 + 0.77 * s); // not a power of two: the rounding of the product matters
      const before = tf.memory().numTensors;
      oa.apply([g], 0.01, scale);
      expect(tf.memory().numTensors).toBe(before);
      const gs = tf.mul(g, scale);
      ob.apply([gs], 0.01);
      tf.dispose([g, gs]);
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const sa = oa.getState();
    const sb = ob.getState();
    expect(Array.from(sa.m[0]!)).toEqual(Array.from(sb.m[0]!));
    expect(Array.from(sa.v[0]!)).toEqual(Array.from(sb.v[0]!));
    // and the scale does change the update (a scale of 1 would not)
    expect(Array.from(a.dataSync())).not.toEqual(init);
    const g = tf.tensor1d([1, 1, 1, 1, 1]);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => oa.apply([g], 0.01, bad)).toThrow(/gradScale must be a positive finite number/);
    tf.dispose([a, b, g]);
    oa.dispose();
    ob.dispose();
  });

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

  it('matches tfjs AdamOptimizer on many values and several variables over 20 steps', () => {
    const shapes = [[7, 5], [5], [3, 4, 2]];
    let seed = 1;
    const rnd = (n: number) => Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
    const init = shapes.map((s) => rnd(s.reduce((a, b) => a * b, 1)));
    const ours = shapes.map((s, i) => tf.variable(tf.tensor(init[i]!, s), true, `adam_many_a${i}`));
    const refs = shapes.map((s, i) => tf.variable(tf.tensor(init[i]!, s), true, `adam_many_b${i}`));
    const opt = new Adam(ours, { beta1: 0.8, beta2: 0.99 });
    const ref = tf.train.adam(0.02, 0.8, 0.99, 1e-7);
    for (let step = 0; step < 20; step++) {
      const gs = shapes.map((s) => tf.tensor(rnd(s.reduce((a, b) => a * b, 1)).map((g) => g * (step + 1)), s));
      opt.apply(gs, 0.02);
      ref.applyGradients(refs.map((r, i) => ({ name: r.name, tensor: gs[i]! })));
      tf.dispose(gs);
    }
    ours.forEach((v, i) => {
      const a = v.dataSync();
      const b = refs[i]!.dataSync();
      expect(a.length).toBe(b.length);
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(2e-6);
      // the weights really moved
      expect(Math.abs(a[0]! - init[i]![0]!)).toBeGreaterThan(0.01);
    });
    // a null gradient leaves its variable as it is
    const kept = Array.from(ours[1]!.dataSync());
    const g0 = tf.ones([7, 5]);
    opt.apply([g0, null, null], 0.02);
    expect(Array.from(ours[1]!.dataSync())).toEqual(kept);
    g0.dispose();
    const wrong = tf.zeros([2]);
    expect(() => opt.apply([wrong, null, null], 0.1)).toThrow(/gradient 0 has 2 values, its variable 35/);
    tf.dispose([...ours, ...refs, wrong]);
    ref.dispose();
  });

  it('AdamW: decoupled decay w -= lr * wd * w on matrices only, on top of the Adam step', () => {
    const w = tf.variable(tf.tensor2d([[2, -4]]), true, 'adamw_w');
    const bias = tf.variable(tf.tensor1d([2, -4]), true, 'adamw_b');
    const plainW = tf.variable(tf.tensor2d([[2, -4]]), true, 'adamw_plain');
    const decay = new Adam([w, bias], { weightDecay: 0.1 });
    const plain = new Adam([plainW]);
    // zero gradient: m = v = 0, the Adam step is 0, only the decay acts: 2 * (1 - 0.5 * 0.1) = 1.9
    const zero2 = tf.zeros([1, 2]);
    const zero1 = tf.zeros([2]);
    decay.apply([zero2, zero1], 0.5);
    plain.apply([zero2], 0.5); // same step count (bias corrections) as `decay`
    expect(Array.from(w.dataSync())).toEqual([Math.fround(1.9), Math.fround(-3.8)]);
    expect(Array.from(bias.dataSync())).toEqual([2, -4]);
    // with a gradient: decayed weight minus the same Adam step plain Adam takes
    const g = tf.tensor2d([[1, -1]]);
    const before = Array.from(w.dataSync());
    decay.apply([g, null], 0.01);
    plain.apply([g], 0.01);
    const step = Array.from(plainW.dataSync()).map((v, i) => v - [2, -4][i]!);
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(before[i]! * (1 - 0.01 * 0.1) + step[i]!, 6));
    expect(() => new Adam([w], { weightDecay: -1 })).toThrow(/weightDecay/);
    tf.dispose([zero2, zero1, g]);
    decay.dispose();
    plain.dispose();
  });
});
