import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { expectFastFollowsWeights, expectNoLeaks, useTestBackends } from './test-kit.js';

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

  it.each(CASES)('%s: equals the graph path for N = 1 and N = 5, before and after training and an outside assign', (_label, cfg, t, f) => {
    const enc = buildEncoder(cfg, [t, f], 17);
    expectFastFollowsWeights(enc, [t, f], enc.variableNames.includes('attn_norm/gain') ? 'attn_norm/gain' : 'mix/w');
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
    const x8 = tf.randomNormal([8, 96, 32], 0, 1, 'float32', 4) as tf.Tensor3D;
    // dispose frees the variables and the folded QKV (2 records)
    await expectNoLeaks(buildEncoder(encoderPreset('default', 'cnn'), [96, 32], 5), x1, x8, { tensors: 0, records: 2 });
    tf.dispose([x1, x8]);
  });
});
