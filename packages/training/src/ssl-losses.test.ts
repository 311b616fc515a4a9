import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { binaryLogitLoss, infoNceLoss, maskedReconstructionLoss } from './ssl-losses.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
const val = (t: tf.Tensor) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('self-supervised losses', () => {
  it('masked reconstruction counts only the masked steps', () => {
    // N=1, T=3, F=2; step 1 masked: errors (1-0)^2 + (3-1)^2 = 5 over 2 values -> 2.5; unmasked errors ignored
    const recon = tf.tensor3d([[[9, 9], [1, 3], [7, 7]]]);
    const target = tf.tensor3d([[[0, 0], [0, 1], [0, 0]]]);
    const mask = tf.tensor2d([[0, 1, 0]]);
    expect(val(maskedReconstructionLoss(recon, target, mask))).toBeCloseTo(2.5, 6);
    tf.dispose([recon, target, mask]);
  });

  it('InfoNCE equals the hand-computed value on a 2x2 batch', () => {
    // a = [[1,0],[0,1]], b = a: logits = I / tau, tau = 0.5 -> diag 2, off 0.
    // CE per row = -log(e^2 / (e^2 + 1)) = log(1 + e^-2)
    const a = tf.tensor2d([[1, 0], [0, 1]]);
    expect(val(infoNceLoss(a, a, 0.5))).toBeCloseTo(Math.log(1 + Math.exp(-2)), 5);
    // b rotated 90 degrees: logits [[0, 2], [-2, 0]]: row CE of a->b: [log(1+e^2), log(1+e^{-2}) ... computed directly
    const b = tf.tensor2d([[0, -1], [1, 0]]);
    // a.b^T = [[0,1],[-1,0]] / 0.5 = [[0,2],[-2,0]]
    const lse = (x: number[]) => Math.log(x.reduce((s, v) => s + Math.exp(v), 0));
    const ab = [lse([0, 2]) - 0, lse([-2, 0]) - 0];
    const ba = [lse([0, -2]) - 0, lse([2, 0]) - 0];
    const want = 0.5 * ((ab[0]! + ab[1]!) / 2 + (ba[0]! + ba[1]!) / 2);
    expect(val(infoNceLoss(a, b, 0.5))).toBeCloseTo(want, 5);
    tf.dispose([a, b]);
  });

  it('binary logit loss is the mean sigmoid cross-entropy', () => {
    const l = tf.tensor2d([[0], [2]]);
    const y = tf.tensor2d([[1], [0]]);
    expect(val(binaryLogitLoss(l, y))).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(2))) / 2, 5);
    tf.dispose([l, y]);
  });
});
