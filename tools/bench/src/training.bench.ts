// Training cost and effect of each gradient harmoniser, in both gradient modes.
// Same data, same model seed, same epochs for every row: a synthetic market (6,000 1h bars,
// window 32, tasks volatility + regime + direction), the `tiny` transformer encoder, batch 64,
// Adam 1e-3. Per row: median epoch time, its ratio to equal weighting in the same mode and to
// equal weighting in parameter mode (the baseline, measured in this run), and the validation
// loss/metrics of the best epoch, so representation-level mode's effect on quality is visible.
//   node --import tsx tools/bench/src/training.bench.ts [--quick] [--encoder mlp|transformer|cnn|moe]
import { loadavg } from 'node:os';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { TaskAgnosticModel, parseModelConfig } from '@task-agnostic/model';
import { initBackend, tf } from '@task-agnostic/tf';
import {
  asTrainableEncoder, buildDataset, defaultComponents, featurePipeline, trainMultiTask, unwrapNormalizer,
  type HarmoniserName, type GradientMode, type TrainableHead, type TrainableTask,
} from '@task-agnostic/training';
import { percentiles, printTable } from './data-dir.js';

const quick = process.argv.includes('--quick');
const encArg = process.argv.indexOf('--encoder');
const encoderType = (encArg > 0 ? process.argv[encArg + 1] : 'transformer') as 'transformer' | 'mlp' | 'cnn' | 'moe';
const EPOCHS = quick ? 2 : 4;
const W = 32;

const info = await initBackend({ quiet: true });
const mkt = generateSyntheticMarket({ bars: quick ? 3000 : 6000, seed: 11 });
const modelConfig = parseModelConfig({ windowLength: W, encoder: encoderPreset('tiny', encoderType), tasks: ['volatility', 'regime', 'direction'], seed: 3 });
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
for (const mode of modes) {
  for (const harm of harms) {
    const model = TaskAgnosticModel.create(modelConfig, { normalizer, taskStates, components: defaultComponents });
    const mt = model.tasks as unknown as TrainableTask[];
    const parts = {
      encoder: asTrainableEncoder(model.encoder),
      tasks: mt,
      heads: mt.map((t) => model.heads.get(t.id)! as TrainableHead),
      taskStates: mt.map((t) => model.taskStates.get(t.id)!),
    };
    const r = await trainMultiTask(parts, { train: ds.train, val: ds.val }, {
      epochs: EPOCHS, batchSize: 64, learningRate: 1e-3, seed: 1, progress: false,
      harmoniser: { name: harm }, gradientMode: mode, schedule: { type: 'cosine', warmupSteps: 10 }, earlyStopping: { patience: 100 },
    });
    const best = r.history[r.bestEpoch]!;
    // the first epoch includes kernel warm-up; time the rest
    const times = r.history.slice(1).map((e) => e.timeMs);
    rows.push({ harm, mode, epochMs: percentiles(times.length ? times : [r.history[0]!.timeMs]).median, val: best.valLoss, metrics: best.valMetrics });
    model.dispose();
    process.stderr.write(`${harm}/${mode} done\n`);
  }
}

const base = rows.find((r) => r.harm === 'equal' && r.mode === 'parameter')!;
console.log(`training.bench: backend ${info.name}, encoder tiny ${encoderType}, ${ds.train.n} training windows [${W} x ${ds.featureNames.length}], batch 64, ${EPOCHS} epochs, load ${loadavg()[0]!.toFixed(2)}`);
const table: (string | number)[][] = [[
  'harmoniser', 'mode', 'epoch ms (median)', 'x equal (same mode)', 'x equal/parameter (baseline)',
  'val loss vol', 'val loss regime', 'val loss direction', 'vol mse', 'regime logLoss', 'direction acc',
]];
for (const r of rows) {
  const same = rows.find((x) => x.harm === 'equal' && x.mode === r.mode)!;
  table.push([
    r.harm, r.mode, r.epochMs, r.epochMs / same.epochMs, r.epochMs / base.epochMs,
    r.val.volatility!, r.val.regime!, r.val.direction!,
    r.metrics.volatility!.mse!, r.metrics.regime!.logLoss!, r.metrics.direction!.accuracy!,
  ]);
}
printTable(table);
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
