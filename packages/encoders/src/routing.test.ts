import { describe, expect, it } from 'vitest';
import { tf } from '@task-agnostic/tf';
import { expertUsage, loadBalanceLoss, topKGates, topKMask } from './routing.js';
import { buildEncoder } from './build.js';
import { encoderPreset } from './presets.js';
import type { ExpertUsage } from './routing.js';

describe('MoE routing', () => {
  const probs = tf.tensor2d([
    [0.1, 0.5, 0.2, 0.2], // top-2: expert 1, then the tie 2/3 goes to the lower index 2
    [0.4, 0.3, 0.2, 0.1], // experts 0, 1
    [0.25, 0.25, 0.25, 0.25], // uniform: ties -> 0, 1
  ]);

  it('picks the top-k experts per row, ties to the lower index', () => {
    const m = topKMask(probs, 2);
    expect(m.arraySync()).toEqual([
      [0, 1, 1, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
    expect(Array.from(tf.sum(topKMask(probs, 3), 1).dataSync())).toEqual([3, 3, 3]);
  });

  it('renormalises gates over the chosen experts so they sum to 1 (hand-computed)', () => {
    const g = topKGates(probs, topKMask(probs, 2)).arraySync();
    const want = [
      [0, 0.5 / 0.7, 0.2 / 0.7, 0],
      [0.4 / 0.7, 0.3 / 0.7, 0, 0],
      [0.5, 0.5, 0, 0],
    ];
    g.forEach((row, r) => row.forEach((v, i) => expect(v).toBeCloseTo(want[r]![i]!, 5)));
    g.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
  });

  it('load-balance loss: 1 for uniform routing, larger when routing concentrates, E when one expert takes all', () => {
    // Balanced: 4 samples, each confidently on a different pair -> every expert gets 2 of 8 assignments.
    const balanced = tf.tensor2d([
      [0.45, 0.45, 0.05, 0.05],
      [0.05, 0.45, 0.45, 0.05],
      [0.05, 0.05, 0.45, 0.45],
      [0.45, 0.05, 0.05, 0.45],
    ]);
    const uniform = tf.fill([4, 4], 0.25) as tf.Tensor2D;
    const skewed = tf.tensor2d(Array.from({ length: 4 }, () => [0.6, 0.3, 0.05, 0.05]));
    const collapsed = tf.tensor2d(Array.from({ length: 4 }, () => [1, 0, 0, 0]));
    const loss = (p: tf.Tensor2D, k: number) => loadBalanceLoss(p, topKMask(p, k)).dataSync()[0]!;
    expect(loss(uniform, 2)).toBeCloseTo(1, 6);
    expect(loss(balanced, 2)).toBeCloseTo(1, 6);
    // skewed: f = [.5,.5,0,0], P = [.6,.3,.05,.05] -> 4 * (.3 + .15) = 1.8
    expect(loss(skewed, 2)).toBeCloseTo(1.8, 5);
    // top-1 collapse: f = [1,0,0,0], P = [1,0,0,0] -> E = 4
    expect(loss(collapsed, 1)).toBeCloseTo(4, 6);
    expect(loss(skewed, 2)).toBeGreaterThan(loss(uniform, 2));
  });

  it('usage statistics equal a hand-computed case', () => {
    const mask = topKMask(probs, 2);
    const gates = topKGates(probs, mask);
    const u: ExpertUsage = expertUsage(probs.dataSync(), mask.dataSync(), gates.dataSync(), 3, 4);
    expect(u.count).toEqual([2, 3, 1, 0]);
    expect(u.fraction.map((v) => +v.toFixed(6))).toEqual([0.666667, 1, 0.333333, 0]);
    const meanProb = [(0.1 + 0.4 + 0.25) / 3, (0.5 + 0.3 + 0.25) / 3, (0.2 + 0.2 + 0.25) / 3, (0.2 + 0.1 + 0.25) / 3];
    u.meanProb.forEach((v, i) => expect(v).toBeCloseTo(meanProb[i]!, 6));
    const meanGate = [(0.4 / 0.7 + 0.5) / 3, (0.5 / 0.7 + 0.3 / 0.7 + 0.5) / 3, 0.2 / 0.7 / 3, 0];
    u.meanGate.forEach((v, i) => expect(v).toBeCloseTo(meanGate[i]!, 5));
    expect(u.meanGate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('the MoE encoder reports usage and an auxiliary loss consistent with its own routing', () => {
    const enc = buildEncoder(encoderPreset('tiny', 'moe'), [16, 5], 1);
    expect(enc.auxLoss()).toBeNull();
    const y = enc.apply(tf.randomNormal([32, 16, 5], 0, 1, 'float32', 3) as tf.Tensor3D);
    const d = enc.diagnostics() as { expertUsage: ExpertUsage; loadBalanceLoss: number };
    const cfg = enc.config as { numExperts: number; topK: number; auxLossWeight: number };
    expect(d.expertUsage.count.reduce((a, b) => a + b, 0)).toBe(32 * cfg.topK);
    expect(d.expertUsage.meanGate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // the aux loss recomputed from the reported usage: E * sum(f_i * P_i) with f over assignments
    const f = d.expertUsage.count.map((c) => c / (32 * cfg.topK));
    const want = cfg.numExperts * f.reduce((s, fi, i) => s + fi * d.expertUsage.meanProb[i]!, 0);
    expect(d.loadBalanceLoss).toBeCloseTo(want, 5);
    expect(enc.auxLoss()!.dataSync()[0]!).toBeCloseTo(want * cfg.auxLossWeight, 6);
    y.dispose();
    enc.dispose();
  });
});
