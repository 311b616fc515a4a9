// Where a sweep trial's time goes (issue 22): runs the sweep bench's trials one after another in
// this process, as a worker process of the local pool does, and prints per trial the wall and CPU
// time of each phase (data, training up to the first epoch, the epochs, the rest of training, the
// backtests), V8's garbage collections (count, pause, bytes allocated), and the CPU of the main
// thread vs the other threads. Start two copies side by side to see which phases slow down when two
// trials share the machine (what two workers of the pool do).
// Flags: --trials N (default 4), --epochs N (default 40), --first I (first trial index, default 0).
// Run with Node flags as the workers would be: node --single-threaded --import tsx tools/bench/src/sweep-trial-profile.ts
import { GCProfiler } from 'node:v8';
import { configFor, loadConfigData, parseSpace, parseTrainerConfig, randomParams, runTrial, screenSeries, trainRun } from '@task-agnostic/trainer';
import { initBackend } from '@task-agnostic/tf';
import { printTable } from './data-dir.js';
import { threadCpu, threadCpuDelta } from './thread-cpu.js';

const argv = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const TRIALS = flag('trials', 4);
const EPOCHS = flag('epochs', 40);
const FIRST = flag('first', 0);

const benchSpace = (epochs: number) =>
  parseSpace({
    base: {
      name: 'bench',
      seed: 3,
      data: { source: 'synthetic', symbols: ['SYNTHA'], bars: 3000, stride: 1 },
      model: { windowLength: 24, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'regime'] },
      training: { epochs, batchSize: 64 },
      calibrate: false,
    },
    params: {
      'training.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
      'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
    },
  });

const cpuS = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
const t00 = performance.now();
const c00 = process.cpuUsage();
await initBackend({ quiet: true });
console.log(`pid ${process.pid} flags ${process.execArgv.join(' ') || 'none'}: tfjs init ${((performance.now() - t00) / 1000).toFixed(2)} s wall, ${cpuS(process.cpuUsage(c00)).toFixed(2)} CPU-s`);

const space = benchSpace(EPOCHS);
const rows: (string | number)[][] = [['trial', 'epochs', 'data s', 'to epoch 1 s', 'epochs s', 'train rest s', 'trial total s', 'CPU s', 'main thread s', 'other threads s', 'GCs (scav/mark)', 'GC pause s', 'allocated MB']];
for (let i = FIRST; i < FIRST + TRIALS; i++) {
  const cfg = parseTrainerConfig(configFor(space, randomParams(space, 1, i)), 'trial');
  const gc = new GCProfiler();
  gc.start();
  const th0 = threadCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const data = screenSeries(cfg, await loadConfigData(cfg), () => {});
  const tData = performance.now();
  const epochAt: number[] = [];
  const r = await trainRun(cfg, data, { progress: false, onEpoch: () => epochAt.push(performance.now()) });
  const tTrain = performance.now();
  r.model.dispose();
  // the whole trial as a worker runs it (training again, then the backtests): its total
  const tr0 = performance.now();
  await runTrial({ index: i, config: configFor(space, randomParams(space, 1, i)) });
  const tTrial = performance.now() - tr0;
  const c = process.cpuUsage(c0);
  const th = threadCpuDelta(th0, threadCpu());
  const prof = gc.stop();
  let scav = 0;
  let mark = 0;
  let pause = 0;
  let alloc = 0;
  let prevAfter: number | null = null;
  for (const s of prof.statistics) {
    if (/Scavenge/i.test(s.gcType)) scav++;
    else mark++;
    pause += s.cost / 1e6; // microseconds -> seconds
    const before = s.beforeGC.heapStatistics.usedHeapSize;
    if (prevAfter !== null) alloc += Math.max(0, before - prevAfter);
    prevAfter = s.afterGC.heapStatistics.usedHeapSize;
  }
  const main = th.find((t) => t.tid === process.pid)?.ms ?? 0;
  const others = th.reduce((a, t) => a + t.ms, 0) - main;
  rows.push([
    String(i),
    String(epochAt.length),
    ((tData - t0) / 1000).toFixed(2),
    ((epochAt[0]! - tData) / 1000).toFixed(2),
    ((epochAt.at(-1)! - epochAt[0]!) / 1000).toFixed(2),
    ((tTrain - epochAt.at(-1)!) / 1000).toFixed(2),
    (tTrial / 1000).toFixed(2),
    cpuS(c).toFixed(2),
    (main / 1000).toFixed(2),
    (others / 1000).toFixed(2),
    `${scav}/${mark}`,
    pause.toFixed(2),
    (alloc / 2 ** 20).toFixed(0),
  ]);
}
console.log(`pid ${process.pid}: trials ${FIRST}..${FIRST + TRIALS - 1}, ${EPOCHS} epochs (training runs twice per trial: once timed by phase, once as the whole trial; CPU, threads and GC cover both)`);
printTable(rows);
process.exit(0);
