/**
 * The main job's model read on the VALIDATION split only (the experiments of issue 18 choose
 * settings here, never on the test split): the summed validation loss by epoch, each task per
 * symbol against its best naive baseline on the same validation windows (95% block-bootstrap
 * verdict), and the regime head against the generator's true regimes.
 *
 *   node --import tsx tools/bench/src/main-job-validation.ts [--set '{"training":{"epochs":6}}'] [--no-transfer]
 *   node --import tsx tools/bench/src/main-job-validation.ts --run runs/quick --no-transfer   (a trained run, no training)
 *   ... --calibrated   (also the regression heads after their calibration, fitted on these same validation rows)
 *
 * `--set` is deep-merged over the `quick` preset (as a config file extending it would be).
 */
import { modelParts, evaluateTest, forecastCalibration, trainNewHead, buildDataset, featurePipeline, defaultComponents, asTrainableEncoder, evaluateSplit, type MultiTaskParts } from '@task-agnostic/training';
import { getTask } from '@task-agnostic/heads';
import { compareOnWindows, datasetOptions, deepMerge, loadConfigData, loadRun, primaryMetric, readHistory, regimeTruthAccuracy, resolveConfig, trainRun, parseTrainerConfig, type MetricSource } from '@task-agnostic/trainer';
import type { TaskOutputs } from '@task-agnostic/core';

