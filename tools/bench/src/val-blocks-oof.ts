/**
 * Validation only: for a run trained with validation blocks (config data.split.valBlocks), do the
 * post-training layers (calibration, baseline blends with their tuned offsets and rule choice, head
 * fusions) fitted on validation spread over the history answer better on months they were not fitted
 * on than the same layers fitted on the contiguous validation range alone?
 *
 * For each block B in turn, the run's whole post-training pipeline (its config's calibrate, blend,
 * classMix and blendRule) is fitted on
 *   (i)  'range': the contiguous validation range only (valStart..testStart), and on
 *   (ii) 'spread': the range plus the other blocks,
 * and applied to B's windows as the evaluations apply it (evaluateTest with the fitted calibration,
 * blends and fusions). The held-out answers of every block are pooled and scored per core task
 * (macro-F1 of direction, regime, risk; MSE of volatility); "block diff" is spread minus range per
 * block, mean +- its standard error (MSE: negative is better).
 *
 *   nice -n 19 node --import tsx tools/bench/src/val-blocks-oof.ts <run-dir>
 *
 * The run's test split is never scored: the dataset's test rows are replaced by none. The run's model
 * artifact is not written (the layers fitted here stay in memory).
 */
import { weightedMacroF1 } from '@task-agnostic/heads';
import { initBackend } from '@task-agnostic/tf';
import { loadRunDataset, readRunConfig } from '@task-agnostic/trainer';
import { calibrateModel, evaluateTest, forecastCalibration, gatherSplit, modelParts } from '@task-agnostic/training';

const runDir = process.argv[2];
if (!runDir) {
  console.error('usage: val-blocks-oof.ts <run-dir>');
  process.exit(2);
}

await initBackend({ quiet: true });
const t0 = Date.now();
const { cfg, paths } = await readRunConfig(runDir);
const split = cfg.data.split;
if (!('valStart' in split) || !split.valBlocks?.length) {
  console.error(`${runDir}: its config has no data.split.valBlocks; this check needs a run trained with validation blocks`);
  process.exit(2);
}
const blocks = split.valBlocks;
const { model, dataset: ds } = await loadRunDataset(cfg, paths);
const noTest = gatherSplit(ds.test, []);
// each validation window's block by the time its window ends (-1: the contiguous range)
const blockOf = Int32Array.from({ length: ds.val.n }, (_, r) => {
  const ts = ds.series[ds.val.seriesIds![r]!]!.candles.tsMs[ds.val.endRows![r]!]!;
  return blocks.findIndex((b) => ts >= b.from && ts < b.to);
});
const range = Array.from(blockOf.keys()).filter((r) => blockOf[r] === -1);
const core = ['direction', 'volatility', 'regime', 'risk'].filter((id) => model.tasks.some((t) => t.id === id));
const modes = ['range', 'spread'] as const;
type Held = { outputs: number[]; targets: number[] };
const held: Record<string, Record<string, Held[]>> = Object.fromEntries(modes.map((m) => [m, Object.fromEntries(core.map((id) => [id, blocks.map(() => ({ outputs: [], targets: [] }))]))]));
console.log(
  `${ds.val.n} validation windows: ${range.length} in the range, ${blocks.map((b, k) => `${new Date(b.from).toISOString().slice(0, 7)} ${blockOf.filter((x) => x === k).length}`).join(', ')}; rule ${cfg.blendRule}, classMix ${cfg.classMix}`,
);
for (const [k] of blocks.entries()) {
  const out = Array.from(blockOf.keys()).filter((r) => blockOf[r] === k);
  if (out.length === 0) continue;
  const heldSplit = gatherSplit(ds.val, out);
  for (const mode of modes) {
    const fit = mode === 'range' ? range : Array.from(blockOf.keys()).filter((r) => blockOf[r] !== k);
    calibrateModel(model, { ...ds, test: noTest }, { softmax: cfg.calibrate === false ? 'crossfit' : cfg.calibrate, blend: cfg.blend, classMix: cfg.classMix, blendRule: cfg.blendRule, fitOn: gatherSplit(ds.val, fit) });
    const ev = evaluateTest(modelParts(model), { ...ds, test: heldSplit }, 256, forecastCalibration(model), model.blends, model.fusions);
    for (const id of core) {
      const h = held[mode]![id]![k]!;
      for (const s of Object.values(ev[id]!.bySeries)) {
        const o = s as unknown as { outputs: Float32Array; targets: Float32Array };
        h.outputs.push(...o.outputs);
        h.targets.push(...o.targets);
      }
    }
    console.log(`block ${k} (${out.length} held-out windows), fitted on the ${mode} (${fit.length}): blends ${[...model.blends.keys()].join('/') || '-'}, fusions ${[...model.fusions.keys()].join('/') || '-'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
const score = (id: string, h: readonly Held[]): number => {
  const o = h.flatMap((x) => x.outputs);
  const y = h.flatMap((x) => x.targets);
  if (id === 'volatility') {
    if (o.length !== y.length) throw new Error(`volatility: ${o.length} outputs for ${y.length} targets (expected one point forecast per window)`);
    return o.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0) / y.length;
  }
  const K = model.tasks.find((t) => t.id === id)!.outputDim;
  return weightedMacroF1(o, y, y.length, K, new Array<number>(K).fill(1));
};
console.log('\nheld-out blocks, pooled: the layers fitted on the range vs on the range + the other blocks; block diff = spread - range, mean +- se over the blocks');
let better = 0;
for (const id of core) {
  const a = score(id, held.range![id]!);
  const b = score(id, held.spread![id]!);
  const d = blocks.map((_, k) => score(id, [held.spread![id]![k]!]) - score(id, [held.range![id]![k]!])).filter(Number.isFinite);
  const m = d.reduce((s, x) => s + x, 0) / d.length;
  const se = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1) / d.length);
  const wins = id === 'volatility' ? b < a : b > a;
  if (wins) better++;
  const n = held.range![id]!.reduce((s, h) => s + h.targets.length, 0);
  console.log(
    `${id} (${id === 'volatility' ? 'MSE' : 'macro-F1'}): range ${a.toFixed(4)}, spread ${b.toFixed(4)} -> ${wins ? 'spread better' : 'spread not better'}; block diff ${m >= 0 ? '+' : ''}${m.toFixed(4)} +- ${se.toFixed(4)} (blocks ${d.map((x) => x.toFixed(4)).join(', ')}; n ${n})`,
  );
}
console.log(`spread better on ${better} of ${core.length} core tasks; done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
model.dispose();
