// @task-agnostic/heads figures:
// 1. Inference of all seven heads (one embedding row, D = 64) + decode, against the source design's
//    budget "all heads < 5 ms" and a plain-JS forward pass of the same weights as the baseline.
// 2. Label computation per task on real BTCUSDT 1h candles, against one pass of log returns.
// 3. The naive baselines' metrics on the last 20% of BTCUSDT 1h (fitted on the first 80%): the
//    numbers a trained head must beat.
import path from 'node:path';
import { generateSyntheticMarket, readCandlesCsvSync, type CandleColumns } from '@task-agnostic/core';
import { getTask, listTasks, type Head, type Task } from '@task-agnostic/heads';
import { initBackend, tf } from '@task-agnostic/tf';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

const info = await initBackend({ quiet: true });
const dir = benchDataDir();
let candles: CandleColumns;
let source: string;
if (dir) {
  candles = readCandlesCsvSync(path.join(dir, 'candles', 'bybit_BTCUSDT_1h.csv'), { interval: '1h' }).candles;
  source = `bybit_BTCUSDT_1h.csv (${candles.length} bars)`;
} else {
  candles = generateSyntheticMarket({ bars: 50_000, seed: 1 }).candles;
  source = 'synthetic market (50,000 bars; real data folder absent)';
}
console.log(`backend: ${info.name}; data: ${source}\n`);

const ids = listTasks().slice(0, 7);
const trainEnd = Math.floor(candles.length * 0.8);
const tasks: Task[] = ids.map((id) => getTask(id));
const states = tasks.map((t) => t.fit(candles, trainEnd));

// 1. inference latency
const D = 64;
const heads: Head[] = tasks.map((t, i) => t.buildHead(D, i + 1));
const emb = tf.randomNormal([1, D], 0, 1, 'float32', 1) as tf.Tensor2D;
const embJs = emb.dataSync();
const weights = heads.map((h) => h.variables.map((v) => v.dataSync() as Float32Array));
function jsForward(w: Float32Array[], out: number): Float64Array {
  const [w1, b1, w2, b2] = w as [Float32Array, Float32Array, Float32Array, Float32Array];
  const hidden = new Float64Array(64);
  for (let j = 0; j < 64; j++) {
    let s = b1[j]!;
    for (let i = 0; i < D; i++) s += embJs[i]! * w1[i * 64 + j]!;
    hidden[j] = s > 0 ? s : 0;
  }
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b2[o]!;
    for (let j = 0; j < 64; j++) s += hidden[j]! * w2[j * out + o]!;
    y[o] = s;
  }
  return y;
}
const tfTimes: number[] = [];
const jsTimes: number[] = [];
for (let rep = 0; rep < 1100; rep++) {
  let t0 = performance.now();
  for (let i = 0; i < tasks.length; i++) {
    const y = heads[i]!.apply(emb);
    const row = y.dataSync();
    y.dispose();
    tasks[i]!.decode(row, states[i]!);
  }
  if (rep >= 100) tfTimes.push(performance.now() - t0);
  t0 = performance.now();
  for (let i = 0; i < tasks.length; i++) tasks[i]!.decode(jsForward(weights[i]!, tasks[i]!.outputDim), states[i]!);
  if (rep >= 100) jsTimes.push(performance.now() - t0);
}
const tfP = percentiles(tfTimes);
const jsP = percentiles(jsTimes);
printTable([
  ['all 7 heads, 1 row, D=64, apply + decode', 'median ms', 'p99 ms', 'ratio to plain JS', 'budget (source design)'],
  [`tfjs (${info.name}) heads`, tfP.median, tfP.p99, tfP.median / jsP.median, tfP.p99 < 5 ? '< 5 ms at p99: met' : tfP.median < 5 ? '< 5 ms: met at the median, not at p99' : '< 5 ms: MISSED'],
  ['baseline: plain-JS forward of the same weights', jsP.median, jsP.p99, 1, ''],
]);
console.log('');

// 2. label throughput
function time(fn: () => unknown, reps = 5): number {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return percentiles(out).median;
}
const baseMs = time(() => {
  const r = new Float64Array(candles.length);
  for (let i = 1; i < candles.length; i++) r[i] = Math.log(candles.close[i]! / candles.close[i - 1]!);
  return r;
});
const labelRows: (string | number)[][] = [['task (default config)', 'labels ms', 'fit ms', 'labels / log-return pass']];
for (let i = 0; i < tasks.length; i++) {
  const lm = time(() => tasks[i]!.labels(candles, states[i]!));
  const fm = time(() => tasks[i]!.fit(candles, trainEnd), 1);
  labelRows.push([ids[i]!, lm, fm, lm / baseMs]);
}
const hmmTask = getTask('regime', { labeller: 'hmm' });
const hmmFit = time(() => hmmTask.fit(candles, trainEnd), 1);
const hmmState = hmmTask.fit(candles, trainEnd);
labelRows.push(['regime (labeller hmm)', time(() => hmmTask.labels(candles, hmmState)), hmmFit, 0]);
labelRows[labelRows.length - 1]![3] = (labelRows[labelRows.length - 1]![1] as number) / baseMs;
labelRows.push(['baseline: one pass of log returns', baseMs, 0, 1]);
printTable(labelRows);
console.log('');

// 3. naive baselines on the test range
const rows: number[] = [];
for (let t = trainEnd; t < candles.length; t++) rows.push(t);
const table: (string | number)[][] = [['task', 'baseline', 'n', 'accuracy', 'macroF1', 'logLoss', 'mse', 'r2', 'IC', 'qlike']];
for (const [i, task] of [...tasks.entries(), [tasks.length, hmmTask] as [number, Task]]) {
  const state = i < tasks.length ? states[i]! : hmmState;
  const l = task.labels(candles, state);
  const valid = rows.filter((t) => l.valid[t]);
  for (const b of task.baseline(candles, state, valid)) {
    const m = b.metrics;
    const f = (k: string) => (k in m ? m[k]! : '');
    table.push([i < tasks.length ? task.id : 'regime (hmm)', b.name, m.n!, f('accuracy'), f('macroF1'), f('logLoss'), f('mse'), f('r2'), f('correlation'), f('qlike')]);
  }
}
printTable(table);
const vs = states[1] as { garch: { omega: number; alpha: number; beta: number } };
console.log(`\nGARCH(1,1) on the training range: omega ${vs.garch.omega.toExponential(3)}, alpha ${vs.garch.alpha.toFixed(4)}, beta ${vs.garch.beta.toFixed(4)}`);
for (const h of heads) h.dispose();
emb.dispose();
