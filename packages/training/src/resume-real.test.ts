// Crash-and-resume with the REAL encoder, heads and features on the cpu backend: a run stopped
// after epoch 1 and resumed in a fresh model ends with bitwise the weights of an uninterrupted run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { TaskAgnosticModel, parseModelConfig } from '@task-agnostic/model';
import { initBackend, tf } from '@task-agnostic/tf';
import { buildDataset } from './dataset.js';
import { featurePipeline, unwrapNormalizer } from './features-pipeline.js';
import { defaultComponents } from './model-components.js';
import { asTrainableEncoder } from './train-model.js';
import { trainMultiTask } from './trainer.js';
import type { TrainableHead, TrainableTask } from './contracts.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('resume with the real packages (cpu backend)', () => {
  it('stop after epoch 1, resume in a fresh model: same weights bit for bit', async () => {
    const W = 16;
    const mkt = generateSyntheticMarket({ bars: 1500, seed: 4 });
    const cfg = parseModelConfig({ windowLength: W, encoder: encoderPreset('tiny', 'transformer'), tasks: ['volatility', 'direction'], seed: 7 });
    const tasks = cfg.tasks.map((t) => defaultComponents.getTask(t.id) as unknown as TrainableTask);
    const ds = buildDataset([{ symbol: 'S', candles: mkt.candles }], tasks, featurePipeline(), { windowLength: W, stride: 2 });
    const normalizer = unwrapNormalizer(ds.fittedNormalizer)!;
    const taskStates = Object.fromEntries(tasks.map((t, i) => [t.id, ds.taskStates[i]!]));
    const make = (seed: number) => {
      const m = TaskAgnosticModel.create({ ...cfg, seed }, { normalizer, taskStates, components: defaultComponents });
      const mt = m.tasks as unknown as TrainableTask[];
      return { m, parts: { encoder: asTrainableEncoder(m.encoder), tasks: mt, heads: mt.map((t) => m.heads.get(t.id)! as TrainableHead), taskStates: mt.map((t) => m.taskStates.get(t.id)!) } };
    };
    const weights = (m: TaskAgnosticModel) => m.variableGroups().flatMap((g) => g.variables.map((v) => Buffer.from(new Float32Array(v.dataSync()).buffer)));
    const config = { epochs: 3, batchSize: 64, learningRate: 2e-3, seed: 5, progress: false, harmoniser: { name: 'pcgrad' as const }, gradientMode: 'representation' as const };
    const data = { train: ds.train, val: ds.val };

    const a = make(7);
    await trainMultiTask(a.parts, data, { ...config, checkpointDir: mkdtempSync(path.join(tmpdir(), 'tat-rr-')) });
    const want = weights(a.m);
    a.m.dispose();

    const dir = mkdtempSync(path.join(tmpdir(), 'tat-rr-'));
    dirs.push(dir);
    const b = make(7);
    const ctl = new AbortController();
    const first = await trainMultiTask(b.parts, data, { ...config, checkpointDir: dir }, { signal: ctl.signal, onEpoch: (e) => void (e.epoch === 0 && ctl.abort()) });
    expect(first.aborted).toBe(true);
    b.m.dispose();
    const c = make(99);
    const before = tf.memory().numTensors;
    const rest = await trainMultiTask(c.parts, data, { ...config, checkpointDir: dir }, { resume: true });
    expect(rest.resumedFromEpoch).toBe(0);
    const got = weights(c.m);
    expect(got.length).toBe(want.length);
    got.forEach((w, i) => expect(w.equals(want[i]!), `variable ${i}`).toBe(true));
    expect(tf.memory().numTensors).toBe(before);
    c.m.dispose();
  });
});
