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
