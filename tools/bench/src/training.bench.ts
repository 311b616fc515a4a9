// Training cost and effect of each gradient harmoniser, in both gradient modes.
// Same data, same model seed, same epochs for every row: a synthetic market (6,000 1h bars,
// window 32, tasks volatility + regime + direction), the `tiny` transformer encoder, batch 64,
// Adam 1e-3. Cost: CPU time (process.cpuUsage, user+system; tfjs wasm runs on one thread, so
// this is the work done and is far less sensitive than wall time to other processes on a shared
// machine) of one training step (gradients + harmoniser + clip + Adam), measured round-robin
// over all ten combinations for several rounds, median per row, times batches per epoch = epoch
// CPU time; ratio to equal weighting in the
// same mode and to equal weighting in parameter mode (the baseline, measured in this run).
// Effect: validation loss/metrics of the best epoch of a full training run per row.
//   node --import tsx tools/bench/src/training.bench.ts [--quick] [--encoder mlp|transformer|cnn|moe]
//     [--preset tiny|default] [--cost-only]   (--cost-only skips the training runs)
import { loadavg } from 'node:os';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { TaskAgnosticModel, parseModelConfig } from '@task-agnostic/model';
import { initBackend, tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import {
  Adam, Harmoniser, asTrainableEncoder, buildDataset, clipByGlobalNorm, computeStepGradients, defaultComponents, featurePipeline,
  gatherBatch, trainMultiTask, trainableVariablesOf, unwrapNormalizer,
  type HarmoniserName, type GradientMode, type TrainableHead, type TrainableTask,
} from '@task-agnostic/training';
import { percentiles, printTable } from './data-dir.js';

const quick = process.argv.includes('--quick');
const encArg = process.argv.indexOf('--encoder');
const encoderType = (encArg > 0 ? process.argv[encArg + 1] : 'transformer') as 'transformer' | 'mlp' | 'cnn' | 'moe';
const presetArg = process.argv.indexOf('--preset');
const preset = (presetArg > 0 ? process.argv[presetArg + 1] : 'tiny') as 'tiny' | 'default';
const costOnly = process.argv.includes('--cost-only');
const EPOCHS = quick ? 2 : 4;
const W = 32;

const info = await initBackend({ quiet: true });
const mkt = generateSyntheticMarket({ bars: quick ? 3000 : 6000, seed: 11 });
const modelConfig = parseModelConfig({ windowLength: W, encoder: encoderPreset(preset, encoderType), tasks: ['volatility', 'regime', 'direction'], seed: 3 });
const tasks = modelConfig.tasks.map((t) => defaultComponents.getTask(t.id) as unknown as TrainableTask);
const ds = buildDataset([{ symbol: 'SYN', candles: mkt.candles }], tasks, featurePipeline(), { windowLength: W, valFraction: 0.2, testFraction: 0.2 });
const normalizer = unwrapNormalizer(ds.fittedNormalizer)!;
const taskStates = Object.fromEntries(tasks.map((t, i) => [t.id, ds.taskStates[i]!]));

interface Row {
  harm: HarmoniserName;
  mode: GradientMode;
  epochMs: number;
  val: Record<string, number>;
  metrics: Record<string, Record<string, number>>;
}
const rows: Row[] = [];
const harms: HarmoniserName[] = ['equal', 'loss-ratio', 'uncertainty', 'gradnorm', 'pcgrad'];
const modes: GradientMode[] = ['parameter', 'representation'];
const combos = modes.flatMap((mode) => harms.map((harm) => ({ mode, harm })));

function makeParts() {
  const model = TaskAgnosticModel.create(modelConfig, { normalizer, taskStates, components: defaultComponents });
  const mt = model.tasks as unknown as TrainableTask[];
  return {
    model,
    parts: {
      encoder: asTrainableEncoder(model.encoder),
      tasks: mt,
      heads: mt.map((t) => model.heads.get(t.id)! as TrainableHead),
      taskStates: mt.map((t) => model.taskStates.get(t.id)!),
    },
  };
}

// --- cost: round-robin step timing ---
const ROUNDS = quick ? 3 : 7;
const STEPS = quick ? 3 : 5;
const stepMs = new Map<string, number[]>();
{
  const { model, parts } = makeParts();
  const adam = new Adam(trainableVariablesOf(parts));
  const hs = new Map(combos.map((c) => [`${c.harm}/${c.mode}`, new Harmoniser({ name: c.harm }, parts.tasks.map((t) => t.kind))]));
  const batch = gatherBatch(ds.train, Int32Array.from({ length: 64 }, (_, i) => i * 7 % ds.train.n));
  const step = (key: string, mode: GradientMode, k: number) => {
    const h = hs.get(key)!;
    const r = computeStepGradients(parts, batch, h, mode, new Rng(k));
    const c = clipByGlobalNorm(r.grads, 1);
    adam.apply(c.grads, 1e-4);
    tf.dispose(c.grads.filter((g): g is tf.Tensor => g !== null));
    h.afterStep(r.losses, r.gradNorms);
  };
  for (const c of combos) step(`${c.harm}/${c.mode}`, c.mode, 0); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of combos) {
      const key = `${c.harm}/${c.mode}`;
      const t0 = process.cpuUsage();
      for (let k = 0; k < STEPS; k++) step(key, c.mode, k);
      const d = process.cpuUsage(t0);
      const arr = stepMs.get(key) ?? [];
      arr.push((d.user + d.system) / 1000 / STEPS);
      stepMs.set(key, arr);
    }
  }
  adam.dispose();
  model.dispose();
}
const batchesPerEpoch = Math.ceil(ds.train.n / 64);

