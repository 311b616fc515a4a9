import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { equalWeights, lossRatioWeights } from './weighting.js';
import { UncertaintyWeighting } from './uncertainty.js';
import { GradNorm } from './gradnorm.js';
import { pcgradCombine, pcgradCombineArrays, pcgradOrders } from './pcgrad.js';

function pc(grads: number[][], orders: number[][]): number[] {
  const ts = grads.map((g) => tf.tensor1d(g));
  const out = pcgradCombine(ts, orders);
  const v = Array.from(out.dataSync());
  out.dispose();
  ts.forEach((t) => t.dispose());
  return v;
}

describe('PCGrad', () => {
  it('two conflicting vectors: exact projections by hand', () => {
    // g1=[1,0], g2=[-1,1]: g1.g2=-1; g1' = g1 + (1/2) g2 = [0.5,0.5]; g2' = g2 + (1/1) g1 = [0,1].
    expect(pc([[1, 0], [-1, 1]], [[1], [0]])).toEqual([0.5, 1.5]);
  });

  it('leaves gradients unchanged when nothing conflicts', () => {
    expect(pc([[1, 0], [1, 1]], [[1], [0]])).toEqual([2, 1]);
    expect(pc([[1, 2, 3], [0, 1, 0], [3, 0, 1]], [[1, 2], [2, 0], [0, 1]])).toEqual([4, 3, 4]);
  });

  it('three vectors with a fixed order project against the ORIGINAL gradients', () => {
    // g0=[2,0], g1=[-1,1], g2=[0,-1].
    // task0 order [1,2]: [2,0] -(-2/2)[-1,1] = [1,1]; vs ORIGINAL g2: dot=-1 -> [1,1]+[0,-1] = [1,0]
    // task1 order [2,0]: [-1,1] vs g2: dot=-1 -> [-1,0]; vs g0: dot=-2,|g0|^2=4 -> [-1,0]+0.5[2,0] = [0,0]
    // task2 order [0,1]: [0,-1] vs g0: dot=0 (no change); vs g1: dot=-1,|g1|^2=2 -> [0,-1]+0.5[-1,1] = [-0.5,-0.5]
    expect(pc([[2, 0], [-1, 1], [0, -1]], [[1, 2], [2, 0], [0, 1]])).toEqual([0.5, -0.5]);
    // Another order for task 0 ([2,1]): dot with g2 is 0 first, then [2,0]+[-1,1] = [1,1]; total [0.5,0.5].
    expect(pc([[2, 0], [-1, 1], [0, -1]], [[2, 1], [2, 0], [0, 1]])).toEqual([0.5, 0.5]);
  });

  it('tensor version matches the float64 reference on random vectors, orders are seeded permutations', () => {
    const rng = new Rng(7);
    const grads = [0, 1, 2, 3].map(() => Array.from({ length: 50 }, () => rng.normal()));
    const orders = pcgradOrders(4, new Rng('o'));
    expect(pcgradOrders(4, new Rng('o'))).toEqual(orders);
    for (let i = 0; i < 4; i++) expect([...orders[i]!].sort()).toEqual([0, 1, 2, 3].filter((j) => j !== i));
    const got = pc(grads, orders);
    const ref = pcgradCombineArrays(grads, orders);
    for (let k = 0; k < 50; k++) expect(got[k]).toBeCloseTo(ref[k]!, 4);
  });

  it('rejects mismatched sizes and bad orders', () => {
    const a = tf.tensor1d([1, 2]);
    const b = tf.tensor1d([1, 2, 3]);
    expect(() => pcgradCombine([a, b], [[1], [0]])).toThrow(/sizes differ/);
    expect(() => pcgradCombine([a, a], [[0], [0]])).toThrow(/invalid task 0/);
    a.dispose();
    b.dispose();
  });
});

describe('loss-ratio and equal weights', () => {
  it('loss-ratio follows lambda_i = (Lbar/L_i) / sum_j (Lbar/L_j)', () => {
    // L=[1,2,4], Lbar=7/3: ratios 7/3, 7/6, 7/12, sum 49/12 -> 4/7, 2/7, 1/7
    const w = lossRatioWeights([1, 2, 4]);
    expect(w[0]).toBeCloseTo(4 / 7, 12);
    expect(w[1]).toBeCloseTo(2 / 7, 12);
    expect(w[2]).toBeCloseTo(1 / 7, 12);
    // every task contributes the same weighted loss
    expect(w[0]! * 1).toBeCloseTo(w[2]! * 4, 12);
    expect(equalWeights([3, 0.1])).toEqual([1, 1]);
    expect(() => lossRatioWeights([1, Number.NaN])).toThrow(/task 1 is NaN/);
  });
});

