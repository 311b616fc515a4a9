// Issue 19: where the 2-rank data-parallel step's WALL time goes, decomposed by experiment (run
// at normal priority under the shared bench lock, on a machine whose other jobs are niced):
//   A  main thread alone, 64 rows (the 1-rank step: gradients + Adam)
//   B  main thread alone, 32 rows
//   C  a worker thread alone, 32 rows (the main thread idle): is a worker's wasm engine slower?
//   D  main and worker each 32 rows AT ONCE, independent (no collective): what two engines in one
//      process cost each other (memory, V8 helper threads, the scheduler)
//   E  the pool, 2 ranks x 32 rows (the real data-parallel step)
// Each engine reports its backend and whether the SIMD matMul kernels are on.
//   flock /work/bench.lock node --import tsx tools/bench/src/dp-wall.bench.ts [--steps N] [--warmup N]
import { loadavg } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Rng } from '@task-agnostic/core';
import { encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';
import { initBackend, simdMatMulAvailable, tf } from '@task-agnostic/tf';
import { threadCpu, threadCpuDelta } from './thread-cpu.js';
import { benchBatch } from './bench-batch.js';
import { Adam, DEFAULT_SPIN_MS, DataParallelPool, Harmoniser, computeStepGradients, threadCpuId, threadCpuMs, type MultiTaskParts } from '@task-agnostic/training';

const B = 64, T = 96, F = 32;
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const STEPS = arg('--steps', 60);
const WARMUP = arg('--warmup', 20);
const recipe = { module: new URL('./dp-bench-parts.mjs', import.meta.url).href, exportName: 'buildParts' };
const partsArgs = { encoder: parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0 }), inputShape: [T, F] };

interface Loop {
  readonly who: string;
  readonly backend: string;
  readonly simd: boolean;
  /** Per timed step: median and mean wall ms, mean CPU ms of this thread. */
  readonly medianMs: number;
  readonly meanMs: number;
  readonly cpuMs: number;
}

async function buildParts(): Promise<MultiTaskParts & { dispose(): void }> {
  const { buildParts: build } = (await import(recipe.module)) as { buildParts(a: unknown): MultiTaskParts & { dispose(): void } };
  return build(partsArgs);
}

/** A solo training loop (gradients + Adam) on `rows` rows; `gate` (optional) starts it in lockstep with another thread. */
async function soloLoop(who: string, rows: number, pool: DataParallelPool | null = null, gate: Int32Array | null = null): Promise<Loop> {
  const parts = await buildParts();
  const vars = [...parts.encoder.trainableVariables, ...parts.heads.flatMap((h) => [...h.variables])];
  const adam = new Adam(vars);
  const batch = benchBatch(rows);
  const harmoniser = new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
  let gradMs = 0, adamMs = 0;
  const step = (k: number) => {
    const t0 = performance.now();
    const r = pool ? pool.computeStepGradients(parts, batch, harmoniser, 'parameter', `s${k}`) : computeStepGradients(parts, batch, harmoniser, 'parameter', new Rng(`s${k}`));
    const t1 = performance.now();
    adam.apply(r.grads, 1e-3);
    tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
    gradMs += t1 - t0;
    adamMs += performance.now() - t1;
  };
  const warm: number[] = [];
  for (let k = 0; k < WARMUP; k++) {
    const t0 = performance.now();
    step(k);
    warm.push(performance.now() - t0);
  }
  if (process.argv.includes('--warm-curve') && WARMUP >= 10) {
    // median wall ms of each block of 10 warm-up steps: how long the engines take to warm up
    const blocks = Array.from({ length: Math.floor(WARMUP / 10) }, (_, b) => warm.slice(b * 10, b * 10 + 10).sort((x, y) => x - y)[5]!.toFixed(1));
    console.log(`  ${who}, ${rows} rows${pool ? ', pool' : ''}: warm-up step wall ms, median per 10 steps: ${blocks.join(' ')}`);
  }
  startTogether(gate);
  const ts: number[] = [];
  const c0 = threadCpuMs();
  const threads0 = isMainThread ? threadCpu() : [];
  for (let k = 0; k < STEPS; k++) {
    const t0 = performance.now();
    step(k + WARMUP);
    ts.push(performance.now() - t0);
  }
  const cpu = (threadCpuMs() - c0) / STEPS;
  if (isMainThread) {
    // every thread of the process: the main thread, the pool's worker (the busiest other thread), V8's helpers
    const d = threadCpuDelta(threads0, threadCpu()).filter((t) => t.tid !== process.pid).sort((a, b) => b.ms - a.ms);
    const workerMs = pool ? (d[0]?.ms ?? 0) : 0;
    const helpers = (pool ? d.slice(1) : d).reduce((a, t) => a + t.ms, 0);
    console.log(`  ${who}, ${rows} rows${pool ? ', pool' : ''}: CPU ms per timed step: main ${cpu.toFixed(2)}${pool ? `, worker ${(workerMs / STEPS).toFixed(2)}` : ''}, V8 helper threads ${(helpers / STEPS).toFixed(2)} (${pool ? d.length - 1 : d.length} threads)`);
  }
  if (pool) console.log(`  ${who}: gradients ${(gradMs / (STEPS + WARMUP)).toFixed(2)} ms, Adam + dispose ${(adamMs / (STEPS + WARMUP)).toFixed(2)} ms wall per step`);
  parts.dispose();
  return loopOf(who, ts, cpu);
}

