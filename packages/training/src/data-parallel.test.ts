import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { initBackend, tf } from '@task-agnostic/tf';
import { SharedCollective, collectiveBytes, sliceOf } from './collective.js';
import { parseTrainingConfig } from './config.js';
import { DataParallelPool, forwardCpuMs, openDataParallel, rejectedExecArgv, resolveWorkers, startWorker, workerExecArgv, type PartsRecipe } from './data-parallel.js';
import { buildParts, type TestRecipeArgs } from './dp-test-recipe.js';
import { Harmoniser, HARMONISER_NAMES } from './harmoniser.js';
import { gatherBatch } from './split.js';
import { computeStepGradients, type MultiTaskParts } from './step.js';
import { trainMultiTask, type TrainingData } from './trainer.js';
import { toySplit } from './toy-data.js';
import { trainModel } from './train-model.js';

const T = 6, F = 3, D = 8;
const args: TestRecipeArgs = { T, F, D, seed: 1 };
const recipe = (a: Partial<TestRecipeArgs> = {}): PartsRecipe => ({ module: new URL('./dp-test-recipe.ts', import.meta.url).href, exportName: 'buildParts', args: { ...args, ...a } });
const data: TrainingData = { train: toySplit(256, T, F, 'train'), val: toySplit(64, T, F, 'val') };
const dirs: string[] = [];

