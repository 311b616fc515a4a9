import { describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';

describe('MLP encoder', () => {
  it('L2-normalises embeddings, keeps batch-norm statistics as saved non-trainable variables and updates them in training', async () => {
    await tf.setBackend('cpu');
    const enc = buildEncoder(encoderPreset('tiny', 'mlp'), [16, 5], 2);
    const x = tf.add(tf.mul(tf.randomNormal([64, 16, 5], 0, 1, 'float32', 1), 2), 3) as tf.Tensor3D;
    const y = enc.apply(x);
    const norms = tf.norm(y, 'euclidean', 1).dataSync();
    norms.forEach((v) => expect(v).toBeCloseTo(1, 5));
    const stats = enc.variables.filter((v) => !v.trainable);
    expect(enc.variableNames.filter((n) => /moving_(mean|variance)/.test(n)).length).toBe(4);
    expect(stats.length).toBe(4);
    expect(enc.trainableVariables.length).toBe(enc.variables.length - 4);
    // one training apply: moving mean = 0.9 * 0 + 0.1 * batch mean of the first layer's pre-activations
    const layer0 = enc.variables[0]! as tf.Variable<tf.Rank.R2>;
    const bias0 = enc.variables[1]! as tf.Variable<tf.Rank.R1>;
    const z = tf.add(tf.matMul(tf.reshape(x, [64, 80]), layer0), bias0);
    const want = tf.mul(tf.mean(z, 0), 0.1).dataSync();
    enc.apply(x, { training: true }).dispose();
    const got = stats[0]!.dataSync();
    want.forEach((v, i) => expect(got[i]!).toBeCloseTo(v, 4));
    tf.dispose([x, y, z]);
    enc.dispose();
  });
});
