import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { trainMultiTask, type TrainingData } from './trainer.js';
import { evaluateSplit } from './evaluate.js';
import { parseTrainingConfig } from './config.js';
import type { MultiTaskParts } from './step.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';
import { toySplit } from './toy-data.js';
import { WeightAverage } from './weight-average.js';

const T = 5, F = 3, D = 8;
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tat-ema-'));
  dirs.push(d);
  return d;
}
function build(seed: number): MultiTaskParts & { dispose(): void } {
  const encoder = fakeEncoder(T, F, D, seed);
  const tasks = [fakeRegressionTask('reg'), fakeClassificationTask('cls', 3)];
  const heads = tasks.map((t, i) => t.buildHead(D, seed * 10 + i));
  return { encoder, tasks, heads, dispose: () => (encoder.dispose(), heads.forEach((h) => h.dispose())) };
}
function weights(p: MultiTaskParts): Float32Array[] {
  return [...p.encoder.variables, ...p.heads.flatMap((h) => h.variables)].map((v) => new Float32Array(v.dataSync()));
}
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
const data: TrainingData = { train: toySplit(256, T, F, 'train'), val: toySplit(128, T, F, 'val') };
const base = { epochs: 4, batchSize: 32, learningRate: 0.03, seed: 5, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 10 } };

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('WeightAverage', () => {
  it('follows avg = d_t avg + (1 - d_t) w with the warm-up decay min(decay, (1 + t) / (10 + t))', () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, 'ema_a');
    const b = tf.variable(tf.tensor2d([[0, -4]]), true, 'ema_b');
    const avg = new WeightAverage([a, b], 0.5);
    // by hand in float64: the first decays are 1/10, 2/11, 3/12, then 0.5 caps them
    let ea = [1, 2];
    let eb = [0, -4];
    const steps = [[3, 5, 1, 1], [-1, 0, 2, 8], [4, 4, 4, 4], [0, 1, 0, 1], [2, 2, -2, -2]];
    steps.forEach((s, t) => {
      a.assign(tf.tensor1d([s[0]!, s[1]!]));
      b.assign(tf.tensor2d([[s[2]!, s[3]!]]));
      const d = Math.min(0.5, (1 + t) / (10 + t));
      expect(avg.nextDecay()).toBeCloseTo(d, 12);
      avg.update();
      ea = ea.map((x, k) => d * x + (1 - d) * s[k]!);
      eb = eb.map((x, k) => d * x + (1 - d) * s[2 + k]!);
    });
    expect(avg.updates).toBe(5);
    const [va, vb] = avg.values();
    va!.forEach((x, k) => expect(x).toBeCloseTo(ea[k]!, 5));
    vb!.forEach((x, k) => expect(x).toBeCloseTo(eb[k]!, 5));
    // swapIn puts the average in and hands back the raw values; restore puts them back exactly
    const raw = avg.swapIn();
    expect(Array.from(a.dataSync())).toEqual(Array.from(va!));
    expect(Array.from(raw[0]!)).toEqual([2, 2]);
    avg.restore(raw);
    expect(Array.from(b.dataSync())).toEqual([-2, -2]);
    // state round trip, and bad states named
    const other = new WeightAverage([a, b], 0.5);
    other.setState(avg.getState());
    expect(other.updates).toBe(5);
    expect(other.values()).toEqual(avg.values());
    expect(() => other.setState({ updates: 1, values: [new Float32Array(2)] })).toThrow(/1 arrays, the average 2/);
    expect(() => other.setState({ updates: 1, values: [new Float32Array(3), new Float32Array(2)] })).toThrow(/array 0 holds 3 values/);
    expect(() => new WeightAverage([a], 1)).toThrow(/decay must be in \(0, 1\)/);
    tf.dispose([a, b]);
  });

  it('training.emaDecay: validated and named when out of range', () => {
    expect(parseTrainingConfig({ emaDecay: 0.998 }).emaDecay).toBe(0.998);
    expect(parseTrainingConfig({}).emaDecay).toBeUndefined();
    expect(() => parseTrainingConfig({ emaDecay: 1 })).toThrow(/training\.emaDecay/);
  });
});

describe('trainMultiTask with training.emaDecay', () => {
  it('steps on the raw weights (training losses unchanged) but validates, keeps and ends on the average', async () => {
    const p = build(1);
    const plain = await trainMultiTask(p, data, base);
    p.dispose();
    const q = build(1);
    const ema = await trainMultiTask(q, data, { ...base, emaDecay: 0.9 });
    // the raw trajectory is the plain run's: swapping the average in for validation and back leaves it untouched
    expect(ema.history.map((e) => e.trainLoss)).toEqual(plain.history.map((e) => e.trainLoss));
    // what validation saw is another set of weights
    expect(ema.history.map((e) => e.valTotal)).not.toEqual(plain.history.map((e) => e.valTotal));
    // the model ends on the best epoch's average: re-evaluating it gives that epoch's validation loss
    const again = evaluateSplit(q, data.val, base.batchSize).losses.reduce((s, x) => s + x, 0);
    expect(again).toBeCloseTo(ema.bestValLoss, 5);
    q.dispose();
  });

  it('a decay near 0 is the plain run (the average is the latest weights)', async () => {
    const p = build(2);
    const plain = await trainMultiTask(p, data, base);
    const want = weights(p);
    p.dispose();
    const q = build(2);
    const ema = await trainMultiTask(q, data, { ...base, emaDecay: 1e-12 });
    ema.history.forEach((e, i) => expect(e.valTotal).toBeCloseTo(plain.history[i]!.valTotal, 6));
    weights(q).forEach((w, i) => w.forEach((x, k) => expect(x).toBeCloseTo(want[i]![k]!, 6)));
    q.dispose();
  });

  it('a run stopped after epoch 1 resumes with its average and ends with bitwise the same weights', async () => {
    const config = { ...base, emaDecay: 0.95, earlyStopping: { patience: 10, restoreBest: false } };
    const a = build(3);
    const full = await trainMultiTask(a, data, { ...config, checkpointDir: tmp() });
    const want = weights(a);
    a.dispose();
    const dir = tmp();
    const b = build(3);
    const ctl = new AbortController();
    await trainMultiTask(b, data, { ...config, checkpointDir: dir }, { signal: ctl.signal, onEpoch: (e) => { if (e.epoch === 1) ctl.abort(); } });
    b.dispose();
    const c = build(44);
    const rest = await trainMultiTask(c, data, { ...config, checkpointDir: dir }, { resume: true });
    expect(rest.resumedFromEpoch).toBe(1);
    expect(rest.history.map((e) => e.valTotal)).toEqual(full.history.map((e) => e.valTotal));
    weights(c).forEach((w, i) => expect(same(w, want[i]!), `variable ${i}`).toBe(true));
    c.dispose();
    // a checkpoint made without the average is refused by a run with it
    const plainDir = tmp();
    const d = build(3);
    await trainMultiTask(d, data, { ...base, epochs: 1, checkpointDir: plainDir });
    await expect(trainMultiTask(d, data, { ...base, emaDecay: 0.95, checkpointDir: plainDir }, { resume: true })).rejects.toThrow(/different training config/);
    d.dispose();
  });
});