/** With a gate (two threads at once): both start their timed part together. */
function startTogether(gate: Int32Array | null): void {
  if (!gate) return;
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  for (let v = Atomics.load(gate, 0); v < 2; v = Atomics.load(gate, 0)) Atomics.wait(gate, 0, v, 1000);
}

/** A loop's result: median (upper median of an even count) and mean wall ms per timed unit, CPU ms per unit. */
function loopOf(who: string, ts: readonly number[], cpuMs: number): Loop {
  const sorted = [...ts].sort((x, y) => x - y);
  return { who, backend: tf.getBackend(), simd: simdMatMulAvailable(tf.backend()), medianMs: sorted[Math.floor(sorted.length / 2)]!, meanMs: ts.reduce((x, y) => x + y, 0) / ts.length, cpuMs };
}

/** A plain product loop ([512,256] x [256,256] through tf.matMul): hardware sharing without tfjs bookkeeping. */
function matMulLoop(who: string, gate: Int32Array | null): Loop {
  const a = tf.randomNormal([512, 256]);
  const b = tf.randomNormal([256, 256]);
  // (tidy must not return the dataSync array: it would walk its million values as a container)
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  for (let k = 0; k < 20; k++) once();
  startTogether(gate);
  const ts: number[] = [];
  const c0 = threadCpuMs();
  for (let k = 0; k < 200; k++) {
    const t0 = performance.now();
    for (let j = 0; j < 5; j++) once();
    ts.push(performance.now() - t0);
  }
  const cpu = (threadCpuMs() - c0) / 200;
  tf.dispose([a, b]);
  return loopOf(who, ts, cpu);
}

/**
 * Ping-pong over a shared Int32Array: word 0 counts hand-offs; the main thread owns even values,
 * the worker odd ones. `spin`: busy-poll instead of Atomics.wait. Between hand-offs each side
 * works `workMs` (a busy loop, as a rank computing). Returns the round-trip wall times (main side).
 */
function pingPong(ctrl: Int32Array, side: 0 | 1, rounds: number, spin: boolean, workMs: number, cpus: number[]): number[] {
  const rt: number[] = [];
  const busy = (ms: number) => {
    const t = performance.now();
    while (performance.now() - t < ms);
  };
  for (let k = 0; k < rounds; k++) {
    const t0 = performance.now();
    if (side === 0) {
      busy(workMs);
      Atomics.add(ctrl, 0, 1);
      Atomics.notify(ctrl, 0);
    }
    // wait for the other side's hand-off
    const want = side === 0 ? 2 * k + 2 : 2 * k + 1;
    for (let v = Atomics.load(ctrl, 0); v < want; v = Atomics.load(ctrl, 0)) if (!spin) Atomics.wait(ctrl, 0, v, 50);
    cpus.push(threadCpuId());
    if (side === 1) {
      busy(workMs);
      Atomics.add(ctrl, 0, 1);
      Atomics.notify(ctrl, 0);
    }
    rt.push(performance.now() - t0);
  }
  return rt;
}

