import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@task-agnostic/tf';
import { softmaxCrossEntropy } from '@task-agnostic/heads';
import { evaluateSplit } from './evaluate.js';
import type { TaskStateLike, TrainableTask } from './contracts.js';
import type { MultiTaskParts } from './step.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';
import { toySplit } from './toy-data.js';

const T = 5, F = 3, D = 8;
const W = [1, 4, 0.5];
/** A 3-class task whose loss is the class-weighted cross-entropy (weights from its state, as the heads' balanced tasks). */
function weightedTask(): TrainableTask {
  const base = fakeClassificationTask('cls', 3);
  return { ...base, loss: (o, t, s) => softmaxCrossEntropy(o, t, 3, (s as { w?: number[] } | undefined)?.w) };
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('evaluateSplit', () => {
  it("a class-weighted loss is the whole split's weighted mean, whatever the batch size", () => {
    const split = toySplit(203, T, F, 'ev');
    const encoder = fakeEncoder(T, F, D, 3);
    const tasks = [fakeRegressionTask('reg'), weightedTask()];
    const heads = tasks.map((t, i) => t.buildHead(D, 30 + i));
    const parts: MultiTaskParts = { encoder, tasks, heads, taskStates: [{}, { w: W } as TaskStateLike] };
    const big = evaluateSplit(parts, split, 1000);
    // by hand, in float64: sum_i w(y_i) * ce_i / sum_i w(y_i) over every window
    const out = big.outputs[1]!;
    let num = 0;
    let den = 0;
    for (let r = 0; r < split.n; r++) {
      const z = [0, 1, 2].map((k) => out[r * 3 + k]!);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
      const y = split.targets[1]![r]!;
      num += W[y]! * (lse - z[y]!);
      den += W[y]!;
    }
    expect(big.losses[1]).toBeCloseTo(num / den, 5);
    // batches of 7 and of 64 (uneven class mixes per batch): the same losses and outputs
    for (const b of [7, 64]) {
      const e = evaluateSplit(parts, split, b);
      expect(e.losses[1]).toBeCloseTo(big.losses[1]!, 6);
      expect(e.losses[0]).toBeCloseTo(big.losses[0]!, 6);
      expect(Array.from(e.outputs[1]!)).toEqual(Array.from(out));
    }
    encoder.dispose();
    heads.forEach((h) => h.dispose());
  });

  it('an empty split has NaN losses and no metrics', () => {
    const encoder = fakeEncoder(T, F, D, 4);
    const tasks = [fakeRegressionTask('reg')];
    const heads = [tasks[0]!.buildHead(D, 1)];
    const e = evaluateSplit({ encoder, tasks, heads }, toySplit(0, T, F, 'e0'), 16);
    expect(e.losses[0]).toBeNaN();
    expect(e.metrics).toEqual([{}]);
    encoder.dispose();
    heads[0]!.dispose();
  });
});
