// Per-decision latency of the default preset (StreamingPredictor.onCandle: streaming features +
// normalise + encoder + heads, batch 1) over 1,000 candles, median and p99, split into features,
// encoder and heads. Beside it: the source design's budget (chapter 87, "Latency Budget": features
// < 10 ms, encoder < 15 ms, heads < 5 ms, total < 32 ms), this goal (p99 < 2 ms) and
// PyTorch's batch-1 latency for the same architecture (../shared/bench/README.md figures, or
// pytorch_reference.py when python3 + torch are installed).
import { execFileSync } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { candleAt, generateSyntheticMarket, readCandlesCsvSync, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { DEFAULT_FEATURE_SET, Normalizer, computeFeatures } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import { DEFAULT_TASK_IDS, StreamingPredictor, TaskAgnosticModel, defaultComponents, idleMinorGc } from '@task-agnostic/model';
import { initBackend, tf } from '@task-agnostic/tf';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

const DECISIONS = 1_000;
const WARM_DECISIONS = 100;
// A gc() even without node --expose-gc: a full collection before each variant (so no variant pays
// for the set-up's garbage) and the 'idle minor GC' rows (a trader's idle time between candles).
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  v8.setFlagsFromString('--expose-gc');
  (globalThis as { gc?: unknown }).gc = vm.runInNewContext('gc');
}
const fullGc = (globalThis as { gc: (o?: { type: 'major' | 'minor' }) => void }).gc;
const info = await initBackend({ quiet: true });

function loadCandles(): { label: string; candles: CandleColumns } {
  const dir = benchDataDir();
  const file = dir ? path.join(dir, 'candles', 'bybit_BTCUSDT_1h.csv') : null;
  if (file && existsSync(file)) return { label: 'bybit_BTCUSDT_1h.csv (real)', candles: readCandlesCsvSync(file, { interval: '1h' }).candles };
  return { label: 'synthetic 1h', candles: generateSyntheticMarket({ bars: 6_000, seed: 1 }).candles };
}

/** PyTorch batch-1 latency (median, p99 ms): measured now when torch is installed, else the README figures. */
function pytorchReference(model: 'transformer' | 'cnn'): { median: number; p99: number; source: string } {
  const readme = { transformer: { median: 0.8, p99: 0.97 }, cnn: { median: 0.47, p99: 0.57 } }[model];
  const dir = benchDataDir();
  const script = dir ? path.resolve(dir, '../bench/pytorch_reference.py') : null;
  if (script && existsSync(script) && process.env.TAT_BENCH_TORCH !== '0') {
    try {
      const out = execFileSync('python3', [script, '--model', model, '--threads', '2', '--train', '1', '--infer', '300'], {
        encoding: 'utf8',
        env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 300_000,
      });
      const j = JSON.parse(out.trim().split('\n').pop()!) as { infer1?: { median: number; p99: number } };
      if (j.infer1) return { ...j.infer1, source: 'measured now' };
    } catch {
      /* torch not installed: use the README figures */
    }
  }
  return { ...readme, source: 'shared/bench README (same machine type)' };
}

const { label, candles: all } = loadCandles();
const T = 96;
const trainBars = 3_000;
const candles = sliceColumns(all, all.length - (trainBars + DECISIONS + WARM_DECISIONS + 400), all.length);
const trainEnd = trainBars;
const m = computeFeatures(sliceColumns(candles, 0, trainEnd), DEFAULT_FEATURE_SET);
const normalizer = Normalizer.fit(m, m.warmup, trainEnd);
const taskStates = Object.fromEntries(DEFAULT_TASK_IDS.map((id) => [id, getTask(id).fit(candles, trainEnd)]));