// --- effect: full training runs ---
for (const mode of costOnly ? [] : modes) {
  for (const harm of harms) {
    const { model, parts } = makeParts();
    const r = await trainMultiTask(parts, { train: ds.train, val: ds.val }, {
      epochs: EPOCHS, batchSize: 64, learningRate: 1e-3, seed: 1, progress: false,
      harmoniser: { name: harm }, gradientMode: mode, schedule: { type: 'cosine', warmupSteps: 10 }, earlyStopping: { patience: 100 },
    });
    const best = r.history[r.bestEpoch]!;
    rows.push({ harm, mode, epochMs: percentiles(stepMs.get(`${harm}/${mode}`)!).median * batchesPerEpoch, val: best.valLoss, metrics: best.valMetrics });
    model.dispose();
    process.stderr.write(`${harm}/${mode} done\n`);
  }
}

if (costOnly) {
  for (const c of combos) rows.push({ harm: c.harm, mode: c.mode, epochMs: percentiles(stepMs.get(`${c.harm}/${c.mode}`)!).median * batchesPerEpoch, val: {}, metrics: {} });
}
const base = rows.find((r) => r.harm === 'equal' && r.mode === 'parameter')!;
console.log(`training.bench: backend ${info.name}, encoder ${preset} ${encoderType}, ${ds.train.n} training windows [${W} x ${ds.featureNames.length}], batch 64 (${batchesPerEpoch} steps/epoch), step time median of ${ROUNDS} round-robin rounds x ${STEPS} steps${costOnly ? "" : `, quality after ${EPOCHS} epochs`}, load ${loadavg()[0]!.toFixed(2)}`);
const table: (string | number)[][] = [[
  'harmoniser', 'mode', 'epoch CPU ms (step median x steps)', 'x equal (same mode)', 'x equal/parameter (baseline)',
  'val loss vol', 'val loss regime', 'val loss direction', 'vol mse', 'regime logLoss', 'direction acc',
]];
for (const r of rows) {
  const same = rows.find((x) => x.harm === 'equal' && x.mode === r.mode)!;
  table.push([
    r.harm, r.mode, r.epochMs, r.epochMs / same.epochMs, r.epochMs / base.epochMs,
    ...(costOnly ? ['-', '-', '-', '-', '-', '-'] : [r.val.volatility!, r.val.regime!, r.val.direction!, r.metrics.volatility!.mse!, r.metrics.regime!.logLoss!, r.metrics.direction!.accuracy!]),
  ]);
}
printTable(table);
if (costOnly) process.exit(0);
// representation mode's effect on quality, per harmoniser: change of the summed validation loss
const diff: (string | number)[][] = [['harmoniser', 'val total (parameter)', 'val total (representation)', 'change %', 'epoch time ratio repr/param']];
for (const h of harms) {
  const p = rows.find((r) => r.harm === h && r.mode === 'parameter')!;
  const q = rows.find((r) => r.harm === h && r.mode === 'representation')!;
  const tp = Object.values(p.val).reduce((a, b) => a + b, 0);
  const tq = Object.values(q.val).reduce((a, b) => a + b, 0);
  diff.push([h, tp, tq, ((tq - tp) / tp) * 100, q.epochMs / p.epochMs]);
}
printTable(diff);
tf.disposeVariables();
