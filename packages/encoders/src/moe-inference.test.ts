import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import type { Encoder } from './encoder.js';
import type { ExpertUsage } from './routing.js';
import { expectFastFollowsWeights, expectNoLeaks, useTestBackends } from './test-kit.js';
import { maxAbsDiff } from '@task-agnostic/test-utils';

/** The fast inference path against the graph path: embedding, aux loss and routing diagnostics. */
function fastVsGraph(enc: Encoder, x: tf.Tensor3D): number {
  const fast = enc.apply(x);
  const fastAux = enc.auxLoss()!.dataSync()[0]!;
  const fastDiag = enc.diagnostics() as { expertUsage: ExpertUsage; loadBalanceLoss: number };
  const graph = enc.apply(x, { fastInference: false });
  const graphAux = enc.auxLoss()!.dataSync()[0]!;
  const graphDiag = enc.diagnostics() as { expertUsage: ExpertUsage; loadBalanceLoss: number };
  expect(fast.shape).toEqual(graph.shape);
  expect(fast.dataSync().every(Number.isFinite)).toBe(true);
  expect(fastDiag.expertUsage.count).toEqual(graphDiag.expertUsage.count); // the same experts chosen
  const diff = Math.max(
    maxAbsDiff(fast.dataSync(), graph.dataSync()),
    Math.abs(fastAux - graphAux),
    Math.abs(fastDiag.loadBalanceLoss - graphDiag.loadBalanceLoss),
    maxAbsDiff(fastDiag.expertUsage.meanProb, graphDiag.expertUsage.meanProb),
    maxAbsDiff(fastDiag.expertUsage.meanGate, graphDiag.expertUsage.meanGate),
  );
  tf.dispose([fast, graph]);
  return diff;
}

function withPatch(preset: 'tiny' | 'default', patchLen: number): EncoderConfig {
  return parseEncoderConfig({ ...encoderPreset(preset, 'moe'), patchLen });
}

useTestBackends();

const SHAPES: ['tiny' | 'default', number, number, number][] = [
  ['tiny', 4, 16, 5],
  ['tiny', 1, 16, 5],
  ['tiny', 4, 18, 5],
  ['default', 8, 96, 32],
  ['default', 1, 96, 32],
  ['default', 8, 100, 32],
];

describe.each([['cpu'], ['wasm']])('MoE fast inference on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it.each(SHAPES)('%s preset, patchLen %i, T %i: equals the graph path (embedding, aux loss, routing) for N = 1 and 5, before and after training and an outside assign', (preset, patchLen, t, f) => {
    const enc = buildEncoder(withPatch(preset, patchLen), [t, f], 13);
    expectFastFollowsWeights(enc, [t, f], 'norm/gain', fastVsGraph);
    enc.dispose();
  });

  it('breaks routing ties toward the lower expert index, as the graph path does', () => {
    const enc = buildEncoder(encoderPreset('tiny', 'moe'), [16, 5], 4);
    for (const name of ['router/w', 'router/b']) {
      const v = enc.variables[enc.variableNames.indexOf(name)]!;
      v.assign(tf.zerosLike(v)); // uniform router probabilities: every expert ties
    }
    const x = tf.randomNormal([3, 16, 5], 0, 1, 'float32', 8) as tf.Tensor3D;
    expect(fastVsGraph(enc, x)).toBeLessThanOrEqual(1e-5);
    enc.apply(x).dispose();
    const { expertUsage } = enc.diagnostics() as { expertUsage: ExpertUsage };
    expect(expertUsage.count).toEqual([3, 3, 0]); // tiny: 3 experts, top-2
    x.dispose();
    enc.dispose();
  });

  it('runs no engine op, and leaks nothing across 100 predictions and cache-invalidating training steps', async () => {
    const x1 = tf.randomNormal([1, 96, 32], 0, 1, 'float32', 3) as tf.Tensor3D;
    const x8 = tf.randomNormal([8, 96, 32], 0, 1, 'float32', 4) as tf.Tensor3D;
    // dispose frees the last routing (5 tensors) and the folded cache (4 records)
    await expectNoLeaks(buildEncoder(encoderPreset('default', 'moe'), [96, 32], 5), x1, x8, { tensors: 5, records: 5 + 4 });
    tf.dispose([x1, x8]);
  });

  it('a gradient tape sees the graph path: training false inside variableGrads still differentiates', () => {
    const enc = buildEncoder(encoderPreset('tiny', 'moe'), [16, 5], 2);
    const x = tf.randomNormal([3, 16, 5], 0, 1, 'float32', 6) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(enc.apply(x))) as tf.Scalar, enc.trainableVariables as tf.Variable[]);
    for (const v of enc.trainableVariables) expect(grads[v.name]!.shape).toEqual(v.shape);
    const total = Object.values(grads).reduce((s, g) => s + tf.sum(tf.abs(g)).dataSync()[0]!, 0);
    expect(total).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    enc.dispose();
  });
});
