import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { Harmoniser, type HarmoniserName } from './harmoniser.js';
import { computeStepGradients, clipByGlobalNorm, clipScale, globalNorm, trainableVariablesOf, type MultiTaskBatch, type MultiTaskParts } from './step.js';
import { pcgradCombineArrays, pcgradOrders } from './pcgrad.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';

const T = 4, F = 3, D = 5, N = 6;
let parts: MultiTaskParts;
let batch: MultiTaskBatch;
let enc: ReturnType<typeof fakeEncoder>;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
  enc = fakeEncoder(T, F, D, 1);
  const tasks = [fakeRegressionTask('a'), fakeClassificationTask('b', 3), fakeRegressionTask('c')];
  parts = { encoder: enc, tasks, heads: tasks.map((t, i) => t.buildHead(D, 10 + i)) };
  const rng = new Rng(3);
  batch = {
    x: Float32Array.from({ length: N * T * F }, () => rng.normal()),
    n: N,
    targets: [
      Float32Array.from({ length: N }, () => rng.normal()),
      Float32Array.from({ length: N }, () => rng.int(3)),
      Float32Array.from({ length: N }, () => rng.normal() * 3),
    ],
    targetDims: [1, 1, 1],
  };
});
afterAll(() => {
  enc.dispose();
  parts.heads.forEach((h) => h.dispose());
});

function harm(name: HarmoniserName): Harmoniser {
  return new Harmoniser({ name }, parts.tasks.map((t) => t.kind));
}
function read(gs: (tf.Tensor | null)[]): number[][] {
  const out = gs.map((g) => (g ? Array.from(g.dataSync()) : []));
  gs.forEach((g) => g?.dispose());
  return out;
}
/** independent reference: per-task gradients of every variable by a separate tf.variableGrads */
function perTaskGrads(): { losses: number[]; grads: number[][][] } {
  const vars = trainableVariablesOf(parts);
  const x = tf.tensor3d(batch.x, [N, T, F]);
  const losses: number[] = [];
  const grads = parts.tasks.map((t, i) => {
    const y = tf.tensor2d(batch.targets[i]!, [N, 1]);
    const r = tf.variableGrads(() => t.loss(parts.heads[i]!.apply(parts.encoder.apply(x)), y), vars);
    losses.push(r.value.dataSync()[0]!);
    r.value.dispose();
    y.dispose();
    return read(vars.map((v) => r.grads[v.name] ?? null)).map((g, k) => (g.length ? g : new Array(vars[k]!.size).fill(0)));
  });
  x.dispose();
  return { losses, grads };
}

