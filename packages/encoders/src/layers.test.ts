import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import { ParamStore } from './params.js';
import { applyAttention, applyDenseOverParts, makeAttention, makeDense, sinusoidalPositions } from './layers.js';

/** Plain-JS multi-head attention: the textbook formula, per sample and head. */
function referenceAttention(x: number[][][], wqkv: Float32Array, bqkv: Float32Array, wo: Float32Array, bo: Float32Array, h: number): number[][][] {
  const d = x[0]![0]!.length;
  const dh = d / h;
  const lin = (v: number[], w: Float32Array, b: Float32Array, outDim: number) =>
    Array.from({ length: outDim }, (_, o) => v.reduce((s, vi, i) => s + vi * w[i * outDim + o]!, b[o]!));
  return x.map((seq) => {
    const qkv = seq.map((v) => lin(v, wqkv, bqkv, 3 * d));
    const ctx = seq.map(() => new Array<number>(d).fill(0));
    for (let head = 0; head < h; head++) {
      const q = (i: number) => qkv[i]!.slice(head * dh, (head + 1) * dh);
      const k = (i: number) => qkv[i]!.slice(d + head * dh, d + (head + 1) * dh);
      const v = (i: number) => qkv[i]!.slice(2 * d + head * dh, 2 * d + (head + 1) * dh);
      for (let i = 0; i < seq.length; i++) {
        const s = seq.map((_, j) => q(i).reduce((acc, qi, c) => acc + qi * k(j)[c]!, 0) / Math.sqrt(dh));
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const tot = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < seq.length; j++) for (let c = 0; c < dh; c++) ctx[i]![head * dh + c]! += (e[j]! / tot) * v(j)[c]!;
      }
    }
    return ctx.map((c) => lin(c, wo, bo, d));
  });
}

describe('layers', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it.each([['cpu'], ['wasm']])('multi-head attention equals the textbook formula (%s)', async (backend) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const store = new ParamStore(new Rng(4), 'attn-test');
    const a = makeAttention(store, 'a', 8, 2);
    // non-zero biases so their placement is checked too
    a.qkv.b.assign(tf.randomNormal([24], 0, 0.5, 'float32', 1) as tf.Tensor1D);
    a.out.b.assign(tf.randomNormal([8], 0, 0.5, 'float32', 2) as tf.Tensor1D);
    const x = tf.randomNormal([3, 5, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
    const got = applyAttention(x, a).arraySync();
    const want = referenceAttention(x.arraySync(), a.qkv.w.dataSync() as Float32Array, a.qkv.b.dataSync() as Float32Array, a.out.w.dataSync() as Float32Array, a.out.b.dataSync() as Float32Array, 2);
    got.forEach((seq, n) => seq.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(want[n]![i]![c]!, 4))));
    x.dispose();
    store.dispose();
  });

  it('dense over parts equals dense over the concatenation, and checks the channel count', async () => {
    await tf.setBackend('cpu');
    const store = new ParamStore(new Rng(5), 'parts-test');
    const d = makeDense(store, 'd', 7, 3);
    d.b.assign(tf.tensor1d([0.5, -1, 2]));
    const a = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 4, 4], 0, 1, 'float32', 2);
    const got = applyDenseOverParts([a, b], d, 'relu');
    const want = tf.reshape(tf.relu(tf.add(tf.matMul(tf.reshape(tf.concat([a, b], 2), [8, 7]), d.w), d.b)), [2, 4, 3]);
    expect(got.shape).toEqual([2, 4, 3]);
    const g = got.dataSync();
    want.dataSync().forEach((v, i) => expect(g[i]!).toBeCloseTo(v, 5));
    expect(() => applyDenseOverParts([a], d)).toThrow(/parts have 3 channels, weight has 7 rows/);
    store.dispose();
  });

  it('sinusoidal positions follow sin/cos(pos / 10000^(2i/d))', () => {
    const pe = sinusoidalPositions(3, 4);
    expect(pe[0]).toBe(0);
    expect(pe[1]).toBe(1);
    expect(pe[2 * 4 + 0]).toBeCloseTo(Math.sin(2), 6);
    expect(pe[2 * 4 + 2]).toBeCloseTo(Math.sin(2 / 100), 6);
    expect(pe[2 * 4 + 3]).toBeCloseTo(Math.cos(2 / 100), 6);
  });
});
