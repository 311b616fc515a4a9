// Issue 18, goal 1 (branch valid18): which validation range the universal preset should use, chosen
// on pre-test data only by a rule fixed before looking. For each candidate valStart (testStart fixed
// at 2023-12-01), the universal preset's dataset is built as a run builds it (labels refitted on the
// candidate's training range per series, the preset's stride, purge gap and warm-up), and the class
// mix of the risk and regime labels on validation rows is compared with training rows' (total
// variation) over the in-universe series. Test rows' labels are never read (test mixes are not printed).
// Rule: the smallest mean (over series and the two tasks) TV wins; within 0.01 of it, the latest valStart.
//   nice -n 19 node --import tsx tools/bench/src/split-mix-candidates.ts [--candidates 2023-06-01,2023-03-01,2022-12-01]
import {
  buildDataset, defaultComponents, featurePipeline, fitFeatureParameters, type TrainableTask,
} from '@task-agnostic/training';
import { parseModelConfig } from '@task-agnostic/model';
import { MIX_WARN_TV, datasetOptions, dateBoundaries, loadConfigData, mixTasksOf, modelConfigOf, resolveConfig, screenSeries, splitClassMix } from '@task-agnostic/trainer';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const CANDIDATES = (arg('--candidates') ?? '2023-06-01,2023-03-01,2022-12-01').split(',');
const TEST_START = arg('--test-start') ?? '2023-12-01';
const RULE_TASKS = ['risk', 'regime'];
const TIE = 0.01;

const base = resolveConfig('universal');
const data = screenSeries(base, await loadConfigData(base), (l) => console.log(l));
console.log(`universe: ${data.length} series (held out: ${base.data.holdout.join(', ')}), testStart ${TEST_START}`);
const modelConfig = parseModelConfig(modelConfigOf(base));
const series = data.map((d) => ({ symbol: d.symbol, candles: d.candles }));
const tasks = modelConfig.tasks.map((t) => defaultComponents.getTask(t.id, t.config) as unknown as TrainableTask & { classes?: readonly string[] });
const pct = (x: number): string => (x * 100).toFixed(1);

const rows: { valStart: string; mean: number; byTask: Record<string, number>; pooled: Record<string, number> }[] = [];
for (const valStart of CANDIDATES) {
  const boundaries = data.map((d) => dateBoundaries(d.candles, Date.parse(valStart), Date.parse(TEST_START)));
  const dsOpts = { ...datasetOptions(base), windowLength: base.model.windowLength };
  const features = fitFeatureParameters(defaultComponents.parseFeatureSetConfig(modelConfig.features) as never, series, dsOpts, boundaries);
  const ds = buildDataset(series, tasks, featurePipeline(features as never), dsOpts, boundaries);
  // the test split is passed empty: its labels take no part in the choice
  const noTest = { n: 0, targets: ds.test.targetDims.map(() => new Float32Array(0)), targetDims: ds.test.targetDims };
  const every = splitClassMix({ train: ds.train, val: ds.val, test: noTest }, mixTasksOf(tasks, ds.taskIds), data.map((d) => d.symbol));
  for (const m of every.filter((x) => !RULE_TASKS.includes(x.task))) {
    console.log(`  ${valStart} ${m.task} (not in the rule; ${m.classes.join('/')}): train ${m.pooled.train.fractions.map(pct).join('/')}; val ${m.pooled.val.fractions.map(pct).join('/')}; TV pooled ${m.pooled.valVsTrainTv?.toFixed(4)}, mean per series ${m.meanSeriesValVsTrainTv?.toFixed(4)}`);
  }
  const mixes = every.filter((m) => RULE_TASKS.includes(m.task));
  const byTask: Record<string, number> = {};
  const pooled: Record<string, number> = {};
  const all: number[] = [];
  for (const m of mixes) {
    const tvs = Object.values(m.bySeries).map((s) => s.valVsTrainTv).filter((x): x is number => x !== null);
    all.push(...tvs);
    byTask[m.task] = m.meanSeriesValVsTrainTv ?? NaN;
    pooled[m.task] = m.pooled.valVsTrainTv ?? NaN;
    // training and validation only: the test rows' labels are not looked at
    console.log(`  ${valStart} ${m.task} (${m.classes.join('/')}): train (${m.pooled.train.n}) ${m.pooled.train.fractions.map(pct).join('/')}; val (${m.pooled.val.n}) ${m.pooled.val.fractions.map(pct).join('/')}; TV pooled ${m.pooled.valVsTrainTv?.toFixed(4)}, mean per series ${m.meanSeriesValVsTrainTv?.toFixed(4)} over ${tvs.length} series (range ${Math.min(...tvs).toFixed(3)}-${Math.max(...tvs).toFixed(3)}, ${tvs.filter((x) => x > MIX_WARN_TV).length} above the warning's ${MIX_WARN_TV})`);
  }
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  rows.push({ valStart, mean, byTask, pooled });
  console.log(`${valStart}: ${ds.train.n} train / ${ds.val.n} val windows; mean TV (series x {risk, regime}) ${mean.toFixed(4)}`);
}
const best = Math.min(...rows.map((r) => r.mean));
const latest = rows.filter((r) => r.mean <= best + TIE).sort((a, b) => Date.parse(b.valStart) - Date.parse(a.valStart))[0]!;
console.log('\n| valStart | risk: mean TV per series (pooled) | regime: mean TV per series (pooled) | mean (rule) |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.valStart} | ${r.byTask.risk?.toFixed(4)} (${r.pooled.risk?.toFixed(4)}) | ${r.byTask.regime?.toFixed(4)} (${r.pooled.regime?.toFixed(4)}) | ${r.mean.toFixed(4)} |`);
console.log(`rule: smallest mean ${best.toFixed(4)}; within ${TIE} of it, the latest valStart: ${latest.valStart}`);