const load = (await import('node:os')).loadavg()[0]!;
console.log(`model.bench: ${label}, backend ${info.name}, window ${T} x ${m.cols} features, tasks ${DEFAULT_TASK_IDS.join(', ')}, ${DECISIONS} decisions after ${WARM_DECISIONS} warm-up; load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
console.log('total = wall time of onCandle (the latency; the goal is judged on it); process CPU = CPU time of all threads of this process during it (wall >> CPU: the OS ran something else; CPU > wall: V8 background threads ran meanwhile)');

const rows: (string | number)[][] = [
  ['encoder (default preset)', 'heads path', 'features med/p99 ms', 'encoder med/p99 ms', 'heads med/p99 ms', 'total med/p99 ms', 'process CPU med/p99 ms', 'budget (source)', 'goal p99 < 2 ms (wall)', 'PyTorch batch-1 med/p99 ms', 'ratio p99 (ours/torch)'],
];
/** The latency rows of `model` on each heads path (per-head, fused, fused + idle minor GC). */
function measure(name: string, model: TaskAgnosticModel, torch: { median: number; p99: number; source: string } | null): void {
  for (const [fuseHeads, idleGc] of [[false, false], [true, false], [true, true]] as [boolean, boolean][]) {
    const sp = new StreamingPredictor(model, { fuseHeads });
    fullGc({ type: 'major' });
    const f: number[] = [];
    const e: number[] = [];
    const h: number[] = [];
    const tot: number[] = [];
    const cpu: number[] = [];
    let decisions = 0;
    const tensorsBefore = tf.memory().numTensors;
    for (let i = trainEnd - 400; i < candles.length; i++) {
      const c = candleAt(candles, i);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = sp.onCandle(c);
      const wall = performance.now() - t0;
      const used = process.cpuUsage(c0);
      if (idleGc) idleMinorGc(); // between candles, off the decision path
      if (!r || i < trainEnd) continue;
      if (decisions++ < WARM_DECISIONS) continue;
      f.push(r.latency.featuresMs);
      e.push(r.latency.encoderMs);
      h.push(r.latency.headsMs);
      tot.push(wall);
      cpu.push((used.user + used.system) / 1000);
      if (tot.length === DECISIONS) break;
    }
    if (tf.memory().numTensors !== tensorsBefore) throw new Error('tensor leak in StreamingPredictor');
    const [pf, pe, ph, pt, pc] = [f, e, h, tot, cpu].map(percentiles);
    const fmt = (p: { median: number; p99: number }) => `${p.median.toFixed(3)} / ${p.p99.toFixed(3)}`;
    rows.push([
      `${name} (${model.paramCount()} params)`,
      sp.headsPath + (idleGc ? ' + idle minor GC' : ''),
      fmt(pf!),
      fmt(pe!),
      fmt(ph!),
      fmt(pt!),
      fmt(pc!),
      pf!.p99 < 10 && pe!.p99 < 15 && ph!.p99 < 5 && pt!.p99 < 32 ? '< 10 / 15 / 5 / 32: met' : 'MISSED',
      pt!.p99 < 2 ? 'met' : 'MISSED',
      torch ? `${torch.median} / ${torch.p99} (${torch.source})` : '-',
      torch ? (pt!.p99 / torch.p99).toFixed(2) : '-',
    ]);
    sp.dispose();
  }
}

const create = (type: 'transformer' | 'cnn', seed: number) =>
  TaskAgnosticModel.create({ windowLength: T, encoder: encoderPreset('default', type), tasks: [...DEFAULT_TASK_IDS], seed }, { normalizer, taskStates, components: defaultComponents });
// TAT_BENCH_MODEL_ONLY=ensemble: only the seed ensemble's rows
const only = process.env.TAT_BENCH_MODEL_ONLY;
if (only !== 'ensemble') {
  for (const type of ['transformer', 'cnn'] as const) {
    const model = create(type, 1);
    measure(type, model, pytorchReference(type));
    model.dispose();
  }
}
// a seed ensemble of three default transformers (the universal preset deploys three seeds): per-head
// runs the ensemble's heads (each member's heads, then the combination); fused runs every member's
// heads as two matMuls, then the combination (tryFuseEnsembleHeads)
{
  const ensemble = TaskAgnosticModel.ensemble([1, 2, 3].map((seed) => create('transformer', seed)));
  measure('ensemble of 3 transformers', ensemble, null);
  ensemble.dispose();
}
printTable(rows);
console.log("'+ idle minor GC': idleMinorGc() after each decision, outside the timed call (a trader has the time between candles; needs node --expose-gc)");
