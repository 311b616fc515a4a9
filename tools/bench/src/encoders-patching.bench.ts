// What PatchTST patching does to the transformer encoder's speed and accuracy (issue 4).
// Task: classify the true regime (5 classes) of a synthetic regime-switching market
// (core generateSyntheticMarket) from a 96-bar window of 8 simple per-bar features; train on the
// first 70% of bars, test on the rest (a gap of one window between). The same `default`
// transformer with patchLen 1, 4, 8, 16, the same number of Adam steps each; the baseline is the
// majority class of the training range.
//   node --import tsx tools/bench/src/encoders-patching.bench.ts [--quick]
import { loadavg } from 'node:os';
import { generateSyntheticMarket, Rng } from '@task-agnostic/core';
import { initBackend, tf, dense } from '@task-agnostic/tf';
import { buildEncoder, encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';
import { printTable } from './data-dir.js';

const quick = process.argv.includes('--quick');
const T = 96;
const F = 8;
const BARS = 12_000;
const STEPS = quick ? 60 : 200;
const BATCH = 64;
const CLASSES = 5;

const market = generateSyntheticMarket({ bars: BARS, seed: 7 });
const { open, high, low, close, volume } = market.candles;
const feats = new Float32Array(BARS * F);
for (let t = 1; t < BARS; t++) {
  const r = Math.log(close[t]! / close[t - 1]!);
  const r4 = t >= 4 ? Math.log(close[t]! / close[t - 4]!) : 0;
  const r16 = t >= 16 ? Math.log(close[t]! / close[t - 16]!) : 0;
  const row = [r, Math.log(high[t]! / low[t]!), Math.log(close[t]! / open[t]!), Math.log((volume[t]! + 1) / (volume[t - 1]! + 1)), r4, r16, Math.abs(r), r * r];
  feats.set(row, t * F);
}
const split = Math.floor(BARS * 0.7);
// standardise with training-range statistics only
for (let j = 0; j < F; j++) {
  let s = 0;
  let s2 = 0;
  for (let t = 1; t < split; t++) {
    s += feats[t * F + j]!;
    s2 += feats[t * F + j]! ** 2;
  }
  const m = s / (split - 1);
  const sd = Math.sqrt(Math.max(s2 / (split - 1) - m * m, 1e-12));
  for (let t = 0; t < BARS; t++) feats[t * F + j] = (feats[t * F + j]! - m) / sd;
}
const trainEnds = Array.from({ length: split - T - 1 }, (_, i) => i + T);
const testEnds = Array.from({ length: BARS - split - T }, (_, i) => split + T + i);

function windows(ends: readonly number[]): tf.Tensor3D {
  const out = new Float32Array(ends.length * T * F);
  ends.forEach((e, i) => out.set(feats.subarray((e - T + 1) * F, (e + 1) * F), i * T * F));
  return tf.tensor3d(out, [ends.length, T, F]);
}
const labels = (ends: readonly number[]) => tf.oneHot(tf.tensor1d(ends.map((e) => market.regimes[e]!), 'int32'), CLASSES);

const counts = new Array<number>(CLASSES).fill(0);
for (const e of trainEnds) counts[market.regimes[e]!]!++;
const majority = counts.indexOf(Math.max(...counts));
const baselineAcc = testEnds.filter((e) => market.regimes[e] === majority).length / testEnds.length;

const info = await initBackend({ quiet: true });
console.log(`backend ${info.name}; ${trainEnds.length} train / ${testEnds.length} test windows of ${T}x${F}; ${STEPS} Adam steps of ${BATCH}; load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
const xTest = windows(testEnds);
const yTest = testEnds.map((e) => market.regimes[e]!);
const rows: (string | number)[][] = [['patchLen', 'tokens', 'params', 'train ms/step', 'train samples/s', 'test accuracy', 'majority baseline']];
for (const patchLen of [1, 4, 8, 16]) {
  const cfg = parseEncoderConfig({ ...encoderPreset('default', 'transformer'), patchLen });
  const enc = buildEncoder(cfg, [T, F], 1);
  const w = tf.variable(tf.randomNormal([enc.outputDim, CLASSES], 0, 0.1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
  const b = tf.variable(tf.zeros([CLASSES])) as tf.Variable<tf.Rank.R1>;
  const opt = tf.train.adam(1e-3);
  const rng = new Rng(5);
  let ms = 0;
  for (let s = 0; s < STEPS; s++) {
    const ends = Array.from({ length: BATCH }, () => trainEnds[rng.int(trainEnds.length)]!);
    const x = windows(ends);
    const y = labels(ends);
    const t0 = performance.now();
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, dense(enc.apply(x, { training: true }), w, b)) as tf.Scalar, true, [...enc.trainableVariables, w, b] as tf.Variable[]);
    cost!.dataSync();
    ms += performance.now() - t0;
    tf.dispose([x, y, cost!]);
  }
  let correct = 0;
  for (let i = 0; i < testEnds.length; i += 256) {
    const n = Math.min(256, testEnds.length - i);
    const pred = tf.tidy(() => tf.argMax(dense(enc.apply(tf.slice(xTest, [i, 0, 0], [n, T, F])), w, b), 1).dataSync());
    for (let j = 0; j < n; j++) if (pred[j] === yTest[i + j]) correct++;
  }
  rows.push([String(patchLen), String(Math.ceil(T / patchLen)), String(enc.paramCount()), ms / STEPS, (BATCH * STEPS) / (ms / 1000), correct / testEnds.length, baselineAcc]);
  console.error(`  done: patchLen ${patchLen}`);
  opt.dispose();
  tf.dispose([w, b]);
  enc.dispose();
}
printTable(rows);
