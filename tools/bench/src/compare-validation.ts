/**
 * Two trained runs (single or seed ensembles) compared on the VALIDATION split only: each run's raw
 * heads on its own rebuilt validation windows, paired on the windows both have (same series and end
 * row) against the first run's labels, per task: run - other with a 95% stationary block-bootstrap
 * interval (compareOnWindows). For choosing between runs without reading a test row.
 *
 *   node --import tsx tools/bench/src/compare-validation.ts <run> <other-run> [--from DATE] [--to DATE]
 *
 * --from / --to keep the validation windows whose last bar is in [from, to) (e.g. one half of the range).
 */
import { evaluateSplit, modelParts } from '@task-agnostic/training';
import { compareOnWindows, loadRun, primaryMetric, type MetricSource } from '@task-agnostic/trainer';
import { gatherTargets } from '@task-agnostic/heads';

const argv = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const ms = Date.parse(argv[i + 1] ?? '');
  if (!Number.isFinite(ms)) {
    console.error(`${name} needs a date (YYYY-MM-DD), got '${argv[i + 1] ?? ''}'`);
    process.exit(2);
  }
  argv.splice(i, 2);
  return ms;
};
const fromMs = flag('--from') ?? -Infinity;
const toMs = flag('--to') ?? Infinity;
const [runA, runB] = argv;
if (!runA || !runB) {
  console.error('usage: compare-validation.ts <run> <other-run>');
  process.exit(2);
}
const a = await loadRun(runA);
const b = await loadRun(runB);
const va = a.result.dataset.val;
const vb = b.result.dataset.val;
const key = (v: typeof va, i: number) => `${v.seriesIds![i]}:${v.endRows![i]}`;
const inB = new Map<string, number>();
for (let i = 0; i < vb.n; i++) inB.set(key(vb, i), i);
const ia: number[] = [];
const ib: number[] = [];
const seriesTs = a.data.map((d) => d.candles.tsMs);
for (let i = 0; i < va.n; i++) {
  const ts = seriesTs[va.seriesIds![i]!]![va.endRows![i]!]!;
  if (ts < fromMs || ts >= toMs) continue;
  const j = inB.get(key(va, i));
  if (j !== undefined) {
    ia.push(i);
    ib.push(j);
  }
}
console.log(`validation windows: ${runA} ${va.n}, ${runB} ${vb.n}, common ${ia.length}${Number.isFinite(fromMs) || Number.isFinite(toMs) ? ` ending in [${Number.isFinite(fromMs) ? new Date(fromMs).toISOString().slice(0, 10) : '-'}, ${Number.isFinite(toMs) ? new Date(toMs).toISOString().slice(0, 10) : '-'})` : ''}`);
const ea = evaluateSplit(modelParts(a.result.model), va, 256);
const eb = evaluateSplit(modelParts(b.result.model), vb, 256);
const IA = Int32Array.from(ia);
const IB = Int32Array.from(ib);
for (const [ti, t] of a.result.model.tasks.entries()) {
  const task = t as unknown as MetricSource & { id: string; kind: 'classification' | 'regression'; outputDim: number; targetDim: number };
  const pm = primaryMetric(task.kind);
  const y = gatherTargets(va.targets[ti]!, task.targetDim, IA);
  const yb = gatherTargets(vb.targets[ti]!, task.targetDim, IB);
  let differ = 0;
  for (let k = 0; k < y.length; k++) if (!Object.is(y[k], yb[k])) differ++;
  const c = compareOnWindows(task, pm.name, pm.higherIsBetter, gatherTargets(ea.outputs[ti]!, task.outputDim, IA), gatherTargets(eb.outputs[ti]!, task.outputDim, IB), y, ia.length, { seed: 42 + ti });
  const f = (x: { estimate: number; lo: number; hi: number }) => `${x.estimate.toFixed(4)} [${x.lo.toFixed(4)}, ${x.hi.toFixed(4)}]`;
  console.log(`${task.id.padEnd(10)} ${pm.name.padEnd(8)} run ${f(c.model)}  other ${f(c.other)}  run - other ${f(c.diff)}  ${c.verdictText}${differ ? ` (labels differ on ${differ} values)` : ''}`);
}
