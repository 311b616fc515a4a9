import { describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { ENCODER_TYPES, type EncoderType } from './config.js';
import type { Encoder } from './encoder.js';
import { useTestBackends } from './test-kit.js';

const T = 16;
const F = 5;

function randomWindows(n: number, seed: number): tf.Tensor3D {
  const rng = new Rng(seed);
  const v = new Float32Array(n * T * F);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return tf.tensor3d(v, [n, T, F]);
}

/** A fixed regression target so a loss can be minimised: sum of squares to random targets. */
function lossFn(enc: Encoder, x: tf.Tensor3D, target: tf.Tensor2D, training: boolean): tf.Scalar {
  const y = enc.apply(x, { training });
  const mse = tf.mean(tf.square(tf.sub(y, target)));
  const aux = enc.auxLoss();
  return (aux ? tf.add(mse, aux) : mse) as tf.Scalar;
}

useTestBackends();

describe.each(ENCODER_TYPES.map((t) => [t]))('%s encoder', (type: EncoderType) => {
  it('maps [N,T,F] to [N,D], is deterministic by seed, names its variables uniquely and counts parameters', async () => {
    await tf.setBackend('cpu');
    const cfg = encoderPreset('tiny', type);
    const a = buildEncoder(cfg, [T, F], 7);
    const b = buildEncoder(cfg, [T, F], 7);
    const c = buildEncoder(cfg, [T, F], 8);
    const x = randomWindows(3, 1);
    const ya = a.apply(x);
    const yb = b.apply(x);
    const yc = c.apply(x);
    expect(ya.shape).toEqual([3, a.outputDim]);
    expect(a.outputDim).toBe(cfg.outputDim);
    expect(Array.from(ya.dataSync())).toEqual(Array.from(yb.dataSync()));
    expect(Array.from(ya.dataSync())).not.toEqual(Array.from(yc.dataSync()));
    expect(ya.dataSync().every(Number.isFinite)).toBe(true);
    // one sample alone gives the same embedding as inside a batch (inference mode)
    const y1 = a.apply(tf.slice(x, [1, 0, 0], [1, T, F]));
    const row1 = ya.dataSync().slice(a.outputDim, 2 * a.outputDim);
    y1.dataSync().forEach((v, i) => expect(v).toBeCloseTo(row1[i]!, 4));
    // variables: stable role names parallel to variables, unique tf names, stable order
    expect(a.variableNames).toEqual(b.variableNames);
    expect(a.variableNames.length).toBe(a.variables.length);
    expect(new Set(a.variables.map((v) => v.name)).size).toBe(a.variables.length);
    expect(new Set([...a.variables, ...b.variables].map((v) => v.name)).size).toBe(2 * a.variables.length);
    expect(a.variables).toContain(a.lastSharedWeights);
    expect(a.lastSharedWeights.rank).toBe(2);
    expect(a.paramCount()).toBe(a.trainableVariables.reduce((s, v) => s + v.size, 0));
    expect(() => a.apply(tf.zeros([2, T + 1, F]) as tf.Tensor3D)).toThrow(/expects input \[N, 16, 5\]/);
    tf.dispose([x, ya, yb, yc, y1]);
    [a, b, c].forEach((e) => e.dispose());
  });

  it('has gradients that match central finite differences (cpu, float32)', async () => {
    await tf.setBackend('cpu');
    const enc = buildEncoder(encoderPreset('tiny', type), [T, F], 3);
    const x = randomWindows(4, 2);
    const target = tf.randomNormal([4, enc.outputDim], 0, 1, 'float32', 5) as tf.Tensor2D;
    // MLP: batch-norm's training path (batch statistics) is what gets differentiated in training.
    const training = type === 'mlp';
    const f = () => lossFn(enc, x, target, training);
    const { grads, value } = tf.variableGrads(f, enc.trainableVariables as tf.Variable[]);
    value.dispose();
    let checked = 0;
    const rng = new Rng(11);
    for (const v of enc.trainableVariables) {
      const g = grads[v.name]!.dataSync();
      // the largest-gradient coordinate plus one random coordinate of each variable
      let best = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[best]!)) best = i;
      for (const idx of new Set([best, rng.int(g.length)])) {
        if (Math.abs(g[idx]!) < 1e-3) continue;
        const base = v.dataSync().slice();
        const at = (delta: number) => {
          const p = base.slice();
          p[idx] = base[idx]! + delta;
          v.assign(tf.tensor(p, v.shape));
          return tf.tidy(() => f().dataSync()[0]!);
        };
        const fdAt = (eps: number) => (at(eps) - at(-eps)) / (2 * eps);
        const fdWide = fdAt(1e-3);
        const fd = fdAt(3e-4);
        v.assign(tf.tensor(base, v.shape));
        // A ReLU kink (or top-k switch) within +-eps makes the two estimates disagree: skip those.
        if (Math.abs(fdWide - fd) > 1e-2 * Math.max(Math.abs(fd), Math.abs(fdWide)) + 1e-4) continue;
        const tol = 1e-2 * Math.max(Math.abs(fd), Math.abs(g[idx]!)) + 2e-4;
        expect(Math.abs(fd - g[idx]!), `${v.name}[${idx}] analytic ${g[idx]} fd ${fd}`).toBeLessThan(tol);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(enc.trainableVariables.length / 2);
    tf.dispose(Object.values(grads));
    tf.dispose([x, target]);
    enc.dispose();
  });

  it.each([['cpu'], ['wasm']])('reduces a loss with a few Adam steps on %s', async (backend) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const enc = buildEncoder(encoderPreset('tiny', type), [T, F], 5);
    const x = randomWindows(16, 3);
    const target = tf.randomNormal([16, enc.outputDim], 0, 0.5, 'float32', 9) as tf.Tensor2D;
    const opt = tf.train.adam(1e-2);
    const evalLoss = () => tf.tidy(() => lossFn(enc, x, target, false).dataSync()[0]!);
    const before = evalLoss();
    for (let i = 0; i < 15; i++) {
      const cost = opt.minimize(() => lossFn(enc, x, target, true), true, enc.trainableVariables as tf.Variable[]);
      cost?.dispose();
    }
    const after = evalLoss();
    expect(after).toBeLessThan(before * 0.9);
    opt.dispose();
    tf.dispose([x, target]);
    enc.dispose();
  });

  it('leaks no tensors across 20 training steps and 100 predictions (wasm)', async () => {
    await tf.setBackend('wasm');
    const enc = buildEncoder(encoderPreset('tiny', type), [T, F], 5);
    const x = randomWindows(8, 4);
    const x1 = randomWindows(1, 5);
    const target = tf.zeros([8, enc.outputDim]) as tf.Tensor2D;
    const opt = tf.train.adam(1e-3);
    const step = () => opt.minimize(() => lossFn(enc, x, target, true), false, enc.trainableVariables as tf.Variable[]);
    step(); // Adam creates its moment slots on the first step
    tf.tidy(() => enc.apply(x1)).dispose();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    for (let i = 0; i < 100; i++) {
      const y = enc.apply(x1);
      y.dataSync();
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(n0);
    const withEncoder = tf.memory().numTensors;
    enc.dispose();
    expect(tf.memory().numTensors).toBeLessThan(withEncoder - enc.variables.length + 1);
    opt.dispose();
    tf.dispose([x, x1, target]);
  });
});