function weights(p: MultiTaskParts): Float32Array[] {
  return [...p.encoder.variables, ...p.heads.flatMap((h) => h.variables)].map((v) => new Float32Array(v.dataSync()));
}
/** max |a - b| / max |b| over all arrays. */
function relDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let d = 0, m = 0;
  a.forEach((x, i) => x.forEach((v, k) => {
    d = Math.max(d, Math.abs(v - b[i]![k]!));
    m = Math.max(m, Math.abs(b[i]![k]!));
  }));
  return d / m;
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('collective and worker count', () => {
  it('splits rows evenly and reduces on one rank as the identity', () => {
    expect([0, 1, 2].map((r) => sliceOf(10, 3, r))).toEqual([{ offset: 0, rows: 4 }, { offset: 4, rows: 3 }, { offset: 7, rows: 3 }]);
    const layout = { ranks: 1, slotLen: 4 };
    const c = new SharedCollective(new SharedArrayBuffer(collectiveBytes(layout)), layout, 0, 1000);
    // longer than one slot: reduced in chunks
    expect(Array.from(c.allReduce(Float64Array.from([1, 2, 3, 4, 5, 6])))).toEqual([1, 2, 3, 4, 5, 6]);
    // the gradient form: parts written scaled into the slot, summed into float32
    expect(Array.from(c.allReduceScaled([[1, 2], Float32Array.from([3])], 0.5, true)!)).toEqual([0.5, 1, 1.5]);
    expect(Array.from(c.allReduceScaled([[1, 2, 3], [4, 5, 6]], 2, true)!)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(c.allReduceScaled([[1]], 1, false)).toBeNull();
  });

  it("drops inspector flags, and the TypeScript loader where the worker does not need one, from the workers' execArgv", () => {
    const argv = ['--inspect=9229', '--import', 'tsx', '--max-old-space-size=4096', '--import=tsx/esm', '--loader', 'tsx', '-r', 'tsx/cjs', '--import', './other.mjs'];
    expect(workerExecArgv(argv, false)).toEqual(['--max-old-space-size=4096', '--import', './other.mjs']);
    expect(workerExecArgv(argv, true)).toEqual(['--import', 'tsx', '--max-old-space-size=4096', '--import=tsx/esm', '--loader', 'tsx', '-r', 'tsx/cjs', '--import', './other.mjs']);
  });

  it("starts workers from a process with V8 flags (Node rejects them in a worker's execArgv; they hold process-wide)", async () => {
    expect(rejectedExecArgv(Object.assign(new Error('Initiated Worker with invalid execArgv flags: --stack-size=900, --single-threaded-gc'), { code: 'ERR_WORKER_INVALID_EXEC_ARGV' }))).toEqual(['--stack-size=900', '--single-threaded-gc']);
    expect(rejectedExecArgv(new Error('other'))).toBeNull();
    // what `node --max-old-space-size=4096 --single-threaded-gc trainer ...` handed the workers: new Worker threw
    const w = startWorker("require('node:worker_threads').parentPort.postMessage(process.execArgv)", { eval: true, execArgv: ['--max-old-space-size=512', '--single-threaded-gc', '--no-warnings'] });
    const got = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(got).toEqual(['--no-warnings']);
    await w.terminate();
  });

  it('rejects 0 workers and clamps more workers than cores with a message', () => {
    expect(() => parseTrainingConfig({ workers: 0 })).toThrow(/training\.workers/);
    expect(() => resolveWorkers(0, () => {}, 2)).toThrow(ConfigError);
    const msgs: string[] = [];
    expect(resolveWorkers(8, (l) => msgs.push(l), 2)).toBe(2);
    expect(msgs[0]).toMatch(/8 workers requested .* 2 cores; using 2/);
    expect(resolveWorkers('auto', () => {}, 2)).toBe(2);
    expect(parseTrainingConfig({}).workers).toBe('auto');
  });
});

describe("'auto' workers", () => {
  it('stays on one thread where a forward pass over a slice is too short to share, or no recipe is given', async () => {
    const p = buildParts(args);
    const ms = forwardCpuMs(p, 64);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(1000);
    const msgs: string[] = [];
    // the threshold above what this model takes: no workers start
    expect(await openDataParallel(p, { workers: 'auto', batchSize: 64 }, recipe(), (l) => msgs.push(l), ms + 1000)).toBeNull();
    // asked for explicitly, but no recipe: one thread, and a message says why
    expect(await openDataParallel(p, { workers: 2, batchSize: 64 }, undefined, (l) => msgs.push(l))).toBeNull();
    expect(msgs).toEqual([expect.stringMatching(/2 workers requested but .* no way to rebuild the model in a worker; training on one thread/)]);
    p.dispose();
  });
});

describe('data-parallel training over worker threads', () => {
  it('gives the one-thread gradients, losses and norms of every harmoniser in both gradient modes', async () => {
    const parts = buildParts(args);
    const pool = await DataParallelPool.start(parts, { workers: 2, recipe: recipe(), maxBatch: 64 });
    expect(pool).not.toBeNull();
    try {
      const batch = gatherBatch(data.train, Array.from({ length: 61 }, (_, i) => (i * 7) % 256));
      for (const name of HARMONISER_NAMES) {
        for (const mode of ['parameter', 'representation'] as const) {
          const mk = () => new Harmoniser({ name }, parts.tasks.map((t) => t.kind), [1, 0.5]);
          const one = computeStepGradients(parts, batch, mk(), mode, new Rng('k'));
          const two = pool!.computeStepGradients(parts, batch, mk(), mode, 'k');
          const a = two.grads.map((g) => new Float32Array(g!.dataSync()));
          const b = one.grads.map((g) => new Float32Array(g!.dataSync()));
          expect(relDiff(a, b), `${name} ${mode}`).toBeLessThan(1e-5);
          two.losses.forEach((l, i) => expect(l).toBeCloseTo(one.losses[i]!, 5));
          two.weights.forEach((w, i) => expect(w).toBeCloseTo(one.weights[i]!, 5));
          if (one.gradNorms) two.gradNorms!.forEach((n, i) => expect(n).toBeCloseTo(one.gradNorms![i]!, 4));
          tf.dispose([...one.grads, ...two.grads].filter((g): g is tf.Tensor => g !== null));
        }
      }
      // a frozen-encoder subset of the tasks (transfer / curriculum phases)
      const sub: MultiTaskParts = { encoder: parts.encoder, tasks: [parts.tasks[1]!], heads: [parts.heads[1]!], freezeEncoder: true };
      const subBatch = { ...batch, targets: [batch.targets[1]!], targetDims: [1] };
      const h = () => new Harmoniser({ name: 'equal' }, ['classification']);
      const one = computeStepGradients(sub, subBatch, h(), 'parameter', new Rng('k'));
      const two = pool!.computeStepGradients(sub, subBatch, h(), 'parameter', 'k');
      expect(relDiff(two.grads.map((g) => new Float32Array(g!.dataSync())), one.grads.map((g) => new Float32Array(g!.dataSync())))).toBeLessThan(1e-5);
      tf.dispose([...one.grads, ...two.grads].filter((g): g is tf.Tensor => g !== null));
    } finally {
      await pool?.close();
      parts.dispose();
    }
  }, 300_000);

  it('does not miss the first step when a worker is descheduled right after reporting ready (the once-seen hang)', async () => {
    const parts = buildParts(args);
    // the first step is sent while the worker still sleeps: a worker that read the command count
    // after its 'ready' took that step as seen and rank 0 waited until its timeout
    const pool = await DataParallelPool.start(parts, { workers: 2, recipe: recipe(), maxBatch: 64, delayAfterReadyMs: 300, timeoutMs: 10_000 });
    try {
      const batch = gatherBatch(data.train, Array.from({ length: 32 }, (_, i) => i));
      const h = () => new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
      const one = computeStepGradients(parts, batch, h(), 'parameter', new Rng('k'));
      const two = pool!.computeStepGradients(parts, batch, h(), 'parameter', 'k');
      expect(relDiff(two.grads.map((g) => new Float32Array(g!.dataSync())), one.grads.map((g) => new Float32Array(g!.dataSync())))).toBeLessThan(1e-5);
      tf.dispose([...one.grads, ...two.grads].filter((g): g is tf.Tensor => g !== null));
    } finally {
      await pool?.close();
      parts.dispose();
    }
  }, 60_000);

  it('trains to the one-thread weights within 1e-4', async () => {
    const run = async (workers: number) => {
      const p = buildParts(args);
      const cfg = { epochs: 2, batchSize: 64, learningRate: 0.01, seed: 3, progress: false, workers, harmoniser: { name: 'pcgrad' as const }, gradientMode: 'representation' as const };
      const r = await trainMultiTask(p, data, cfg, { dataParallel: recipe() });
      const w = weights(p);
      p.dispose();
      return { r, w };
    };
    const one = await run(1);
    const two = await run(2);
    expect(relDiff(two.w, one.w)).toBeLessThan(1e-4);
    expect(relDiff(two.w, one.w)).toBeGreaterThan(0); // really ran on two ranks (summation order differs)
    expect(two.r.history.length).toBe(2);
  }, 300_000);

  it('fails the step naming the worker that died mid-epoch, and the checkpoint resumes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-dp-'));
    dirs.push(dir);
    const cfg = { epochs: 3, batchSize: 64, learningRate: 0.01, seed: 4, progress: false, workers: 2, checkpointDir: dir };
    const p = buildParts(args);
    // 4 steps per epoch, one encoder apply per step: the 6th apply is in epoch 2
    await expect(trainMultiTask(p, data, cfg, { dataParallel: recipe({ crashAtCall: 6 }) })).rejects.toThrow(/data-parallel step failed: worker 1: exited with code 3 mid-step/);
    const r = await trainMultiTask(p, data, cfg, { dataParallel: recipe(), resume: true });
    expect(r.resumedFromEpoch).toBe(0);
    expect(r.history.map((h) => h.epoch)).toEqual([0, 1, 2]); // epoch 0 from the checkpoint's history
    p.dispose();
  }, 300_000);

  it('trainModel after pre-training: workers rebuild the real encoder and heads (builtin recipe); two ranks train to the one-thread weights', async () => {
    const { candles } = generateSyntheticMarket({ bars: 2500, seed: 5 });
    const run = async (workers: number) => {
      const r = await trainModel(
        {
          model: { windowLength: 32, encoder: encoderPreset('tiny', 'transformer'), tasks: ['volatility', 'direction'], seed: 3 },
          training: { epochs: 1, batchSize: 64, workers, progress: false },
          // pre-training runs on the main thread; the data-parallel phase starts from its weights
          pretrain: { objectives: ['masked'], epochs: 1, stepsPerEpoch: 2, batchSize: 16, progress: false },
        },
        [{ symbol: 'SYN', candles }],
      );
      const w = [...r.model.encoder.variables].map((v) => new Float32Array(v.dataSync()));
      r.model.dispose();
      return w;
    };
    const one = await run(1);
    const two = await run(2);
    expect(relDiff(two, one)).toBeLessThan(1e-4);
    expect(relDiff(two, one)).toBeGreaterThan(0);
  }, 300_000);

  it('profiles each rank when asked: steps, thread ids, CPU, barrier and idle waits, GC', async () => {
    const parts = buildParts(args);
    // the worker sleeps 40 ms in each encoder apply: rank 0 waits for it at the barriers
    const pool = await DataParallelPool.start(parts, { workers: 2, recipe: recipe({ sleepMs: 40 }), maxBatch: 64, profile: true });
    const plain = await DataParallelPool.start(parts, { workers: 2, recipe: recipe(), maxBatch: 64 });
    try {
      const batch = gatherBatch(data.train, Array.from({ length: 32 }, (_, i) => i));
      const h = new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
      for (let k = 0; k < 3; k++) {
        // rank 0 is away 60 ms between steps: the worker waits for the next command
        if (k > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60);
        tf.dispose(pool!.computeStepGradients(parts, batch, h, 'parameter', `k${k}`).grads.filter((g): g is tf.Tensor => g !== null));
      }
      tf.dispose(plain!.computeStepGradients(parts, batch, h, 'parameter', 'k').grads.filter((g): g is tf.Tensor => g !== null));
      expect(plain!.threadStats()).toEqual([]);
      const live = pool!.threadStats();
      // the worker's thread is alive in this process now
      expect(readdirSync('/proc/self/task').map(Number)).toContain(live[1]!.tid);
    } finally {
      await pool?.close();
      await plain?.close();
      parts.dispose();
    }
    const [main, worker] = pool!.threadStats();
    expect(main!.rank).toBe(0);
    expect(main!.tid).toBe(process.pid); // the main thread's id is the process id
    expect(worker!.tid).toBeGreaterThan(0);
    expect(worker!.tid).not.toBe(process.pid);
    expect([main!.steps, worker!.steps]).toEqual([3, 3]);
    expect(main!.stepCpuMs).toBeGreaterThan(0);
    expect(worker!.stepCpuMs).toBeGreaterThan(0);
    // the worker sleeps (no CPU) >= 40 ms a step, which rank 0 spends at the barrier
    expect(main!.barrierWaitMs).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(worker!.stepCpuMs).toBeLessThan(3 * 40);
    // two 60 ms gaps between steps (and the wait for the first)
    expect(worker!.idleWaitMs).toBeGreaterThanOrEqual(2 * 60 - 5);
    // wall time inside steps: the worker's holds its 3 x 40 ms sleeps; time waiting for a CPU
    // (schedstat's run delay) is part of it
    expect(worker!.stepWallMs).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(main!.stepWallMs).toBeGreaterThanOrEqual(main!.barrierWaitMs);
    // rank 0's serial part (buffers before the command, tensors after the last barrier); none on a worker
    expect(main!.serialMs).toBeGreaterThan(0);
    expect(main!.serialMs).toBeLessThan(main!.stepWallMs);
    expect(worker!.serialMs).toBe(0);
    // a count of steps, at most all of them (where the worker woke is up to the scheduler)
    expect(Number.isInteger(worker!.startsOnRank0Cpu)).toBe(true);
    expect(worker!.startsOnRank0Cpu).toBeLessThanOrEqual(3);
    expect(main!.startsOnRank0Cpu).toBe(0);
    for (const s of [main!, worker!]) {
      expect(s.runQueueMs).toBeGreaterThanOrEqual(0);
      expect(s.runQueueMs).toBeLessThanOrEqual(s.stepWallMs);
      expect(s.gcCount).toBeGreaterThanOrEqual(s.majorGcCount);
      expect(s.gcMs).toBeGreaterThanOrEqual(0);
      expect(s.allocatedMB).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);

  it('falls back to one thread with a message when workers cannot start', async () => {
    const p = buildParts(args);
    const msgs: string[] = [];
    const pool = await DataParallelPool.start(p, { workers: 2, recipe: recipe({ failToStart: true }), maxBatch: 64, log: (l) => msgs.push(l) });
    expect(pool).toBeNull();
    expect(msgs.join('\n')).toMatch(/worker threads could not start \(worker 1: this recipe cannot build here\); training on one thread/);
    p.dispose();
  }, 300_000);
});
