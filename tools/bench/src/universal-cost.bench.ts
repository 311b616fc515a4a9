// Cost of a `universal` run (issue 18 item 5: <= 45 min on 2 cores for 1M+ bars).
// Loads the universal preset's universe (every 1h symbol of the data folder but the held-out ones),
// builds its dataset (features of every symbol, per-symbol normalisers, windows at the preset's
// stride), then times pre-training steps, training steps (gradients + clip + Adam) and validation
// forward passes of the preset's model on that dataset, and extrapolates the full run from the
// preset's budget. Cost is CPU time (process.cpuUsage, user+system): tfjs wasm trains on one
// thread, so on an idle 2-core machine wall time ~ CPU time; wall time is printed beside it with
// the load average, since on a shared machine it is inflated by the other processes.
//   node --import tsx tools/bench/src/universal-cost.bench.ts [--steps 8] [--stride N]
import { loadavg } from 'node:os';
import { Rng } from '@task-agnostic/core';
import { TaskAgnosticModel, parseModelConfig } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import {
  Adam, Harmoniser, asTrainableEncoder, buildDataset, clipByGlobalNorm, computeStepGradients, defaultComponents, epochStepCount, evaluateSplit,
  featurePipeline, gatherBatch, parsePretrainConfig, parseTrainingConfig, pretrainEncoder, sliceBatch, sslSourcesFromDataset, trainableVariablesOf, unwrapNormalizer,
  type TrainableHead, type TrainableTask,
} from '@task-agnostic/training';
import { datasetOptions, loadConfigData, modelConfigOf, resolveConfig, screenSeries } from '@task-agnostic/trainer';
import { percentiles, printTable } from './data-dir.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const STEPS = Number(arg('--steps') ?? 8);
const strideArg = arg('--stride');

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; cpu: number; wall: number }> {
  const c0 = cpuMs();
  const w0 = performance.now();
  const value = await fn();
  return { value, cpu: cpuMs() - c0, wall: performance.now() - w0 };
}

const backend = await initBackend({ quiet: true });
const base = resolveConfig('universal');
const cfg = strideArg ? { ...base, data: { ...base.data, stride: Number(strideArg) } } : base;
const load0 = loadavg()[0]!;
const loaded = await timed(async () => screenSeries(cfg, await loadConfigData(cfg), (l) => console.log(l)));
const data = loaded.value;
const bars = data.reduce((a, d) => a + d.candles.length, 0);
console.log(`universe: ${data.length} symbols, ${bars} bars (held out: ${cfg.data.holdout.join(', ')}), backend ${backend.name}`);

const modelConfig = parseModelConfig(modelConfigOf(cfg));
const tasks = modelConfig.tasks.map((t) => defaultComponents.getTask(t.id, t.config) as unknown as TrainableTask);
const built = await timed(() =>
  buildDataset(data.map((d) => ({ symbol: d.symbol, candles: d.candles })), tasks, featurePipeline(defaultComponents.parseFeatureSetConfig(modelConfig.features) as never), { ...datasetOptions(cfg), windowLength: cfg.model.windowLength }),
);
const ds = built.value;
console.log(`dataset: ${ds.train.n} train / ${ds.val.n} val / ${ds.test.n} test windows (stride ${cfg.data.stride}), ${ds.featureNames.length} features, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

const normalizer = unwrapNormalizer(ds.fittedNormalizer)!;
const model = TaskAgnosticModel.create(modelConfig, { normalizer, taskStates: Object.fromEntries(tasks.map((t, i) => [t.id, ds.taskStates[i]!])), components: defaultComponents });
const mt = model.tasks as unknown as TrainableTask[];
const parts = { encoder: asTrainableEncoder(model.encoder), tasks: mt, heads: mt.map((t) => model.heads.get(t.id)! as TrainableHead), taskStates: mt.map((t) => model.taskStates.get(t.id)!) };
const training = parseTrainingConfig({ ...cfg.training, seed: cfg.seed, progress: false });
const pre = parsePretrainConfig({ ...(cfg.pretrain ?? {}), seed: cfg.seed, progress: false });

// training steps
const adam = new Adam(trainableVariablesOf(parts));
const harm = new Harmoniser(training.harmoniser, mt.map((t) => t.kind));
const stepCpu: number[] = [];
const stepWall: number[] = [];
const rng = new Rng(1);
for (let k = 0; k < STEPS + 1; k++) {
  const idx = Int32Array.from({ length: training.batchSize }, () => Math.floor(rng.next() * ds.train.n));
  const batch = gatherBatch(ds.train, idx);
  const t = await timed(() => {
    const r = computeStepGradients(parts, batch, harm, training.gradientMode, new Rng(k));
    const c = clipByGlobalNorm(r.grads, training.clipNorm);
    adam.apply(c.grads, 1e-4);
    for (const g of c.grads) g?.dispose();
    harm.afterStep(r.losses, r.gradNorms);
  });
  if (k > 0) {
    stepCpu.push(t.cpu);
    stepWall.push(t.wall);
  }
}
// validation forward passes (per window)
const valN = Math.min(ds.val.n, 2048);
const val = await timed(() => evaluateSplit(parts, { ...sliceBatch(ds.val, 0, valN), windowLength: ds.val.windowLength, featureCount: ds.val.featureCount }, 256));
// pre-training steps
const preSteps = Math.max(2, Math.round(STEPS / 2));
const preT = await timed(() => pretrainEncoder(parts.encoder, sslSourcesFromDataset(ds), { ...pre, epochs: 1, stepsPerEpoch: preSteps, valBatches: 1 }));

const step = percentiles(stepCpu).median;
const stepW = percentiles(stepWall).median;
const stepsPerEpoch = epochStepCount(ds.train.n, training);
const valPerWin = val.cpu / valN;
const epochCpu = step * stepsPerEpoch + valPerWin * ds.val.n;
const preStepCpu = preT.cpu / (preSteps + 1); // + one validation pass of valBatches=1
const preCpu = preStepCpu * pre.epochs * (pre.stepsPerEpoch + pre.valBatches);
const testCpu = valPerWin * ds.test.n;
const total = loaded.cpu + built.cpu + preCpu + training.epochs * epochCpu + testCpu;
const min = (ms: number) => (ms / 60_000).toFixed(1);
printTable([
  ['part', 'count', 'CPU per unit ms', 'CPU total min', 'wall (this run) ms/unit'],
  ['load + screen data', `${data.length} symbols, ${bars} bars`, loaded.cpu, min(loaded.cpu), loaded.wall],
  ['features + dataset', `${ds.train.n + ds.val.n + ds.test.n} windows`, built.cpu, min(built.cpu), built.wall],
  ['pre-training step', `${pre.epochs} x ${pre.stepsPerEpoch} steps, batch ${pre.batchSize}`, preStepCpu, min(preCpu), preT.wall / (preSteps + 1)],
  ['training step', `${training.epochs} x ${stepsPerEpoch} steps, batch ${training.batchSize}`, step, min(step * stepsPerEpoch * training.epochs), stepW],
  ['validation window', `${training.epochs} x ${ds.val.n}`, valPerWin, min(valPerWin * ds.val.n * training.epochs), val.wall / valN],
  ['test window', `${ds.test.n}`, valPerWin, min(testCpu), val.wall / valN],
  ['total (extrapolated, one thread)', '', '', min(total), ''],
]);
console.log(`budget 45 min: ${total / 60_000 <= 45 ? 'fits' : 'does not fit'} (${min(total)} min CPU on one thread; load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} during this run, so wall times above are inflated)`);
model.dispose();
adam.dispose();
