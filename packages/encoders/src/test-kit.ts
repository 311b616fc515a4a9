/**
 * Shared pieces of the encoders' tests (not part of the package's API: index.ts does not export it).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { maxAbsDiff } from '@task-agnostic/test-utils';
import type { Encoder } from './encoder.js';

/** Registers hooks that start wasm (or the best backend) for the file and restore the previous one after. */
export function useTestBackends(): void {
  let previous = 'cpu';
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    previous = tf.getBackend();
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });
}

/**
 * The fast inference path (the default for training false) against the graph path (tf ops): the
 * largest difference of the embeddings, which must have the same shape and be finite.
 */
export function fastVsGraph(enc: Encoder, x: tf.Tensor3D): number {
  const fast = enc.apply(x);
  const graph = enc.apply(x, { fastInference: false });
  expect(fast.shape).toEqual(graph.shape);
  expect(fast.dataSync().every(Number.isFinite)).toBe(true);
  const m = maxAbsDiff(fast.dataSync(), graph.dataSync());
  tf.dispose([fast, graph]);
  return m;
}

/** One Adam step towards a fixed random target (plus the auxiliary loss, if any) that moves every weight. */
export function trainStep(enc: Encoder, x: tf.Tensor3D, opt: tf.Optimizer): void {
  const target = tf.tidy(() => tf.randomNormal([x.shape[0], enc.outputDim], 0, 1, 'float32', 9));
  opt.minimize(
    () => {
      const mse = tf.mean(tf.square(tf.sub(enc.apply(x, { training: true }), target)));
      const aux = enc.auxLoss();
      return (aux ? tf.add(mse, aux) : mse) as tf.Scalar;
    },
    false,
    enc.trainableVariables as tf.Variable[],
  );
  target.dispose();
}

/**
 * The fast path follows the weights: `compare(enc, x)` (fast vs graph) stays within 1e-5 on a batch
 * of 1 and of 5 ([T, F] = `tf`) as built, after two Adam steps (which must move the embedding, so
 * a stale folded cache would show) and after `assigned` is scaled from outside (assign, as loading
 * a checkpoint does).
 */
export function expectFastFollowsWeights(enc: Encoder, [t, f]: readonly [number, number], assigned: string, compare: (enc: Encoder, x: tf.Tensor3D) => number = fastVsGraph): void {
  const x1 = tf.randomNormal([1, t, f], 0, 1, 'float32', 1) as tf.Tensor3D;
  const x5 = tf.randomNormal([5, t, f], 0, 1, 'float32', 2) as tf.Tensor3D;
  const bothWithin = (): void => {
    expect(compare(enc, x1)).toBeLessThanOrEqual(1e-5);
    expect(compare(enc, x5)).toBeLessThanOrEqual(1e-5);
  };
  bothWithin();
  const before = enc.apply(x5);
  const opt = tf.train.adam(0.05);
  trainStep(enc, x5, opt);
  trainStep(enc, x5, opt);
  const after = enc.apply(x5);
  expect(maxAbsDiff(before.dataSync(), after.dataSync())).toBeGreaterThan(1e-3);
  bothWithin();
  const v = enc.variables[enc.variableNames.indexOf(assigned)];
  expect(v, assigned).toBeDefined();
  v!.assign(tf.tidy(() => tf.mul(v!, 1.5)));
  bothWithin();
  opt.dispose();
  tf.dispose([x1, x5, before, after]);
}

/**
 * The fast path leaks nothing: after one training step (Adam's slots) and one prediction (the
 * folded cache), with no engine op in a prediction, neither engine tensors nor backend records
 * grow over 100 predictions of `x1` and 3 cache-invalidating training steps on `x8`; `dispose()`
 * then frees the variables and `freed` more tensors and records (the encoder's own). Disposes `enc`.
 */
export async function expectNoLeaks(enc: Encoder, x1: tf.Tensor3D, x8: tf.Tensor3D, freed: { readonly tensors: number; readonly records: number }): Promise<void> {
  const opt = tf.train.adam(1e-3);
  trainStep(enc, x8, opt);
  enc.apply(x1).dispose();
  const prof = await tf.profile(() => enc.apply(x1));
  expect(prof.kernels.length).toBe(0);
  tf.dispose(prof.result as tf.Tensor);
  const tensors = tf.memory().numTensors;
  const records = tf.backend().numDataIds(); // direct records are not engine tensors: count them here
  for (let i = 0; i < 100; i++) {
    const y = enc.apply(x1);
    y.dataSync();
    y.dispose();
  }
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(records);
  for (let i = 0; i < 3; i++) {
    trainStep(enc, x8, opt);
    enc.apply(x1).dispose(); // rebuilds the cache, frees the old one
  }
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(records);
  const nVars = enc.variables.length;
  enc.dispose();
  expect(tf.memory().numTensors).toBe(tensors - nVars - freed.tensors);
  expect(tf.backend().numDataIds()).toBe(records - nVars - freed.records);
  opt.dispose();
}