describe('uncertainty weighting', () => {
  it('effective weights are exp(-s) (halved for regression) and follow the analytic gradient', () => {
    const u = new UncertaintyWeighting({ kinds: ['classification', 'regression'], learningRate: 0.1 });
    expect(u.weights()).toEqual([1, 0.5]);
    u.setState({ s: [0.5, -1] });
    expect(u.weights()[0]).toBeCloseTo(Math.exp(-0.5), 12);
    expect(u.weights()[1]).toBeCloseTo(0.5 * Math.exp(1), 12);
    // objective: exp(-0.5)*2 + 0.25 + 0.5*e*3 - 0.5
    expect(u.objective([2, 3])).toBeCloseTo(Math.exp(-0.5) * 2 + 0.25 + 0.5 * Math.E * 3 - 0.5, 12);
    // numerical derivative of the objective w.r.t. s_0 equals the update direction
    const h = 1e-6;
    const f = (s0: number) => {
      const v = new UncertaintyWeighting({ kinds: ['classification', 'regression'] });
      v.setState({ s: [s0, -1] });
      return v.objective([2, 3]);
    };
    const numeric = (f(0.5 + h) - f(0.5 - h)) / (2 * h);
    u.update([2, 3]);
    expect(u.logVariances[0]).toBeCloseTo(0.5 - 0.1 * numeric, 6);
    expect(u.logVariances[0]).toBeCloseTo(0.5 - 0.1 * (0.5 - Math.exp(-0.5) * 2), 12);
    expect(u.logVariances[1]).toBeCloseTo(-1 - 0.1 * (0.5 - 0.5 * Math.E * 3), 12);
  });

  it('clamps s so weights stay bounded', () => {
    const u = new UncertaintyWeighting({ kinds: ['regression'], learningRate: 100, sMin: -2, sMax: 3 });
    // a huge loss means high uncertainty: ds = -(0.5 - 0.5*1000)*100 pushes s up, clamped at sMax
    u.update([1000]);
    expect(u.logVariances[0]).toBe(3);
    expect(u.weights()[0]).toBeCloseTo(0.5 * Math.exp(-3), 12);
    // a zero loss: ds = -0.5*100 = -50, clamped at sMin
    u.update([0]);
    expect(u.logVariances[0]).toBe(-2);
  });
});

describe('GradNorm', () => {
  it('weights after one and two steps on a fixed toy problem, by hand', () => {
    const g = new GradNorm({ tasks: 2, alpha: 1.5, learningRate: 0.1 });
    // step 1: L0 = [2,1] recorded, r = [1,1]; n = [1,3], w=[1,1]: G=[1,3], Gbar=2, targets [2,2]
    // dLgrad/dw = [sign(-1)*1, sign(1)*3] = [-1,3]; w = [1.1, 0.7] -> renormalised *2/1.8
    const s1 = g.update([2, 1], [1, 3]);
    expect(s1.G).toEqual([1, 3]);
    expect(s1.targets).toEqual([2, 2]);
    expect(s1.gradLoss).toBe(2);
    expect(g.weights()[0]).toBeCloseTo(11 / 9, 12);
    expect(g.weights()[1]).toBeCloseTo(7 / 9, 12);
    // step 2: L=[1,0.8] -> Ltilde=[0.5,0.8], mean 0.65, r=[0.5/0.65, 0.8/0.65]
    // n=[2,1]: G=[22/9, 7/9], Gbar = 29/18; targets = Gbar r^1.5 = [1.0870, 2.1998]
    // G0 > t0 -> grad +2; G1 < t1 -> grad -1; w = [11/9 - 0.2, 7/9 + 0.1], renormalised * 2/1.9
    const s2 = g.update([1, 0.8], [2, 1]);
    expect(s2.rates[0]).toBeCloseTo(0.5 / 0.65, 12);
    expect(s2.targets[0]).toBeCloseTo((29 / 18) * Math.pow(0.5 / 0.65, 1.5), 12);
    expect(s2.targets[1]).toBeCloseTo((29 / 18) * Math.pow(0.8 / 0.65, 1.5), 12);
    expect(s2.targets[0]).toBeCloseTo(1.08695, 4);
    expect(g.weights()[0]).toBeCloseTo(((11 / 9 - 0.2) * 2) / 1.9, 12);
    expect(g.weights()[1]).toBeCloseTo(((7 / 9 + 0.1) * 2) / 1.9, 12);
    expect(g.weights()[0]! + g.weights()[1]!).toBeCloseTo(2, 12);
  });

  it('state round-trips and bad input is rejected', () => {
    const g = new GradNorm({ tasks: 2 });
    g.update([1, 1], [1, 2]);
    const h = new GradNorm({ tasks: 2 });
    h.setState(JSON.parse(JSON.stringify(g.getState())));
    expect(h.update([0.5, 0.9], [1, 1])).toEqual(g.update([0.5, 0.9], [1, 1]));
    expect(() => g.update([1], [1, 1])).toThrow(/1 losses/);
    expect(() => new GradNorm({ tasks: 2, alpha: -1 })).toThrow(/alpha/);
  });
});
