// The worker-side recipe of the data-parallel rows of encoders.bench.ts (plain JS so worker
// threads load it without a TypeScript loader): the encoder from its config and the PyTorch
// peer's four heads (Linear(d, 32) + ReLU + Linear(32, o)), 3-class CE, MSE, 4-class CE, MSE.
import { buildEncoder, parseEncoderConfig } from '@task-agnostic/encoders';
import { tf } from '@task-agnostic/tf';

export const HEADS = [
  ['direction', 3, 'ce'],
  ['volatility', 1, 'mse'],
  ['regime', 4, 'ce'],
  ['return', 1, 'mse'],
];

function notUsed() {
  throw new Error('bench recipe: not used');
}

/** { encoder: EncoderConfig input, inputShape: [T, F] } -> MultiTaskParts. */
export function buildParts(args) {
  const encoder = buildEncoder(parseEncoderConfig(args.encoder), args.inputShape, 0);
  const d = encoder.outputDim;
  const heads = HEADS.map(([, o], i) => {
    const w1 = tf.variable(tf.randomNormal([d, 32], 0, 0.1, 'float32', 10 + i));
    const b1 = tf.variable(tf.zeros([32]));
    const w2 = tf.variable(tf.randomNormal([32, o], 0, 0.1, 'float32', 20 + i));
    const b2 = tf.variable(tf.zeros([o]));
    return {
      variables: [w1, b1, w2, b2],
      apply: (z) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(z, w1), b1)), w2), b2),
      dispose: () => tf.dispose([w1, b1, w2, b2]),
    };
  });
  const tasks = HEADS.map(([id, o, k]) => ({
    id,
    kind: k === 'ce' ? 'classification' : 'regression',
    horizon: 1,
    outputDim: o,
    fit: notUsed,
    labels: notUsed,
    buildHead: notUsed,
    metrics: notUsed,
    loss: (out, y) => (k === 'ce' ? tf.losses.softmaxCrossEntropy(y, out) : tf.losses.meanSquaredError(y, out)),
  }));
  return { encoder, heads, tasks, dispose: () => (encoder.dispose(), heads.forEach((h) => h.dispose())) };
}
