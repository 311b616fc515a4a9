import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@task-agnostic/tf';
import { parseCurriculum, runCurriculum, standardCurriculum } from './curriculum.js';
import { trainNewHead } from './transfer.js';
import { trainMultiTask } from './trainer.js';
import { selectTasks } from './split.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';
import { toySplit } from './toy-data.js';
import type { SslSource } from './ssl-sampler.js';

const T = 6, F = 3, D = 8;
const data = { train: toySplit(256, T, F, 'ct'), val: toySplit(128, T, F, 'cv') };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

/** an SSL source over the toy windows laid end to end as one "series" */
function toySource(split: typeof data.train): SslSource {
  const rows = split.n * T;
  const m = { data: split.x, rows, cols: F, names: ['a', 'b', 'c'], warmup: 0 };
  const closes = new Float64Array(rows).map((_, i) => 100 + Math.sin(i / 7));
  return { matrices: [m], closes: [closes], ranges: [{ minEnd: T - 1, maxEnd: rows - 2 }] };
}

describe('curriculum', () => {
  it('the standard preset is the source design numbers', () => {
    const c = standardCurriculum();
    expect(c.phases.map((p) => [p.name, p.kind, p.minEpochs, p.transition.type])).toEqual([
      ['Self-Supervised', 'pretrain', 50, 'reconstruction-loss'],
      ['Easy Tasks', 'supervised', 30, 'metric'],
      ['Full Multi-Task', 'supervised', 50, 'convergence'],
    ]);
    expect(c.phases[0]!.transition).toEqual({ type: 'reconstruction-loss', threshold: 0.01 });
    expect(c.phases[1]!.taskWeights).toEqual({ direction: 0.5, regime: 0.5 });
    expect(c.phases[1]!.transition).toMatchObject({ metric: 'accuracy', threshold: 0.65 });
    expect(c.phases[2]!.tasks).toEqual(['direction', 'regime', 'volatility', 'return']);
    expect(() => parseCurriculum({ phases: [{ name: 'x', kind: 'supervised', tasks: [] }] })).toThrow(/curriculum\.phases\.0\.tasks/);
  });

  it('runs pretrain -> easy -> full with their transitions, and a rerun resumes after the finished phases', async () => {
    const enc = fakeEncoder(T, F, D, 1);
    const tasks = [fakeRegressionTask('reg'), fakeClassificationTask('cls', 3)];
    const heads = tasks.map((t, i) => t.buildHead(D, 5 + i));
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-cur-'));
    dirs.push(dir);
    const cur = parseCurriculum({
      phases: [
        { name: 'ssl', kind: 'pretrain', minEpochs: 1, maxEpochs: 3, transition: { type: 'reconstruction-loss', threshold: 1e6 } },
        { name: 'easy', kind: 'supervised', tasks: ['cls'], minEpochs: 2, maxEpochs: 6, transition: { type: 'metric', metric: 'accuracy', threshold: 0 } },
        { name: 'full', kind: 'supervised', tasks: ['reg', 'cls'], taskWeights: { reg: 0.5, cls: 0.5 }, minEpochs: 1, maxEpochs: 5, transition: { type: 'epochs' } },
      ],
    });
    const run = {
      encoder: enc, tasks, heads, data, ssl: { train: toySource(data.train), val: toySource(data.val) },
      training: { batchSize: 32, learningRate: 0.01, progress: false, harmoniser: { name: 'equal' as const } }, pretrain: { stepsPerEpoch: 3, batchSize: 16, progress: false }, checkpointDir: dir,
    };
    const res = await runCurriculum(cur, run);
    expect(res.map((r) => [r.name, r.epochs, r.conditionMet])).toEqual([['ssl', 1, true], ['easy', 2, true], ['full', 5, true]]);
    expect(Object.keys((res[1]!.history[0] as { valLoss: object }).valLoss)).toEqual(['cls']);
    expect((res[2]!.history[0] as { weights: Record<string, number> }).weights).toEqual({ reg: 0.5, cls: 0.5 });
    const w = enc.variables.map((v) => Array.from(v.dataSync()));
    const again = await runCurriculum(cur, run, { resume: true });
    expect(again.map((r) => r.epochs)).toEqual([1, 2, 5]);
    expect(enc.variables.map((v) => Array.from(v.dataSync()))).toEqual(w);
    enc.dispose();
    heads.forEach((h) => h.dispose());
  });
});

describe('task transfer', () => {
  it('trains a new head on a frozen encoder: the encoder does not move, the new task learns', async () => {
    const enc = fakeEncoder(T, F, D, 2);
    const reg = fakeRegressionTask('reg');
    const regHead = reg.buildHead(D, 3);
    await trainMultiTask({ encoder: enc, tasks: [reg], heads: [regHead] }, { train: selectTasks(data.train, [0]), val: selectTasks(data.val, [0]) }, { epochs: 3, batchSize: 32, learningRate: 0.02, progress: false });
    const before = enc.variables.map((v) => Buffer.from(new Float32Array(v.dataSync()).buffer));
    const cls = fakeClassificationTask('cls', 3);
    const r = await trainNewHead(enc, cls, { train: selectTasks(data.train, [1]), val: selectTasks(data.val, [1]) }, { epochs: 5, batchSize: 32, learningRate: 0.03, progress: false });
    enc.variables.forEach((v, i) => expect(Buffer.from(new Float32Array(v.dataSync()).buffer).equals(before[i]!)).toBe(true));
    expect(r.history[r.history.length - 1]!.valLoss.cls).toBeLessThan(r.history[0]!.valLoss.cls!);
    r.head.dispose();
    regHead.dispose();
    enc.dispose();
  });
});
