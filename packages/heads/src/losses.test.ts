import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { gaussianNll, gaussianNllValue, meanSquaredError, sigmoidCrossEntropy, softmaxCrossEntropy } from './losses.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const val = (s: tf.Scalar): number => {
  const v = s.dataSync()[0]!;
  s.dispose();
  return v;
};

describe('losses', () => {
  it('softmax cross-entropy equals -log softmax of the true class; weighted form normalises by the weights', () => {
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const y = tf.tensor2d([[2], [0]]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const ce0 = lse - 3;
    const ce1 = Math.log(3);
    expect(val(softmaxCrossEntropy(logits, y, 3))).toBeCloseTo((ce0 + ce1) / 2, 5);
    expect(val(softmaxCrossEntropy(logits, y, 3, [2, 1, 0.5]))).toBeCloseTo((0.5 * ce0 + 2 * ce1) / 2.5, 5);
    tf.dispose([logits, y]);
  });
  it('sigmoid cross-entropy matches -y log p - (1-y) log(1-p), also for large logits', () => {
    const x = tf.tensor2d([[0.3], [-2], [40]]);
    const y = tf.tensor2d([[1], [0], [0]]);
    const p = (v: number) => 1 / (1 + Math.exp(-v));
    const expected = (-Math.log(p(0.3)) - Math.log(1 - p(-2)) + 40) / 3;
    expect(val(sigmoidCrossEntropy(x, y))).toBeCloseTo(expected, 4);
    // Positive weight 3: (3 * ce0 + ce1 + ce2) / (3 + 1 + 1)
    const w = (3 * -Math.log(p(0.3)) - Math.log(1 - p(-2)) + 40) / 5;
    expect(val(sigmoidCrossEntropy(x, y, 3))).toBeCloseTo(w, 4);
    tf.dispose([x, y]);
  });
  it('Gaussian NLL matches the closed form; MSE is the mean squared error', () => {
    const out = tf.tensor2d([[0.5, Math.log(2)], [-1, 0]]);
    const y = tf.tensor2d([[1.5], [0]]);
    const expected = (gaussianNllValue(0.5, Math.log(2), 1.5) + gaussianNllValue(-1, 0, 0)) / 2;
    expect(expected).toBeCloseTo((0.5 * 0.25 + Math.log(2) + 0.5 * Math.log(2 * Math.PI) + 0.5 + 0.5 * Math.log(2 * Math.PI)) / 2, 12);
    expect(val(gaussianNll(out, y))).toBeCloseTo(expected, 5);
    const a = tf.tensor2d([[1], [2]]);
    const b = tf.tensor2d([[0], [4]]);
    expect(val(meanSquaredError(a, b))).toBeCloseTo(2.5, 6);
    tf.dispose([out, y, a, b]);
  });
  it('rejects wrong shapes with a clear error', () => {
    const logits = tf.tensor2d([[1, 2]]);
    const y = tf.tensor2d([[1], [0]]);
    expect(() => softmaxCrossEntropy(logits, y, 2)).toThrow(/targets must be \[1, 1\]/);
    expect(() => gaussianNll(logits, tf.tensor2d([[1]]))).not.toThrow();
    tf.dispose([logits, y]);
  });
  it('gradients of the NLL point the mean towards the target', () => {
    const out = tf.variable(tf.tensor2d([[0, 0]]));
    const y = tf.tensor2d([[2]]);
    const { grads, value } = tf.variableGrads(() => gaussianNll(out as tf.Tensor2D, y), [out]);
    const g = grads[out.name]!.dataSync();
    expect(g[0]).toBeCloseTo(-2, 5); // d/dmu 0.5 (y - mu)^2 = -(y - mu)
    expect(g[1]).toBeCloseTo(1 - 4, 5); // d/ds (0.5 (y-mu)^2 e^{-2s} + s) = -(y-mu)^2 + 1
    tf.dispose([value, y, out, ...Object.values(grads)]);
  });
});
