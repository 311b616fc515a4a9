import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import type { Head, Task } from './contracts.js';
import { ensembleHead, type ModelMember } from './ensemble.js';
import { tryFuseEnsembleHeads, tryFuseHeads, type FusedHeads } from './fused-heads.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

let uid = 0;
/** A D -> H (activation) -> O head with random (non-zero) biases, written out op by op. */
function mlpHead(D: number, H: number, O: number, seed: number, act: 'relu' | 'tanh' = 'relu'): Head {
  const rng = new Rng(seed);
  const v = (shape: number[]) => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, 0.5)), shape), true, `fh_${uid++}`);
  const vars = [v([D, H]), v([H]), v([H, O]), v([O])];
  return {
    variables: vars,
    apply: (z) =>
      tf.tidy(() => {
        const h = tf.add(tf.matMul(z, vars[0] as tf.Tensor2D), vars[1]!);
        return tf.add(tf.matMul(act === 'relu' ? tf.relu(h) : tf.tanh(h), vars[2] as tf.Tensor2D), vars[3]!) as tf.Tensor2D;
      }),
    dispose: () => vars.forEach((x) => x.dispose()),
  };
}
const task = (id: string, outputDim: number): Task => ({ id, kind: 'regression', horizon: 1, outputDim, buildHead: () => { throw new Error('unused'); }, decode: (o) => o });

/**
 * `fused` against the heads run one by one and concatenated on n random rows of width D: equal to 5
 * digits, no tensor left behind; then disposed (its four weight tensors freed).
 */
function expectFusedEqualsHeads(fused: FusedHeads, tasks: readonly Task[], heads: ReadonlyMap<string, Head>, n: number, D: number, seed: number): void {
  const rng = new Rng(seed);
  const zs = Float32Array.from({ length: n * D }, () => rng.normal());
  const before = tf.memory().numTensors;
  const [got, want] = tf.tidy(() => {
    const z = tf.tensor2d(zs, [n, D]);
    return [Array.from(fused.apply(z).dataSync()), Array.from(tf.concat(tasks.map((t) => heads.get(t.id)!.apply(z)), 1).dataSync())];
  });
  expect(tf.memory().numTensors).toBe(before);
  expect(got).toHaveLength(n * tasks.reduce((a, t) => a + t.outputDim, 0));
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
  fused.dispose();
  expect(tf.memory().numTensors).toBe(before - 4);
}

describe('tryFuseHeads', () => {
  it('equals the heads run one by one and concatenated', () => {
    const D = 12;
    const tasks = [task('a', 3), task('b', 1), task('c', 5)];
    const heads = new Map([['a', mlpHead(D, 8, 3, 1)], ['b', mlpHead(D, 4, 1, 2)], ['c', mlpHead(D, 8, 5, 3)]]);
    const fused = tryFuseHeads(tasks, heads, D)!;
    expect(fused).not.toBeNull();
    expectFusedEqualsHeads(fused, tasks, heads, 5, D, 7);
    heads.forEach((h) => h.dispose());
  });

  it('declines heads that are not 2-layer ReLU MLPs (wrong arity, shapes or activation)', () => {
    const D = 6;
    const tanh = new Map([['a', mlpHead(D, 4, 2, 1, 'tanh')]]);
    expect(tryFuseHeads([task('a', 2)], tanh, D)).toBeNull();
    const wrongOut = new Map([['a', mlpHead(D, 4, 3, 1)]]);
    expect(tryFuseHeads([task('a', 2)], wrongOut, D)).toBeNull();
    const w = tf.variable(tf.ones([D, 2]), true, `fh_${uid++}`);
    const single: Head = { variables: [w], apply: (z) => tf.matMul(z, w) as tf.Tensor2D, dispose: () => w.dispose() };
    expect(tryFuseHeads([task('a', 2)], new Map([['a', single]]), D)).toBeNull();
    [...tanh.values(), ...wrongOut.values(), single].forEach((h) => h.dispose());
  });

  it("an ensemble's heads: every member's heads fused, each task combined by its rule, equal to the ensemble's own heads", () => {
    const dims = [6, 6, 6];
    const tasks: Task[] = [
      { ...task('dir', 3), kind: 'classification' },
      { ...task('flag', 1), kind: 'classification' },
      { ...task('ret', 2), calibrationForm: 'gaussian' },
      task('vol', 1),
    ];
    const members: ModelMember[] = dims.map((D, m) => ({
      seed: m,
      encoder: { outputDim: D } as ModelMember['encoder'],
      heads: new Map(tasks.map((t, k) => [t.id, mlpHead(D, 4 + k, t.outputDim, 10 * m + k)] as const)),
    }));
    const heads = new Map(tasks.map((t) => [t.id, ensembleHead(t, members)] as const));
    const fused = tryFuseEnsembleHeads(tasks, members, heads)!;
    expect(fused).not.toBeNull();
    expectFusedEqualsHeads(fused, tasks, heads, 7, 18, 11);
    // a member head that is not a 2-layer ReLU MLP: no fusion
    const w = tf.variable(tf.ones([6, 1]), true, `fh_${uid++}`);
    const single: Head = { variables: [w], apply: (z) => tf.matMul(z, w) as tf.Tensor2D, dispose: () => w.dispose() };
    const odd = [members[0]!, { ...members[1]!, heads: new Map([...members[1]!.heads, ['vol', single]]) }];
    expect(tryFuseEnsembleHeads(tasks, odd, new Map(tasks.map((t) => [t.id, ensembleHead(t, odd)] as const)))).toBeNull();
    w.dispose();
    members.forEach((m) => m.heads.forEach((h) => h.dispose()));
  });
});
