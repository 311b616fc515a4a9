import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { createMlpHead } from './head-mlp.js';
import { getTask, listTasks } from './registry.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('MLP head', () => {
  it('is D -> 64 -> out, computes relu(x W1 + b1) W2 + b2, and is deterministic by seed', () => {
    const a = createMlpHead({ inputDim: 3, outputDim: 2, seed: 7, name: 'heads/test' });
    const b = createMlpHead({ inputDim: 3, outputDim: 2, seed: 7, name: 'heads/test' });
    const c = createMlpHead({ inputDim: 3, outputDim: 2, seed: 8, name: 'heads/test' });
    expect(a.variables.map((v) => v.shape)).toEqual([[3, 64], [64], [64, 2], [2]]);
    expect(a.variables[0]!.name).not.toBe(b.variables[0]!.name); // unique names
    expect(Array.from(a.variables[0]!.dataSync())).toEqual(Array.from(b.variables[0]!.dataSync()));
    expect(Array.from(a.variables[0]!.dataSync())).not.toEqual(Array.from(c.variables[0]!.dataSync()));
    // reference forward pass in plain JS
    const x = [0.5, -1, 2];
    const w1 = a.variables[0]!.dataSync();
    const w2 = a.variables[2]!.dataSync();
    const ref = [0, 0];
    for (let j = 0; j < 64; j++) {
      let hj = 0;
      for (let i = 0; i < 3; i++) hj += x[i]! * w1[i * 64 + j]!;
      hj = Math.max(0, hj);
      for (let o = 0; o < 2; o++) ref[o]! += hj * w2[j * 2 + o]!;
    }
    const xt = tf.tensor2d([x]);
    const y = a.apply(xt);
    const got = y.dataSync();
    expect(got[0]).toBeCloseTo(ref[0]!, 4);
    expect(got[1]).toBeCloseTo(ref[1]!, 4);
    expect(() => a.apply(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(/\[N, 3\]/);
    tf.dispose([xt, y]);
    for (const h of [a, b, c]) h.dispose();
  });

  it('no tensor leak across training steps and predictions, for every built-in task; the loss goes down', () => {
    const market = generateSyntheticMarket({ bars: 800, seed: 3 }).candles;
    for (const id of listTasks().slice(0, 7)) {
      const task = getTask(id, { horizon: 4, ...(id === 'volatility' ? { garch: false } : {}), ...(id !== 'return' && id !== 'volatility' ? { classWeighting: 'balanced' } : {}) });
      const state = task.fit(market, 600);
      const labels = task.labels(market, state);
      const n = 32;
      const rows = Array.from({ length: n }, (_, i) => 100 + i * 10);
      const tgt = new Float32Array(n * task.targetDim);
      rows.forEach((t, i) => tgt.set(labels.targets.subarray(t * task.targetDim, (t + 1) * task.targetDim), i * task.targetDim));
      const head = task.buildHead(8, 1);
      const x = tf.randomNormal([n, 8], 0, 1, 'float32', 5) as tf.Tensor2D;
      const y = tf.tensor2d(tgt, [n, task.targetDim]);
      const opt = tf.train.adam(0.01);
      const step = (): number => {
        const cost = opt.minimize(() => task.loss(head.apply(x, { training: true }), y, state), true, head.variables as tf.Variable[]);
        const v = cost!.dataSync()[0]!;
        cost!.dispose();
        return v;
      };
      const first = step(); // Adam creates its slots here
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 30; i++) last = step();
      for (let i = 0; i < 3; i++) {
        const out = head.apply(x);
        const m = task.metrics(out.dataSync() as Float32Array, tgt, n);
        expect(Number.isFinite(m.n)).toBe(true);
        task.decode(out.dataSync().subarray(0, task.outputDim), state);
        out.dispose();
      }
      expect(tf.memory().numTensors, id).toBe(before);
      expect(last, id).toBeLessThan(first);
      opt.dispose();
      head.dispose();
      tf.dispose([x, y]);
    }
  });

  it('build and dispose leave no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) createMlpHead({ inputDim: 16, outputDim: 3, seed: i, name: 'heads/cycle' }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
