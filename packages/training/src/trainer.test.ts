import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { BatchStream, trainMultiTask, WeightedBatchStream, type TrainingData } from './trainer.js';
import type { MultiTaskParts } from './step.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';
import { toySplit } from './toy-data.js';
import { effectiveSampleSize } from './split.js';
import { evaluateSplit } from './evaluate.js';

const T = 5, F = 3, D = 8;
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tat-train-'));
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
const data: TrainingData = { train: toySplit(256, T, F, 'train'), val: toySplit(128, T, F, 'val') };
type Config = Parameters<typeof trainMultiTask>[2];
/** A run killed when `epoch` ends: a fresh build(seed) trained until then, its checkpoint left in config.checkpointDir. */
async function stopAfter(epoch: number, seed: number, d: TrainingData, config: Config): Promise<Awaited<ReturnType<typeof trainMultiTask>>> {
  const p = build(seed);
  const ctl = new AbortController();
  try {
    return await trainMultiTask(p, d, config, { signal: ctl.signal, onEpoch: (e) => { if (e.epoch === epoch) ctl.abort(); } });
  } finally {
    p.dispose();
  }
}
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
function expectBitwise(p: MultiTaskParts, want: readonly Float32Array[]): void {
  weights(p).forEach((w, i) => expect(same(w, want[i]!), `variable ${i}`).toBe(true));
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('trainMultiTask', () => {
  it('lowers the validation loss of every task, logs JSONL per epoch and leaks no tensors across epochs', async () => {
    for (const [name, mode] of [['loss-ratio', 'parameter'], ['pcgrad', 'representation'], ['gradnorm', 'parameter'], ['uncertainty', 'representation']] as const) {
      const p = build(1);
      const log = path.join(tmp(), 'log.jsonl');
      const before = tf.memory().numTensors;
      const r = await trainMultiTask(p, data, { epochs: 6, batchSize: 32, learningRate: 0.03, harmoniser: { name }, gradientMode: mode, logPath: log, progress: false, schedule: { type: 'cosine', warmupSteps: 4 } });
      const h = r.history;
      expect(h.length).toBe(6);
      for (const id of ['reg', 'cls']) expect(h[h.length - 1]!.valLoss[id], `${name}/${mode} ${id}`).toBeLessThan(h[0]!.valLoss[id]! * 0.9);
      // well above the majority-class rate of the validation split
      const counts = [0, 0, 0];
      data.val.targets[1]!.forEach((c) => counts[c]!++);
      expect(h[h.length - 1]!.valMetrics.cls!.accuracy).toBeGreaterThan(Math.max(...counts) / data.val.n + 0.1);
      expect(new Set(h.map((e) => e.numTensors)).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.length).toBe(6);
      expect(Object.keys(lines[0].weights)).toEqual(['reg', 'cls']);
      if (name === 'gradnorm') expect(lines[5].weights.reg + lines[5].weights.cls).toBeCloseTo(2, 5);
      if (name === 'uncertainty') expect(lines[5].harmoniser.logVariances.length).toBe(2);
      p.dispose();
    }
  });

  it('a run stopped after epoch 2 resumes from its checkpoint and ends with bitwise the same weights', async () => {
    const config = { epochs: 5, batchSize: 48, learningRate: 0.01, seed: 9, harmoniser: { name: 'gradnorm' as const }, progress: false, schedule: { type: 'plateau' as const, patience: 0, warmupSteps: 3 }, earlyStopping: { patience: 10 } };
    const a = build(1);
    const full = await trainMultiTask(a, data, { ...config, checkpointDir: tmp() });
    const want = weights(a);
    a.dispose();

    const dir = tmp();
    const first = await stopAfter(1, 1, data, { ...config, checkpointDir: dir });
    expect(first.aborted).toBe(true);
    expect(first.history.length).toBe(2);
    // a fresh process: different initial weights, everything comes from the checkpoint
    const c = build(77);
    const rest = await trainMultiTask(c, data, { ...config, checkpointDir: dir }, { resume: true });
    expect(rest.resumedFromEpoch).toBe(1);
    expect(rest.history.length).toBe(5);
    expect(rest.history.map((e) => e.valTotal)).toEqual(full.history.map((e) => e.valTotal));
    expectBitwise(c, want);
    c.dispose();
    // a different config refuses the checkpoint
    const d = build(1);
    await expect(trainMultiTask(d, data, { ...config, learningRate: 0.02, checkpointDir: dir }, { resume: true })).rejects.toThrow(/different training config/);
    d.dispose();
  });

  it('stops early when validation stops improving and restores the best epoch', async () => {
    const p = build(2);
    // validation targets unrelated to the inputs: the model can only overfit
    const noisy: TrainingData = { train: toySplit(64, T, F, 'tiny'), val: { ...toySplit(64, T, F, 'v2'), targets: [new Float32Array(64).fill(5), new Float32Array(64).fill(1)] } };
    const r = await trainMultiTask(p, noisy, { epochs: 40, batchSize: 16, learningRate: 0.05, progress: false, harmoniser: { name: 'equal' }, earlyStopping: { patience: 1 } });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(40);
    expect(r.history.length).toBe(r.bestEpoch + 3);
    p.dispose();
  });

  it('resume after a crash between the log line and the checkpoint: each epoch logged once, the same result', async () => {
    const config = { epochs: 4, batchSize: 48, learningRate: 0.01, seed: 3, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 10 } };
    const a = build(1);
    const fullLog = path.join(tmp(), 'log.jsonl');
    const full = await trainMultiTask(a, data, { ...config, logPath: fullLog, checkpointDir: tmp() });
    a.dispose();
    const dir = tmp();
    const log = path.join(dir, 'log.jsonl');
    await stopAfter(1, 1, data, { ...config, logPath: log, checkpointDir: path.join(dir, 'ck') });
    // the crash: epoch 2's line reached the log (and a torn line after it), its checkpoint did not
    appendFileSync(log, readFileSync(fullLog, 'utf8').split('\n')[2] + '\n{"epoch": 3, "tr');
    const c = build(5);
    const rest = await trainMultiTask(c, data, { ...config, logPath: log, checkpointDir: path.join(dir, 'ck') }, { resume: true });
    c.dispose();
    expect(rest.resumedFromEpoch).toBe(1);
    const epochs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
    expect(epochs).toEqual([0, 1, 2, 3]);
    expect(rest.history.map((e) => e.valTotal)).toEqual(full.history.map((e) => e.valTotal));
  });

  it('a run that stopped early and is resumed from its last checkpoint stays stopped', async () => {
    const noisy: TrainingData = { train: toySplit(64, T, F, 'tiny'), val: { ...toySplit(64, T, F, 'v2'), targets: [new Float32Array(64).fill(5), new Float32Array(64).fill(1)] } };
    const config = { epochs: 40, batchSize: 16, learningRate: 0.05, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 1 } };
    const dir = tmp();
    const p = build(2);
    const first = await trainMultiTask(p, noisy, { ...config, checkpointDir: dir });
    const want = weights(p);
    p.dispose();
    expect(first.stoppedEarly).toBe(true);
    const q = build(9);
    const again = await trainMultiTask(q, noisy, { ...config, checkpointDir: dir }, { resume: true });
    expect(again.stoppedEarly).toBe(true);
    expect(again.history.length).toBe(first.history.length);
    // the best epoch's weights, restored as in the first run
    expectBitwise(q, want);
    q.dispose();
  });

  it('stepsPerEpoch: full batches from a continuing stream of passes, each window once per pass, the same batches after a resume', async () => {
    // the stream: 10 windows in batches of 4; positions 0-9 are pass 0, 10-19 pass 1 (step 2 spans both)
    const s = new BatchStream(5, 10, 4);
    const steps = [0, 1, 2, 3, 4].map((k) => Array.from(s.batch(k)));
    expect(steps.every((b) => b.length === 4)).toBe(true);
    const flat = steps.flat();
    for (const pass of [flat.slice(0, 10), flat.slice(10, 20)]) expect([...pass].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(flat.slice(0, 10)).not.toEqual(flat.slice(10, 20));
    // a step's batch depends on (seed, n, batchSize, step) only: asked first, on a fresh stream
    expect(Array.from(new BatchStream(5, 10, 4).batch(3))).toEqual(steps[3]);
    expect(Array.from(new BatchStream(6, 10, 4).batch(0))).not.toEqual(steps[0]);
    expect(() => new BatchStream(5, 0, 4)).toThrow(/at least one training window/);

    // training: 3 steps an epoch (256 windows would be 8 batches of 32), shown in the progress bar
    const config = { epochs: 3, batchSize: 32, stepsPerEpoch: 3, learningRate: 0.01, seed: 4, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 10 } };
    const lines: string[] = [];
    const stream = { isTTY: false, write: (x: string) => (lines.push(x), true) } as unknown as NodeJS.WritableStream;
    const a = build(1);
    const full = await trainMultiTask(a, data, { ...config, progress: true, checkpointDir: tmp() }, { progressStream: stream });
    expect(lines.join('')).toMatch(/epoch 1\/3 \[#+\] 100% 3\/3 batches/);
    expect(full.history.length).toBe(3);
    const want = weights(a);
    a.dispose();
    // stopped after epoch 1 and resumed in a fresh process: the remaining steps draw the same batches
    const dir = tmp();
    await stopAfter(0, 1, data, { ...config, checkpointDir: dir });
    const c = build(77);
    const rest = await trainMultiTask(c, data, { ...config, checkpointDir: dir }, { resume: true });
    expect(rest.history.map((e) => e.valTotal)).toEqual(full.history.map((e) => e.valTotal));
    expectBitwise(c, want);
    c.dispose();
    // one pass an epoch (the default) trains on other batches: the option is not ignored
    const d = build(1);
    const onePass = await trainMultiTask(d, data, { ...config, stepsPerEpoch: undefined });
    expect(onePass.history[0]!.valTotal).not.toBe(full.history[0]!.valTotal);
    d.dispose();
  });

  it('sample weights: batches drawn in proportion to the weights, never a window of weight 0, the same batches for the same seed and step', async () => {
    const w = [0, 1, 3, 0, 6];
    const s = new WeightedBatchStream(3, w, 2000);
    const counts = [0, 0, 0, 0, 0];
    for (const i of s.batch(0)) counts[i]!++;
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    // binomial sd of 2000 draws at p = 0.1 / 0.3 / 0.6 is <= 22: 5 sd bounds
    [0.1, 0.3, 0.6].forEach((p, k) => expect(Math.abs(counts[[1, 2, 4][k]!]! - 2000 * p)).toBeLessThan(110));
    expect(Array.from(new WeightedBatchStream(3, w, 2000).batch(0))).toEqual(Array.from(s.batch(0)));
    expect(Array.from(s.batch(1))).not.toEqual(Array.from(s.batch(0)));
    expect(() => new WeightedBatchStream(3, [0, 0], 4)).toThrow(/every sample weight is 0/);
    expect(() => new WeightedBatchStream(3, [1, -1], 4)).toThrow(/sample weight 1 is -1/);
    expect(() => new WeightedBatchStream(3, [], 4)).toThrow(/at least one training window/);
    // Kish's effective sample size: n for equal weights, (sum w)^2 / sum w^2 otherwise
    expect(effectiveSampleSize([2, 2, 2, 2])).toBe(4);
    expect(effectiveSampleSize(w)).toBeCloseTo(100 / 46, 12);
    expect(() => effectiveSampleSize([1, Number.NaN])).toThrow(/sample weight 1 is NaN/);

    // training: the windows of weight 0 hold NaN targets, so a loss is finite only if none is ever drawn
    const poisoned = { ...data.train, targets: data.train.targets.map((t) => t.slice()) };
    const sampleWeights = new Float64Array(data.train.n);
    for (let r = 0; r < data.train.n; r++) {
      if (r % 2 === 0) poisoned.targets.forEach((t) => (t[r] = Number.NaN));
      else sampleWeights[r] = 1 + (r % 5);
    }
    const config = { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 4, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 10 } };
    const a = build(1);
    const weighted = await trainMultiTask(a, { train: { ...poisoned, sampleWeights }, val: data.val }, config);
    a.dispose();
    for (const e of weighted.history) for (const id of ['reg', 'cls']) expect(Number.isFinite(e.trainLoss[id]!), `epoch ${e.epoch} ${id}`).toBe(true);
    expect(weighted.history[1]!.valTotal).toBeLessThan(weighted.history[0]!.valTotal + 1);
    // without the weights the same run draws them and stops on the NaN loss
    const b = build(1);
    await expect(trainMultiTask(b, { train: poisoned, val: data.val }, config)).rejects.toThrow(/a training loss became NaN/);
    b.dispose();
    // a checkpoint made under other weights is not resumed
    const dir = tmp();
    await stopAfter(0, 1, { train: { ...poisoned, sampleWeights }, val: data.val }, { ...config, checkpointDir: dir });
    const f = build(1);
    const other = Float64Array.from(sampleWeights, (v, r) => (r % 3 === 1 ? 0 : v));
    await expect(trainMultiTask(f, { train: { ...poisoned, sampleWeights: other }, val: data.val }, { ...config, checkpointDir: dir }, { resume: true })).rejects.toThrow(/different training config, task list or sample weights/);
    const resumed = await trainMultiTask(f, { train: { ...poisoned, sampleWeights }, val: data.val }, { ...config, checkpointDir: dir }, { resume: true });
    expect(resumed.resumedFromEpoch).toBe(0);
    expect(resumed.history.map((r) => r.valTotal)).toEqual(weighted.history.map((r) => r.valTotal));
    f.dispose();
    // bad weights are a clear error before training
    const c = build(1);
    await expect(trainMultiTask(c, { train: { ...data.train, sampleWeights: new Float64Array(3) }, val: data.val }, config)).rejects.toThrow('train split: 3 sample weights for 256 windows');
    c.dispose();
  });

  it('shows a progress bar with phase, epoch, batch count, per-task losses and weights', async () => {
    const p = build(1);
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
    await trainMultiTask(p, data, { epochs: 2, batchSize: 64, progress: true, harmoniser: { name: 'gradnorm' } }, { progressStream: stream, phase: 'easy' });
    const text = lines.join('');
    expect(text).toMatch(/easy epoch 1\/2 \[#+\] 100% 4\/4 batches/);
    expect(text).toMatch(/easy epoch 2\/2/);
    expect(text).toMatch(/reg \d+\.\d{4} w\d\.\d\d \| cls \d+\.\d{4} w\d\.\d\d/);
    expect(text).toMatch(/val \d+\.\d{4}/);
    p.dispose();
  });

  it('rejects windows that do not fit the encoder', async () => {
    const p = build(1);
    await expect(trainMultiTask(p, { train: toySplit(8, 4, F, 1), val: toySplit(8, 4, F, 2) }, { progress: false })).rejects.toThrow(/encoder expects \[5, 3\]/);
    await expect(trainMultiTask(p, { train: toySplit(8, T, F, 1), val: toySplit(0, T, F, 2) }, { progress: false })).rejects.toThrow(/validation split is empty/);
    await expect(trainMultiTask(p, data, { progress: false, harmoniser: { name: 'pcgrad', alpha: -1 } })).rejects.toThrow(/training\.harmoniser\.alpha/);
    p.dispose();
  });
});

const base = { epochs: 4, batchSize: 32, learningRate: 0.03, seed: 5, progress: false, harmoniser: { name: 'equal' as const }, earlyStopping: { patience: 10 } };

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
    await stopAfter(1, 3, data, { ...config, checkpointDir: dir });
    const c = build(44);
    const rest = await trainMultiTask(c, data, { ...config, checkpointDir: dir }, { resume: true });
    expect(rest.resumedFromEpoch).toBe(1);
    expect(rest.history.map((e) => e.valTotal)).toEqual(full.history.map((e) => e.valTotal));
    expectBitwise(c, want);
    c.dispose();
    // a checkpoint made without the average is refused by a run with it
    const plainDir = tmp();
    const d = build(3);
    await trainMultiTask(d, data, { ...base, epochs: 1, checkpointDir: plainDir });
    await expect(trainMultiTask(d, data, { ...base, emaDecay: 0.95, checkpointDir: plainDir }, { resume: true })).rejects.toThrow(/different training config/);
    d.dispose();
  });
});