const args = process.argv.slice(2);
const at = args.indexOf('--set');
const set = at >= 0 ? (JSON.parse(args[at + 1]!) as object) : {};
const runAt = args.indexOf('--run');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const loaded = runAt >= 0 ? await loadRun(args[runAt + 1]!) : null;
const cfg = loaded ? loaded.cfg : parseTrainerConfig(deepMerge(resolveConfig('quick'), set), 'experiment');
const data = loaded ? loaded.data : await loadConfigData(cfg);
const c0 = cpu();
const r = loaded ? loaded.result : await trainRun(cfg, data, { progress: false });
const trainCpu = cpu() - c0;
const ds = r.dataset;
const history = loaded ? (await readHistory(loaded.paths.history)).map((h) => ({ valTotal: Object.values(h.valLoss).reduce((a, b) => a + b, 0) })) : r.history;
console.log(`set ${JSON.stringify(set)}${loaded ? `, run ${args[runAt + 1]}` : ''}`);
console.log(`${loaded ? 'loaded' : 'trained'}: ${history.length} epochs, ${ds.train.n} training / ${ds.val.n} validation windows${loaded ? '' : `, ${trainCpu.toFixed(0)} CPU s`}`);
console.log(`val total by epoch: ${history.map((h) => h.valTotal.toFixed(3)).join(', ')}`);
const parts: MultiTaskParts = modelParts(r.model);
// --calibrated: also the regression heads after their calibration (as the main job scores them), which
// is FITTED on these validation rows (in-sample for its few parameters, e.g. the return head's shrinkage k)
for (const calibrated of args.includes('--calibrated') ? [false, true] : [false]) {
  if (calibrated) console.log(`calibrated (fitted on these rows): ${[...r.model.calibration].map(([id, c]) => `${id} ${c.method} scale [${c.scale.map((v) => v.toFixed(3)).join(', ')}]`).join('; ')}`);
  const val = evaluateTest(parts, { ...ds, test: ds.val }, 256, calibrated ? forecastCalibration(r.model) : undefined);
  const perSymbolWins: Record<string, number> = {};
  for (const [ti, t] of r.model.tasks.entries()) {
    const pm = primaryMetric(t.kind as 'classification' | 'regression');
    for (const [sym, s] of Object.entries(val[t.id]!.bySeries)) {
      let best: { name: string; value: number; outputs?: Float32Array } | null = null;
      for (const b of s.baselines) {
        const v = b.metrics[pm.name] as number;
        if (!Number.isFinite(v)) continue;
        if (!best || (pm.higherIsBetter ? v > best.value : v < best.value)) best = { name: b.name, value: v, ...(b.outputs ? { outputs: b.outputs } : {}) };
      }
      const w = s as unknown as { outputs: Float32Array; targets: Float32Array; rows: number[] };
      const m = s.metrics[pm.name] as number;
      const better = best ? (pm.higherIsBetter ? m > best.value : m < best.value) : false;
      const iv = best?.outputs ? compareOnWindows(t as unknown as MetricSource, pm.name, pm.higherIsBetter, w.outputs, best.outputs, w.targets, w.rows.length, { seed: 42 + ti }) : null;
      if (better) perSymbolWins[sym] = (perSymbolWins[sym] ?? 0) + 1;
      console.log(`${t.id.padEnd(10)} ${sym}  ${pm.name} model ${m.toFixed(4)}  best baseline ${best ? `${best.value.toFixed(4)} (${best.name})` : 'n/a'}  ${better ? 'better' : 'worse'}  [${iv?.verdictText ?? 'n/a'}]`);
    }
  }
  console.log(`beats the best baseline (point): ${JSON.stringify(perSymbolWins)} of ${r.model.tasks.length} tasks`);
}
const outs: TaskOutputs[] = [];
const per = ds.val.windowLength * ds.val.featureCount;
for (let s = 0; s < ds.val.n; s += 256) {
  const n = Math.min(256, ds.val.n - s);
  outs.push(...r.model.predict(ds.val.x.subarray(s * per, (s + n) * per), n));
}
const regime = r.model.tasks.find((t) => t.id === 'regime');
if (regime) {
  const g = regimeTruthAccuracy({ seriesIds: ds.val.seriesIds!, endRows: ds.val.endRows!, outputs: outs, series: data, horizon: regime.horizon });
  if (g) console.log(`regime vs TRUE regimes (validation, ${g.n} windows, ${g.spells} spells): ${(100 * g.accuracy).toFixed(1)}% [${g.blockInterval ? `${(100 * g.blockInterval.lo).toFixed(1)}, ${(100 * g.blockInterval.hi).toFixed(1)}` : 'n/a'}]; ${Object.entries(g.bySymbol).map(([k, v]) => `${k} ${(100 * v.accuracy).toFixed(1)}%`).join(', ')}; now ${(100 * g.accuracyNow).toFixed(1)}%`);
}
if (!args.includes('--no-transfer')) {
  const id = cfg.evaluate.transferTask;
  const task = getTask(id);
  const fc = defaultComponents.parseFeatureSetConfig(r.model.config.features) as Parameters<typeof featurePipeline>[0];
  const tds = buildDataset(data.map((d) => ({ symbol: d.symbol, candles: d.candles })), [task as never], featurePipeline(fc), { windowLength: cfg.model.windowLength, ...datasetOptions(cfg) });
  const budget = { ...cfg.training, epochs: cfg.evaluate.transferEpochs, seed: cfg.seed, progress: false };
  const enc = asTrainableEncoder(r.model.encoder);
  const c1 = cpu();
  const tr = await trainNewHead(enc, task as never, { train: tds.train, val: tds.val }, budget, {}, cfg.seed + 7, tds.taskStates[0]);
  const frozenCpu = cpu() - c1;
  const fm = evaluateSplit({ encoder: enc, tasks: [task], heads: [tr.head], taskStates: [tds.taskStates[0]] } as unknown as MultiTaskParts, tds.val, 256).metrics[0]!;
  const c2 = cpu();
  const sc = await trainRun({ ...cfg, training: budget }, data, { tasks: [id], progress: false });
  const scratchCpu = cpu() - c2;
  const sm = evaluateSplit(modelParts(sc.model), sc.dataset.val, 256).metrics[0]!;
  const pm = primaryMetric(task.kind as 'classification' | 'regression');
  console.log(`transfer '${id}' (validation ${pm.name}): frozen ${(fm[pm.name] as number).toFixed(4)} in ${frozenCpu.toFixed(1)} CPU s, scratch ${(sm[pm.name] as number).toFixed(4)} in ${scratchCpu.toFixed(1)} CPU s: quality ${(100 * (fm[pm.name] as number) / (sm[pm.name] as number)).toFixed(1)}%, compute ${(100 * frozenCpu / scratchCpu).toFixed(1)}%`);
}
