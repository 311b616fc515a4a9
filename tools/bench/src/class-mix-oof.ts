/**
 * Validation only: does fitting the classification layers for the training class mix (classMix
 * 'training') score better, under the training mix, than fitting them on validation as it is
 * ('validation')? Both modes' whole post-training pipeline (calibration, blends with their tuned
 * offsets and one-SE choice, head fusions) is cross-fitted over the five time folds of the
 * validation range (calibrate's timeFolds): fitted on four, applied to the fifth as the evaluations
 * apply it (evaluateTest with the fitted calibration, blends and fusions), and the held-out answers
 * of the five folds are scored with macro-F1 under the validation mix (every row weighs 1) and under
 * the training mix (a row of class k weighs p_train(k) / p_val(k), pooled over the range).
 *
 *   nice -n 19 node --import tsx tools/bench/src/class-mix-oof.ts <run-dir>
 *
 * The run's test split is never built into a score: the dataset's test rows are replaced by none.
 */
import { weightedMacroF1 } from '@task-agnostic/heads';
import { initBackend } from '@task-agnostic/tf';
import { loadRunDataset, readRunConfig } from '@task-agnostic/trainer';
import { calibrateModel, classMixChoices, evaluateTest, forecastCalibration, gatherSplit, modelParts, timeFolds } from '@task-agnostic/training';

const runDir = process.argv[2];
if (!runDir) {
  console.error('usage: class-mix-oof.ts <run-dir>');
  process.exit(2);
}

await initBackend({ quiet: true });
const t0 = Date.now();
const { cfg, paths } = await readRunConfig(runDir);
const { model, dataset: ds } = await loadRunDataset(cfg, paths);
const noTest = gatherSplit(ds.test, []);
const tasks = model.tasks.filter((t) => t.kind === 'classification' && t.outputDim > 1);
const weights = Object.fromEntries(classMixChoices(model.tasks, ds.train, ds.val, 'training').map((c) => [c.task, c.weights ?? []]));
const folds = timeFolds(ds.val, ds.series)!;
const ids = [...new Set(folds)].sort((a, b) => a - b);
const modes = ['validation', 'training'] as const;
type Held = { outputs: number[]; targets: number[] };
// [mode][task][fold] -> held-out answers
const held: Record<string, Record<string, Held[]>> = Object.fromEntries(modes.map((m) => [m, Object.fromEntries(tasks.map((t) => [t.id, ids.map(() => ({ outputs: [], targets: [] }))]))]));
console.log(`${ds.val.n} validation windows, ${ids.length} time folds, tasks ${tasks.map((t) => t.id).join(', ')}; training-mix weights ${JSON.stringify(weights)}`);
for (const f of ids) {
  const fit: number[] = [];
  const out: number[] = [];
  for (let r = 0; r < ds.val.n; r++) (folds[r] === f ? out : fit).push(r);
  const heldSplit = gatherSplit(ds.val, out);
  for (const mode of modes) {
    calibrateModel(model, { ...ds, test: noTest }, { softmax: cfg.calibrate === false ? 'crossfit' : cfg.calibrate, blend: cfg.blend, classMix: mode, fitOn: gatherSplit(ds.val, fit) });
    const ev = evaluateTest(modelParts(model), { ...ds, test: heldSplit }, 256, forecastCalibration(model), model.blends, model.fusions);
    for (const t of tasks) {
      const h = held[mode]![t.id]![f]!;
      for (const s of Object.values(ev[t.id]!.bySeries)) {
        const o = s as unknown as { outputs: Float32Array; targets: Float32Array };
        h.outputs.push(...o.outputs);
        h.targets.push(...o.targets);
      }
    }
    console.log(`fold ${f} (${out.length} held-out windows), ${mode}: blends ${[...model.blends.keys()].join('/') || '-'}, fusions ${[...model.fusions.keys()].join('/') || '-'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
const score = (h: Held[], K: number, w: readonly number[]): number => {
  const o = h.flatMap((x) => x.outputs);
  const y = h.flatMap((x) => x.targets);
  return weightedMacroF1(o, y, y.length, K, w);
};
console.log('\nout-of-fold macro-F1 of the whole pipeline (calibration, blends, fusions), pooled over the 5 folds; diff = training - validation mode, mean over folds +- its standard error');
for (const t of tasks) {
  const K = t.outputDim;
  const w = weights[t.id]!.length ? weights[t.id]! : new Array<number>(K).fill(1);
  for (const [mix, ww] of [
    ['validation mix', new Array<number>(K).fill(1)],
    ['training mix', w],
  ] as const) {
    const a = score(held.validation![t.id]!, K, ww);
    const b = score(held.training![t.id]!, K, ww);
    const d = ids.map((_, i) => score([held.training![t.id]![i]!], K, ww) - score([held.validation![t.id]![i]!], K, ww));
    const m = d.reduce((s, x) => s + x, 0) / d.length;
    const se = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1) / d.length);
    console.log(`${t.id} under the ${mix}: classMix 'validation' ${a.toFixed(4)}, 'training' ${b.toFixed(4)}; fold diff ${m >= 0 ? '+' : ''}${m.toFixed(4)} +- ${se.toFixed(4)} (folds ${d.map((x) => x.toFixed(3)).join(', ')}; n ${ds.val.n})`);
  }
}
console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
model.dispose();
