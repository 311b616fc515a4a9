import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { expectFastFollowsWeights, expectNoLeaks, fastVsGraph, useTestBackends } from './test-kit.js';

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

  it.each(SHAPES)('%s preset, patchLen %i, T %i: equals the graph path for N = 1 and N = 5, before and after training steps and an outside assign', (preset, patchLen, t, f) => {
    const enc = buildEncoder(withPatch(preset, patchLen), [t, f], 21);
    expectFastFollowsWeights(enc, [t, f], 'layer0/norm1/gain');
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

  it('runs no engine op and leaks nothing across 100 predictions and training steps that invalidate the cache; dispose frees the cache', async () => {
    const x1 = tf.randomNormal([1, 96, 32], 0, 1, 'float32', 3) as tf.Tensor3D;
    const x8 = tf.randomNormal([8, 96, 32], 0, 1, 'float32', 4) as tf.Tensor3D;
    // dispose frees the positions (1 tensor) and the folded cache (backend records: per layer 4, final 2, positions + bias 1)
    await expectNoLeaks(buildEncoder(encoderPreset('default'), [96, 32], 5), x1, x8, { tensors: 1, records: 1 + (4 * 2 + 3) });
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