describe('multi-task step gradients', () => {
  it('weighted methods: both modes give sum_i w_i grad L_i (representation mode is exact for linear weights)', () => {
    const ref = perTaskGrads();
    for (const name of ['equal', 'loss-ratio', 'uncertainty'] as const) {
      for (const mode of ['parameter', 'representation'] as const) {
        const h = harm(name);
        const r = computeStepGradients(parts, batch, h, mode, new Rng(0));
        r.losses.forEach((l, i) => expect(l).toBeCloseTo(ref.losses[i]!, 5));
        const got = read(r.grads);
        got.forEach((g, k) => {
          g.forEach((val, e) => {
            const want = ref.grads.reduce((s, tg, i) => s + r.weights[i]! * tg[k]![e]!, 0);
            expect(val).toBeCloseTo(want, 4);
          });
        });
      }
    }
  });

  it('PCGrad parameter mode: shared gradients are the PCGrad combination of the per-task gradients', () => {
    const ref = perTaskGrads();
    const vars = trainableVariablesOf(parts);
    const nShared = enc.trainableVariables.length;
    const r = computeStepGradients(parts, batch, harm('pcgrad'), 'parameter', new Rng(5));
    const got = read(r.grads);
    const orders = pcgradOrders(3, new Rng(5));
    const flatTask = ref.grads.map((tg) => tg.slice(0, nShared).flat());
    const want = pcgradCombineArrays(flatTask, orders);
    const gotShared = got.slice(0, nShared).flat();
    gotShared.forEach((v, e) => expect(v).toBeCloseTo(want[e]!, 4));
    // heads: each head only sees its own task's gradient, unweighted
    for (let k = nShared; k < vars.length; k++) got[k]!.forEach((v, e) => expect(v).toBeCloseTo(ref.grads.reduce((s, tg) => s + tg[k]![e]!, 0), 4));
    // the tasks really conflict here, otherwise this test would prove nothing
    const dots = ([[0, 1], [0, 2], [1, 2]] as const).map(([i, j]) => flatTask[i]!.reduce((s, v, e) => s + v * flatTask[j]![e]!, 0));
    expect(Math.min(...dots)).toBeLessThan(0);
  });

  it('GradNorm parameter mode measures ||grad_W L_i|| on the last shared weight', () => {
    const ref = perTaskGrads();
    const wIndex = enc.trainableVariables.indexOf(enc.lastSharedWeights);
    const h = harm('gradnorm');
    const r = computeStepGradients(parts, batch, h, 'parameter', new Rng(0));
    read(r.grads);
    r.gradNorms!.forEach((n, i) => expect(n).toBeCloseTo(Math.hypot(...ref.grads[i]![wIndex]!), 4));
    expect(r.weights).toEqual([1, 1, 1]);
  });

  it('representation mode PCGrad back-propagates the combined dL/dz once', () => {
    // reference: dL_i/dz by hand-made variable, PCGrad on them, then the VJP through the encoder
    const x = tf.tensor3d(batch.x, [N, T, F]);
    const z = tf.variable(parts.encoder.apply(x));
    const dzs = parts.tasks.map((t, i) => {
      const y = tf.tensor2d(batch.targets[i]!, [N, 1]);
      const g = tf.grad((zz: tf.Tensor) => t.loss(parts.heads[i]!.apply(zz as tf.Tensor2D), y))(z);
      y.dispose();
      const a = Array.from(g.dataSync());
      g.dispose();
      return a;
    });
    const dz = pcgradCombineArrays(dzs, pcgradOrders(3, new Rng(9)));
    const dzT = tf.tensor2d(Float32Array.from(dz), [N, D]);
    const r0 = tf.variableGrads(() => tf.sum(tf.mul(parts.encoder.apply(x), dzT)) as tf.Scalar, [...enc.trainableVariables]);
    const want = read(enc.trainableVariables.map((v) => r0.grads[v.name]!));
    r0.value.dispose();
    tf.dispose([x, z, dzT]);
    const r = computeStepGradients(parts, batch, harm('pcgrad'), 'representation', new Rng(9));
    const got = read(r.grads);
    want.forEach((g, k) => g.forEach((v, e) => expect(got[k]![e]).toBeCloseTo(v, 4)));
  });

  it('counts encoder passes: representation mode runs the encoder once per step, parameter mode once per task where needed', () => {
    let calls = 0;
    const counted = { ...parts, encoder: { ...enc, apply: (x: tf.Tensor3D, o?: { training?: boolean }) => (calls++, enc.apply(x, o)) } };
    const passes = (name: HarmoniserName, mode: 'parameter' | 'representation') => {
      calls = 0;
      read(computeStepGradients(counted, batch, harm(name), mode, new Rng(0)).grads);
      return calls;
    };
    expect(passes('equal', 'parameter')).toBe(1);
    expect(passes('gradnorm', 'parameter')).toBe(1 + 3);
    expect(passes('pcgrad', 'parameter')).toBe(3);
    expect(passes('gradnorm', 'representation')).toBe(1);
    expect(passes('pcgrad', 'representation')).toBe(1);
    expect(passes('uncertainty', 'representation')).toBe(1);
  });

  it('clips by global norm exactly and leaks no tensors in any harmoniser/mode', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor1d([0, 4]);
    const c = clipByGlobalNorm([a, null, b], 1);
    expect(c.norm).toBeCloseTo(5, 6);
    expect(read(c.grads)).toEqual([[0.6000000238418579, 0], [], [0, 0.800000011920929]]);
    // the norm without tensor ops, and the scale the training loops hand to Adam
    const a2 = tf.tensor1d([3, 0]);
    const b2 = tf.tensor2d([[0], [4]]);
    const before = tf.memory().numTensors;
    expect(globalNorm([a2, null, b2])).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a2, b2]);
    expect(globalNorm([])).toBe(0);
    expect(clipScale(5, 1)).toBe(0.2);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(5, 0)).toBe(1);
    expect(clipScale(Number.NaN, 1)).toBe(1);
    expect(clipScale(Number.POSITIVE_INFINITY, 1)).toBe(1);
    const w = tf.tensor2d([[1e-3, -2e-3], [0.5, 1.25]]);
    expect(globalNorm([w])).toBeCloseTo(Math.sqrt(tf.sum(tf.square(w)).dataSync()[0]!), 6);
    const unclipped = clipByGlobalNorm([w], 10);
    expect(unclipped.grads[0]).toBe(w);
    w.dispose();
    for (const name of ['equal', 'loss-ratio', 'uncertainty', 'gradnorm', 'pcgrad'] as const) {
      for (const mode of ['parameter', 'representation'] as const) {
        const h = harm(name);
        read(computeStepGradients(parts, batch, h, mode, new Rng(1)).grads);
        const before = tf.memory().numTensors;
        for (let s = 0; s < 3; s++) {
          const r = computeStepGradients(parts, batch, h, mode, new Rng(s));
          h.afterStep(r.losses, r.gradNorms);
          read(r.grads);
        }
        expect(tf.memory().numTensors, `${name}/${mode}`).toBe(before);
      }
    }
  });
});
