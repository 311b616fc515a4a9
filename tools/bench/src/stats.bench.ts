// Bootstrap speed (issue 17 goal: 10,000 windows x 1,000 resamples in < 1 s), against a bare
// i.i.d. bootstrap of the mean (Math.random, one draw per element) in the same run.
// Rows: the mean fast path (block sums from prefix sums), the generic path that fills index arrays
// and calls a statistic (here a mean, and a paired accuracy of two predictors on the same windows),
// and the Politis-White block length alone.
import {
  bootstrapMean,
  bootstrapPairedStatistic,
  bootstrapStatistic,
  politisWhiteBlockLength,
  Rng,
} from '@task-agnostic/core';
import { percentiles, printTable } from './data-dir.js';

const N = 10_000;
const R = 1_000;
const rng = new Rng(1);
const x = new Float64Array(N);
let e = 0;
for (let i = 0; i < N; i++) {
  e = 0.5 * e + rng.normal();
  x[i] = e;
}
const y = Int32Array.from({ length: N }, () => rng.int(3));
const pa = Int32Array.from(y, (v) => (rng.next() < 0.4 ? v : rng.int(3)));
const pb = Int32Array.from(y, (v) => (rng.next() < 0.3 ? v : rng.int(3)));

/** Wall and CPU milliseconds of each run (CPU time shows the figure when the machine is shared). */
function time(fn: () => unknown, reps = 5): { wall: number; cpu: number } {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: percentiles(wall).median, cpu: percentiles(cpu).median };
}

function bareIid(): number {
  let acc = 0;
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += x[Math.floor(Math.random() * N)]!;
    acc += s / N;
  }
  return acc;
}

const meanOf = (idx: Int32Array): number => {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += x[idx[i]!]!;
  return s / idx.length;
};
const acc = (p: Int32Array) => (idx: Int32Array): number => {
  let k = 0;
  for (let i = 0; i < idx.length; i++) if (p[idx[i]!] === y[idx[i]!]) k++;
  return k / idx.length;
};

const bare = time(bareIid);
const rows: (string | number)[][] = [
  ['what (10,000 windows x 1,000 resamples)', 'median wall ms', 'median CPU ms', 'bare i.i.d. loop wall ms', 'ratio (wall)', 'goal < 1000 ms (wall)'],
];
const add = (label: string, t: { wall: number; cpu: number }): void => {
  rows.push([label, t.wall, t.cpu, bare.wall, t.wall / bare.wall, t.wall < 1000 ? 'met' : 'MISSED']);
};
add('bootstrapMean (auto block length)', time(() => bootstrapMean(x, { seed: 1, resamples: R })));
add('bootstrapStatistic, mean over indices', time(() => bootstrapStatistic(N, meanOf, { seed: 1, resamples: R, blockSeries: x })));
add('bootstrapPairedStatistic, two accuracies', time(() => bootstrapPairedStatistic(N, acc(pa), acc(pb), { seed: 1, resamples: R, blockLength: 5 })));
add('politisWhiteBlockLength alone', time(() => politisWhiteBlockLength(x)));
printTable(rows);
