import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { fastVsGraph, trainStep, useTestBackends } from './test-kit.js';

function withPatch(preset: 'tiny' | 'default', patchLen: number): EncoderConfig {
  return parseEncoderConfig({ ...encoderPreset(preset, 'transformer'), patchLen });
}

useTestBackends();

// [preset, patchLen, T, F]: the preset's own patching, none, and a T that P does not divide (front
// padding); default with patch 4 is the longest sequence the fast path takes (24 tokens); default
// without patching (96 tokens) falls back to the graph path.
const SHAPES: ['tiny' | 'default', number, number, number][] = [
  ['tiny', 4, 16, 5],
  ['tiny', 1, 16, 5],
  ['tiny', 4, 18, 5],
  ['default', 8, 96, 32],
  ['default', 4, 96, 32],
  ['default', 1, 96, 32],
  ['default', 8, 100, 32],
];

describe.each([['cpu'], ['wasm']])('transformer fast inference on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it.each(SHAPES)('%s preset, patchLen %i, T %i: equals the graph path for N = 1 and N = 5, before and after training steps', (preset, patchLen, t, f) => {
    const enc = buildEncoder(withPatch(preset, patchLen), [t, f], 21);
    const x1 = tf.randomNormal([1, t, f], 0, 1, 'float32', 1) as tf.Tensor3D;
    const x5 = tf.randomNormal([5, t, f], 0, 1, 'float32', 2) as tf.Tensor3D;
    expect(fastVsGraph(enc, x1)).toBeLessThanOrEqual(1e-5);
    expect(fastVsGraph(enc, x5)).toBeLessThanOrEqual(1e-5);
    // Training moves every weight (gains and biases away from 1 and 0): the cached folded weights
    // must be rebuilt, and the fast path must follow the new weights.
    const before = enc.apply(x1);
    const opt = tf.train.adam(0.05);
    trainStep(enc, x5, opt);
    trainStep(enc, x5, opt);
    const after = enc.apply(x1);
    expect(tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]!).toBeGreaterThan(1e-3);
    expect(fastVsGraph(enc, x1)).toBeLessThanOrEqual(1e-5);
    expect(fastVsGraph(enc, x5)).toBeLessThanOrEqual(1e-5);
    // a weight set from outside (assign, as loading a checkpoint does) invalidates the cache too
    const gain = enc.variables[enc.variableNames.indexOf('layer0/norm1/gain')]!;
    gain.assign(tf.tidy(() => tf.mul(gain, 1.5)));
    expect(fastVsGraph(enc, x1)).toBeLessThanOrEqual(1e-5);
    opt.dispose();
    tf.dispose([x1, x5, before, after]);
    enc.dispose();
  });

  it('runs no engine op up to 24 tokens and falls back to the graph path beyond', async () => {
    const x = tf.randomNormal([1, 96, 32], 0, 1, 'float32', 7) as tf.Tensor3D;
    for (const [patchLen, fast] of [[8, true], [4, true], [2, false], [1, false]] as const) {
      const enc = buildEncoder(withPatch('default', patchLen), [96, 32], 3);
      enc.apply(x).dispose();
      const prof = await tf.profile(() => enc.apply(x));
      expect(prof.kernels.length === 0, `patchLen ${patchLen}`).toBe(fast);
      tf.dispose(prof.result as tf.Tensor);
      enc.dispose();
    }
    x.dispose();
  });

  it('leaks nothing across 100 predictions and training steps that invalidate the cache; dispose frees the cache', () => {
    const enc = buildEncoder(encoderPreset('default'), [96, 32], 5);
    const x1 = tf.randomNormal([1, 96, 32], 0, 1, 'float32', 3) as tf.Tensor3D;
    const x8 = tf.randomNormal([8, 96, 32], 0, 1, 'float32', 4) as tf.Tensor3D;
    const opt = tf.train.adam(1e-3);
    trainStep(enc, x8, opt); // Adam's slots
    enc.apply(x1).dispose(); // the folded-weight cache
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
    // dispose frees the variables, the positions and the folded cache (backend records: per
    // layer 4, final 2, positions + bias 1)
    const nVars = enc.variables.length;
    enc.dispose();
    expect(tf.memory().numTensors).toBe(tensors - nVars - 1);
    expect(tf.backend().numDataIds()).toBe(records - nVars - 1 - (4 * 2 + 3));
    opt.dispose();
    tf.dispose([x1, x8]);
  });
});

describe('transformer fast inference across backends', () => {
  it('rebuilds its cache on the new backend after a switch and frees the old one', async () => {
    await tf.setBackend('wasm');
    const enc = buildEncoder(encoderPreset('default'), [96, 32], 8);
    const x = tf.randomNormal([2, 96, 32], 0, 1, 'float32', 5) as tf.Tensor3D;
    const wasmRecords = () => tf.engine().findBackend('wasm')!.numDataIds();
    const before = wasmRecords();
    expect(fastVsGraph(enc, x)).toBeLessThanOrEqual(1e-5); // cache on wasm
    expect(wasmRecords()).toBeGreaterThan(before);
    await tf.setBackend('cpu'); // variables and input move to cpu on first use
    expect(fastVsGraph(enc, x)).toBeLessThanOrEqual(1e-5);
    await tf.setBackend('wasm');
    expect(fastVsGraph(enc, x)).toBeLessThanOrEqual(1e-5);
    const nVars = enc.variables.length;
    enc.dispose();
    x.dispose();
    // everything the encoder and x held is back on wasm and freed, old caches included
    expect(wasmRecords()).toBe(before - nVars - 1 - 1);
  });
});

describe('transformer fast inference and gradients', () => {
  it('a gradient tape sees the graph path: training false inside variableGrads still differentiates', async () => {
    await tf.setBackend('wasm');
    const enc = buildEncoder(encoderPreset('tiny'), [16, 5], 2);
    const x = tf.randomNormal([3, 16, 5], 0, 1, 'float32', 6) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(enc.apply(x))) as tf.Scalar, enc.trainableVariables as tf.Variable[]);
    for (const v of enc.trainableVariables) {
      const g = grads[v.name]!;
      expect(g.shape).toEqual(v.shape);
    }
    const total = Object.values(grads).reduce((s, g) => s + tf.sum(tf.abs(g)).dataSync()[0]!, 0);
    expect(total).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    enc.dispose();
  });
});
