import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from './backend.js';
import { maxAbsDiff } from '@task-agnostic/test-utils';
import { useTestBackend } from './test-kit.js';
import { fusedLayerNorm, setFusedLayerNormEnabled } from './fused-layer-norm.js';
import { layerNorm } from './ops.js';

/** The reference: layer norm as plain tf ops (tfjs autodiff for the gradient). */
function reference(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.rank - 1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
}

useTestBackend({ restore: () => setFusedLayerNormEnabled(true) });

describe.each([['wasm'], ['cpu']])('fused layer norm on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it('output and gradients (x, gain, bias) equal the tf-op reference within 1e-5', () => {
    const x = tf.randomNormal([3, 7, 10], 0.5, 2, 'float32', 1);
    const g = tf.randomNormal([10], 1, 0.3, 'float32', 2) as tf.Tensor1D;
    const b = tf.randomNormal([10], 0, 0.3, 'float32', 3) as tf.Tensor1D;
    const w = tf.randomNormal([3, 7, 10], 0, 1, 'float32', 4);
    const loss = (f: typeof reference) => (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5), w)) as tf.Scalar;
    const ours = tf.grads(loss(fusedLayerNorm))([x, g, b]);
    const ref = tf.grads(loss(reference))([x, g, b]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i]!.dataSync(), ref[i]!.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(fusedLayerNorm(x, g, b, 1e-5).dataSync(), reference(x, g, b, 1e-5).dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, g, b, w, ...ours, ...ref]);
  });

  it('matches a hand-computed row and its gradient', () => {
    // x = [1, 3]: mean 2, var 1, eps 0 -> xhat [-1, 1]; gain [2, 1], bias [0, 5] -> y [-2, 6]
    const x = tf.tensor2d([[1, 3]]);
    const g = tf.tensor1d([2, 1]);
    const b = tf.tensor1d([0, 5]);
    expect(Array.from(fusedLayerNorm(x, g, b, 0).dataSync())).toEqual([-2, 6]);
    // loss = y0: dy = [1, 0]; dbias = [1, 0]; dgain = dy * xhat = [-1, 0];
    // gdy = dy * gain = [2, 0]: mean 1, mean(gdy * xhat) = -1; dx = 1 * ([2, 0] - 1 - [-1, 1] * -1) = [0, 0]
    const [dx, dg, db] = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.slice(fusedLayerNorm(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 0), [0, 0], [1, 1])) as tf.Scalar)([x, g, b]);
    expect(Array.from(dx!.dataSync())).toEqual([0, 0]);
    expect(Array.from(dg!.dataSync())).toEqual([-1, 0]);
    expect(Array.from(db!.dataSync())).toEqual([1, 0]);
    tf.dispose([x, g, b, dx!, dg!, db!]);
  });

  it('is what layerNorm trains through, and leaves no tensor behind', () => {
    const x = tf.variable(tf.randomNormal([5, 8], 0, 1, 'float32', 5));
    const g = tf.variable(tf.ones([8])) as tf.Variable<tf.Rank.R1>;
    const b = tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>;
    const opt = tf.train.sgd(0.1);
    const step = () => opt.minimize(() => tf.sum(tf.square(tf.sub(layerNorm(x, g, b), 0.5))) as tf.Scalar, false, [x, g, b]);
    step();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    setFusedLayerNormEnabled(false);
    const { grads: off } = tf.variableGrads(() => tf.sum(tf.square(layerNorm(x, g, b))) as tf.Scalar, [x, g, b]);
    setFusedLayerNormEnabled(true);
    const { grads: on } = tf.variableGrads(() => tf.sum(tf.square(layerNorm(x, g, b))) as tf.Scalar, [x, g, b]);
    for (const v of [x, g, b]) expect(maxAbsDiff(on[v.name]!.dataSync(), off[v.name]!.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, g, b, ...Object.values(on), ...Object.values(off)]);
    opt.dispose();
  });
});