const BUSY_MS = 3000;
/** Busy for BUSY_MS after the gate opens; sample the vCPU every ms into slot (side, ms) of `g` (from index 1). Returns CPU ms. */
let busyWork = 0;
function busySample(g: Int32Array | null, side: 0 | 1): number {
  if (g) {
    Atomics.add(g, 0, 1);
    for (let v = Atomics.load(g, 0); v < 2; v = Atomics.load(g, 0));
  }
  const t0 = performance.now();
  const c0 = threadCpuMs();
  let last = -1;
  let x = 1.0001;
  busyWork = 0;
  for (;;) {
    const ms = Math.floor(performance.now() - t0);
    if (ms >= BUSY_MS) break;
    if (ms !== last) {
      if (g) g[1 + 2 * ms + side] = threadCpuId() + 1;
      last = ms;
    }
    // a fixed unit of arithmetic (counted: the work done, whatever the clocks say)
    for (let k = 0; k < 2000; k++) x = x * 1.0000001 + 1e-9;
    busyWork++;
  }
  if (x === 0) busyWork--;
  return threadCpuMs() - c0;
}

function inWorker(rows: number, gate: SharedArrayBuffer | null = null): Promise<Loop> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { entry: import.meta.url, rows, gate } });
    w.once('message', (m: Loop) => resolve(m));
    w.once('error', reject);
  });
}

if (!isMainThread) {
  await initBackend({ quiet: true });
  const { rows, gate, ping } = workerData as { rows: number; gate: SharedArrayBuffer | null; ping?: { spin: boolean; rounds: number; workMs: number } };
  const g = gate ? new Int32Array(gate) : null;
  if ((workerData as { busy?: boolean }).busy) {
    const c = busySample(g!, 1);
    parentPort!.postMessage([busyWork, c]);
    await new Promise(() => {});
  }
  if (ping) {
    const cpus: number[] = [];
    pingPong(g!, 1, ping.rounds, ping.spin, ping.workMs, cpus);
    parentPort!.postMessage(cpus);
    await new Promise(() => {});
  }
  parentPort!.postMessage(rows === 0 ? matMulLoop('worker', g) : await soloLoop('worker', rows, null, g));
  process.exit(0);
}

