import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { refitHeads } from './head-refit.js';
import { evaluateSplit } from './evaluate.js';
import { trainMultiTask, type TrainingData } from './trainer.js';
import type { MultiTaskParts } from './step.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';
import { toySplit } from './toy-data.js';

const T = 5, F = 3, D = 8;
const data: TrainingData = { train: toySplit(256, T, F, 'rt'), val: toySplit(128, T, F, 'rv') };
const built: { dispose(): void }[] = [];
function build(seed: number): MultiTaskParts {
  const encoder = fakeEncoder(T, F, D, seed);
  const tasks = [fakeRegressionTask('reg'), fakeClassificationTask('cls', 3)];
  const heads = tasks.map((t, i) => t.buildHead(D, seed * 10 + i));
  built.push({ dispose: () => (encoder.dispose(), heads.forEach((h) => h.dispose())) });
  return { encoder, tasks, heads };
}
const values = (vars: readonly tf.Variable[]) => vars.map((v) => new Float32Array(v.dataSync() as Float32Array));
const same = (a: readonly Float32Array[], b: readonly Float32Array[]) => a.length === b.length && a.every((x, i) => Buffer.from(x.buffer).equals(Buffer.from(b[i]!.buffer)));
const trained = { epochs: 3, batchSize: 32, learningRate: 0.03, seed: 2, progress: false, harmoniser: { name: 'equal' as const } };
/** Puts another seed's fresh weights into head i: a head that no longer fits the encoder. */
function detune(p: MultiTaskParts, i: number, seed: number): void {
  const fresh = p.tasks[i]!.buildHead(D, seed);
  p.heads[i]!.variables.forEach((v, k) => v.assign(fresh.variables[k]!));
  fresh.dispose();
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
afterAll(() => built.forEach((b) => b.dispose()));

describe('refitHeads', () => {
  it('refits a detuned head to a lower validation loss (the real model scores it so) and touches nothing else', async () => {
    const p = build(1);
    await trainMultiTask(p, data, trained);
    detune(p, 0, 99);
    const before = evaluateSplit(p, data.val, 64).losses;
    const encoder = values(p.encoder.variables);
    const cls = values(p.heads[1]!.variables);
    const reg = values(p.heads[0]!.variables);
    const [r] = await refitHeads(p, data, { tasks: ['reg'], epochs: 15, learningRate: 0.05, batchSize: 32 });
    expect(r!.task).toBe('reg');
    expect(r!.kept).toBe('refit');
    // the cached-embedding losses are the real model's: through the encoder, window by window
    expect(r!.before).toBeCloseTo(before[0]!, 5);
    const after = evaluateSplit(p, data.val, 64).losses;
    expect(r!.refit).toBeCloseTo(after[0]!, 5);
    expect(after[0]!).toBeLessThan(before[0]! * 0.8);
    expect(r!.epochs).toBeGreaterThan(r!.bestEpoch);
    expect(same(values(p.heads[0]!.variables), reg)).toBe(false);
    // the encoder and the other head: bit for bit as trained; so is the other task's loss
    expect(same(values(p.encoder.variables), encoder)).toBe(true);
    expect(same(values(p.heads[1]!.variables), cls)).toBe(true);
    expect(after[1]).toBe(before[1]);
  });

  it('a refit that cannot lower the validation loss leaves the head as trained, bit for bit', async () => {
    const p = build(2);
    // the head fits validation's regression targets (all 5); training's are all -5: every refit step moves it away
    const fives = { ...data.val, targets: [new Float32Array(data.val.n).fill(5), data.val.targets[1]!] };
    const minus = { ...data.train, targets: [new Float32Array(data.train.n).fill(-5), data.train.targets[1]!] };
    await trainMultiTask(p, { train: { ...fives }, val: fives }, { ...trained, epochs: 30, learningRate: 0.1 });
    const reg = values(p.heads[0]!.variables);
    const [r] = await refitHeads(p, { train: minus, val: fives }, { tasks: ['reg'], epochs: 3, learningRate: 0.05, batchSize: 32, patience: 0 });
    expect(r!.kept).toBe('trained');
    expect(r!.refit!).toBeGreaterThan(r!.before);
    expect(same(values(p.heads[0]!.variables), reg)).toBe(true);
  });

  it('is deterministic: the same state and seed give the same head, bit for bit', async () => {
    const runs: Float32Array[][] = [];
    for (let k = 0; k < 2; k++) {
      const p = build(3);
      await trainMultiTask(p, data, trained);
      detune(p, 1, 77);
      const r = await refitHeads(p, data, { tasks: ['cls', 'reg'], epochs: 4, learningRate: 0.05, batchSize: 32 }, { seed: 11 });
      expect(r.map((x) => x.task)).toEqual(['cls', 'reg']);
      expect(r[0]!.kept).toBe('refit');
      runs.push([...values(p.heads[0]!.variables), ...values(p.heads[1]!.variables)]);
    }
    expect(same(runs[0]!, runs[1]!)).toBe(true);
  });

  it('stopped by the signal: the head keeps its trained weights and the later heads are not refitted', async () => {
    const p = build(4);
    detune(p, 0, 5);
    const reg = values(p.heads[0]!.variables);
    const ctl = new AbortController();
    ctl.abort();
    const r = await refitHeads(p, data, { tasks: ['reg', 'cls'], epochs: 4, batchSize: 32 }, { signal: ctl.signal });
    expect(r).toEqual([expect.objectContaining({ task: 'reg', refit: null, kept: 'trained' })]);
    expect(same(values(p.heads[0]!.variables), reg)).toBe(true);
  });

  it('names a bad config: an unknown or repeated task, a bad number', async () => {
    const p = build(5);
    await expect(refitHeads(p, data, { tasks: ['vol'] })).rejects.toThrow("refitHeads.tasks: the model has no task 'vol' (it has reg, cls)");
    await expect(refitHeads(p, data, { tasks: ['reg', 'reg'] })).rejects.toThrow("refitHeads.tasks: lists 'reg' twice");
    await expect(refitHeads(p, data, { tasks: [] })).rejects.toThrow(/refitHeads\.tasks.*at least one task/);
    await expect(refitHeads(p, data, { tasks: ['reg'], epochs: 0 })).rejects.toThrow(/refitHeads\.epochs/);
    await expect(refitHeads(p, data, { tasks: ['reg'], lr: 1 } as never)).rejects.toThrow(/refitHeads.*lr/);
  });
});
