import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { fastVsGraph, trainStep, useTestBackends } from './test-kit.js';
import { maxAbsDiff } from '@task-agnostic/test-utils';

function cnn(preset: 'tiny' | 'default', over: Record<string, unknown>): EncoderConfig {
  return parseEncoderConfig({ ...encoderPreset(preset, 'cnn'), ...over });
}

useTestBackends();

// [label, config, T, F]: the presets, no time pooling, a pool that does not divide T (a shorter
// oldest group), no attention, and the reference CNN without attention over all 96 steps.
const CASES: [string, EncoderConfig, number, number][] = [
  ['tiny', cnn('tiny', {}), 16, 5],
  ['tiny, attentionPool 1', cnn('tiny', { attentionPool: 1 }), 16, 5],
  ['tiny, attentionPool 3, T 16', cnn('tiny', { attentionPool: 3 }), 16, 5],
  ['tiny, no attention', cnn('tiny', { numHeads: 0 }), 16, 5],
  ['default', cnn('default', {}), 96, 32],
  ['default, T 94 (shorter oldest group)', cnn('default', {}), 94, 32],
  ['reference: no attention, no pooling', cnn('default', { numHeads: 0, attentionPool: 1 }), 96, 32],
];

describe.each([['cpu'], ['wasm']])('CNN fast inference on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it.each(CASES)('%s: equals the graph path for N = 1 and N = 5, before and after training', (_label, cfg, t, f) => {
    const enc = buildEncoder(cfg, [t, f], 17);
    const x1 = tf.randomNormal([1, t, f], 0, 1, 'float32', 1) as tf.Tensor3D;
    const x5 = tf.randomNormal([5, t, f], 0, 1, 'float32', 2) as tf.Tensor3D;
    expect(fastVsGraph(enc, x1)).toBeLessThanOrEqual(1e-5);
    expect(fastVsGraph(enc, x5)).toBeLessThanOrEqual(1e-5);
    const before = enc.apply(x5);
    const opt = tf.train.adam(0.05);
    trainStep(enc, x5, opt);
    trainStep(enc, x5, opt);
    const after = enc.apply(x5);
    expect(maxAbsDiff(before.dataSync(), after.dataSync())).toBeGreaterThan(1e-3);
    expect(fastVsGraph(enc, x1)).toBeLessThanOrEqual(1e-5);
    expect(fastVsGraph(enc, x5)).toBeLessThanOrEqual(1e-5);
    const name = enc.variableNames.includes('attn_norm/gain') ? 'attn_norm/gain' : 'mix/w';
    const v = enc.variables[enc.variableNames.indexOf(name)]!;
    v.assign(tf.tidy(() => tf.mul(v, 1.5)));
    expect(fastVsGraph(enc, x5)).toBeLessThanOrEqual(1e-5);
    opt.dispose();
    tf.dispose([x1, x5, before, after]);
    enc.dispose();
  });

  it('runs no engine op with attention over at most 24 steps, falls back beyond, and leaks nothing', async () => {
    const x1 = tf.randomNormal([1, 96, 32], 0, 1, 'float32', 3) as tf.Tensor3D;
    const long = buildEncoder(cnn('default', { attentionPool: 1 }), [96, 32], 5); // attention over 96 steps
    long.apply(x1).dispose();
    const profLong = await tf.profile(() => long.apply(x1));
    expect(profLong.kernels.length).toBeGreaterThan(0);
    tf.dispose(profLong.result as tf.Tensor);
    long.dispose();
    const enc = buildEncoder(encoderPreset('default', 'cnn'), [96, 32], 5);
    const x8 = tf.randomNormal([8, 96, 32], 0, 1, 'float32', 4) as tf.Tensor3D;
    const opt = tf.train.adam(1e-3);
    trainStep(enc, x8, opt);
    enc.apply(x1).dispose();
    const prof = await tf.profile(() => enc.apply(x1));
    expect(prof.kernels.length).toBe(0);
    tf.dispose(prof.result as tf.Tensor);
    const tensors = tf.memory().numTensors;
    const records = tf.backend().numDataIds();
    for (let i = 0; i < 100; i++) {
      const y = enc.apply(x1);
      y.dataSync();
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(records);
    for (let i = 0; i < 3; i++) {
      trainStep(enc, x8, opt);
      enc.apply(x1).dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(records);
    // dispose frees the variables and the folded QKV (2 records)
    const nVars = enc.variables.length;
    enc.dispose();
    expect(tf.memory().numTensors).toBe(tensors - nVars);
    expect(tf.backend().numDataIds()).toBe(records - nVars - 2);
    opt.dispose();
    tf.dispose([x1, x8]);
  });
});