await initBackend({ quiet: true });
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`dp-wall: default transformer (dropout 0), 4 heads, Adam, ${STEPS} timed steps after ${WARMUP}; load ${load()}`);
const rows: (string | number)[][] = [['experiment', 'thread', 'backend', 'SIMD', 'wall ms / step (median)', 'mean', 'thread CPU ms / step', 'samples/s']];
const add = (exp: string, l: Loop, samples: number) => rows.push([exp, l.who, l.backend, l.simd ? 'yes' : 'no', l.medianMs, l.meanMs, l.cpuMs, Math.round((samples / l.medianMs) * 1000)]);
const only = process.argv.indexOf('--only') >= 0 ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : ['M', 'A', 'B', 'C', 'D', 'E'];
// M: 5 products of [512,256] x [256,256] (0.67 GFLOP) per timed unit, alone and two threads at once
const MM = 5 * 2 * 512 * 256 * 256;
if (only.includes('M')) {
  const m1 = matMulLoop('main', null);
  rows.push(['M products alone', 'main', m1.backend, m1.simd ? 'yes' : 'no', m1.medianMs, m1.meanMs, m1.cpuMs, `${(MM / m1.medianMs / 1e6).toFixed(1)} GFLOP/s`]);
  const gate = new SharedArrayBuffer(4);
  const wp = inWorker(0, gate);
  const m = matMulLoop('main', new Int32Array(gate));
  const w = await wp;
  for (const l of [m, w]) rows.push(['M products, two threads at once', l.who, l.backend, l.simd ? 'yes' : 'no', l.medianMs, l.meanMs, l.cpuMs, `${(MM / l.medianMs / 1e6).toFixed(1)} GFLOP/s`]);
}
if (only.includes('P')) {
  // hand-off latency with and without sleeping, the threads' vCPUs at each hand-off
  for (const spin of [false, true]) {
    for (const workMs of [0, 5]) {
      const buf = new SharedArrayBuffer(4);
      const rounds = workMs ? 200 : 2000;
      const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { entry: import.meta.url, rows: -1, gate: buf, ping: { spin, rounds, workMs } } });
      const got = new Promise<number[]>((r) => w.once('message', r));
      await new Promise((r) => setTimeout(r, 1500));
      const cpus: number[] = [];
      const rt = pingPong(new Int32Array(buf), 0, rounds, spin, workMs, cpus).slice(10).sort((a, b) => a - b);
      const wc = await got;
      await w.terminate();
      const same = cpus.filter((c, i) => c === wc[i]).length / cpus.length;
      const q = (p: number) => rt[Math.floor(p * (rt.length - 1))]!;
      console.log(`P ${spin ? 'spin' : 'Atomics.wait'}, work ${workMs} ms each side: round trip median ${q(0.5).toFixed(3)} ms, p90 ${q(0.9).toFixed(3)}, p99 ${q(0.99).toFixed(3)} (minus work ${2 * workMs} ms); both threads on the same vCPU at ${(100 * same).toFixed(0)}% of hand-offs`);
    }
  }
}
if (only.includes('S')) {
  // two threads busy at once (no hand-offs): do they get a vCPU each?
  const aloneCpu = busySample(null, 0);
  const alone = busyWork;
  const u0 = process.cpuUsage();
  const buf = new SharedArrayBuffer(4 * (1 + 2 * BUSY_MS));
  const g = new Int32Array(buf);
  const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { entry: import.meta.url, rows: -1, gate: buf, busy: true } });
  const wcpu = new Promise<number>((r) => w.once('message', r));
  await new Promise((r) => setTimeout(r, 1500));
  const mcpu = busySample(g, 0);
  const mwork = busyWork;
  const [wwork, wc] = (await wcpu) as unknown as [number, number];
  const pu = process.cpuUsage(u0);
  await w.terminate();
  let both = 0, same = 0;
  for (let ms = 0; ms < BUSY_MS; ms++) {
    const a = g[1 + 2 * ms]!, b = g[2 + 2 * ms]!;
    if (a && b) {
      both++;
      if (a === b) same++;
    }
  }
  console.log(`S busy loop ${BUSY_MS} ms: alone ${alone} units; two threads at once: main ${mwork} + worker ${wwork} = ${((mwork + wwork) / alone).toFixed(2)}x alone (thread CPU ms: alone ${aloneCpu.toFixed(0)}, main ${mcpu.toFixed(0)}, worker ${wc.toFixed(0)}; process CPU while both ran ${((pu.user + pu.system) / 1000).toFixed(0)} ms); sampled together in ${both} ms, on the same vCPU in ${same} of them`);
}
if (only.includes('A')) add('A main alone, 64 rows', await soloLoop('main', B), B);
if (only.includes('B')) add('B main alone, 32 rows', await soloLoop('main', B / 2), B / 2);
if (only.includes('C')) add('C worker alone, 32 rows', await inWorker(B / 2), B / 2);
if (only.includes('D')) {
  const gate = new SharedArrayBuffer(4);
  const wp = inWorker(B / 2, gate);
  const m = await soloLoop('main', B / 2, null, new Int32Array(gate));
  const w = await wp;
  add('D both at once, 32 rows each', m, B / 2);
  add('D both at once, 32 rows each', w, B / 2);
}
if (only.includes('E')) {
  for (const spinMs of [0, DEFAULT_SPIN_MS, 50]) {
    const parts = await buildParts();
    const pool = await DataParallelPool.start(parts, { workers: 2, recipe: { ...recipe, args: partsArgs }, maxBatch: B, log: () => {}, spinMs, profile: true });
    if (!pool) throw new Error('workers did not start');
    parts.dispose();
    add(`E pool, 2 ranks x 32 rows, spin ${spinMs} ms`, await soloLoop('main (rank 0)', B, pool), B);
    await pool.close();
    // per rank per step over the whole run (warm-up included): wall, CPU, run-queue wait, barrier and idle waits
    for (const st of pool.threadStats()) {
      const per = (v: number) => (v / st.steps).toFixed(2);
      console.log(`  E spin ${spinMs}: rank ${st.rank}: step wall ${per(st.stepWallMs)} ms, CPU ${per(st.stepCpuMs)}, run queue ${per(st.runQueueMs)}, barrier waits ${per(st.barrierWaitMs)}, idle before the step ${per(st.idleWaitMs)},${st.rank === 0 ? ` serial (before the command, after the last barrier) ${per(st.serialMs)},` : ''} JS alloc ${per(st.allocatedMB)} MB, GCs ${per(st.gcCount)}${st.rank > 0 ? `, woke on rank 0's vCPU in ${st.startsOnRank0Cpu} of ${st.steps} steps` : ''}`);
    }
  }
}
console.table(rows.slice(1).map((r) => Object.fromEntries(rows[0]!.map((h, i) => [h, typeof r[i] === 'number' ? Number((r[i] as number).toFixed(2)) : r[i]]))));
console.log(`load at the end: ${load()}`);
