// Where a data-parallel training step spends its time, in CPU time per thread (so the figures
// hold on a machine other processes load): the default transformer preset (dropout 0) with the
// PyTorch peer's four heads, batch 64, Adam, on 1 rank (the main thread) and on 2 ranks (the main
// thread + one worker thread, gradients reduced through the SharedArrayBuffer collective).
//   node --import tsx tools/bench/src/data-parallel.bench.ts [--steps N] [--warmup N] [--ranks 2]
// Printed per step: CPU of the main thread split into its phases (the gradient step, Adam), CPU of
// the worker thread(s), CPU of the other threads (V8 helpers: GC, wasm tier-up compilation;
// TAT_BENCH_THREADS=1 lists them), and the step's critical path on
// free cores estimated from them: max(main, worker + the main thread's serial part: Adam and the
// hand-off before the workers start), beside the 1-rank step's CPU. The ratio of the two is the
// 2-rank speed-up the step can reach when each thread has a core of its own.
//
// --threads: where the wall time goes per thread, A/B over V8 configurations (V8 flags hold for a
// whole process, so each configuration runs 1 rank and 2 ranks in child processes of its own;
// the pool profiles itself, `profile: true`): per step the CPU of the main thread (its gradient
// step and Adam), of the worker thread and of V8's helper threads (GC, compilation), each rank's
// wall time waiting at the barriers and (worker) for the next step, GC pauses and JS heap
// allocated per step in each isolate, peak RSS, and a model of the wall time on exactly two free
// cores: max(critical path, all threads' CPU / 2). The 2-rank speed-up is taken against the best
// 1-rank configuration of the run, not the same one.
//   node --import tsx tools/bench/src/data-parallel.bench.ts --threads [--steps N] [--warmup N] [--configs a,b]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@task-agnostic/tf';
import {
  Adam,
  DataParallelPool,
  DEFAULT_WORKER_YOUNG_GENERATION_MB,
  Harmoniser,
  RankProfiler,
  computeStepGradients,
  type MultiTaskParts,
  type RankStats,
} from '@task-agnostic/training';
import { Rng } from '@task-agnostic/core';
import { encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';
import { printTable } from './data-dir.js';
import { benchBatch } from './bench-batch.js';
import { threadCpu, threadCpuDelta } from './thread-cpu.js';

const B = 64, T = 96, F = 32;
const stepsAt = process.argv.indexOf('--steps');
const STEPS = stepsAt >= 0 ? Number(process.argv[stepsAt + 1]) : 30;
const warmAt = process.argv.indexOf('--warmup');
const WARMUP = warmAt >= 0 ? Number(process.argv[warmAt + 1]) : 3;
const ranksAt = process.argv.indexOf('--ranks');
const MAX_RANKS = ranksAt >= 0 ? Number(process.argv[ranksAt + 1]) : 2;
const recipe = { module: new URL('./dp-bench-parts.mjs', import.meta.url).href, exportName: 'buildParts' };

/** This thread's CPU milliseconds (schedstat: exact). */
function selfCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

interface Row {
  label: string;
  gradMs: number;
  adamMs: number;
  mainMs: number;
  workerMs: number;
  otherMs: number;
  wallMs: number;
}

async function run(ranks: number, rows: number): Promise<Row> {
  const { buildParts } = (await import(recipe.module)) as { buildParts(a: unknown): MultiTaskParts & { dispose(): void } };
  const args = { encoder: parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0 }), inputShape: [T, F] };
  const parts = buildParts(args);
  const pool = ranks > 1 ? await DataParallelPool.start(parts, { workers: ranks, recipe: { ...recipe, args }, maxBatch: B, log: () => {} }) : null;
  if (ranks > 1 && !pool) throw new Error('workers did not start');
  const vars = [...parts.encoder.trainableVariables, ...parts.heads.flatMap((h) => [...h.variables])];
  const adam = new Adam(vars);
  const batch = benchBatch(rows);
  const harmoniser = new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
  let gradMs = 0, adamMs = 0;
  const step = (k: number, timed: boolean) => {
    const c0 = timed ? selfCpuMs() : 0;
    const r = pool ? pool.computeStepGradients(parts, batch, harmoniser, 'parameter', `s${k}`) : computeStepGradients(parts, batch, harmoniser, 'parameter', new Rng(`s${k}`));
    const c1 = timed ? selfCpuMs() : 0;
    adam.apply(r.grads, 1e-3);
    tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
    if (timed) {
      gradMs += c1 - c0;
      adamMs += selfCpuMs() - c1;
    }
  };
  for (let k = 0; k < WARMUP; k++) step(k, false);
  const before = threadCpu();
  const w0 = performance.now();
  for (let k = 0; k < STEPS; k++) step(k + WARMUP, true);
  const wallMs = (performance.now() - w0) / STEPS;
  const delta = threadCpuDelta(before, threadCpu());
  await pool?.close();
  adam.dispose();
  parts.dispose();
  const main = delta.find((t) => t.tid === process.pid)?.ms ?? 0;
  const others = delta.filter((t) => t.tid !== process.pid).sort((a, b) => b.ms - a.ms);
  // the worker threads are the busiest threads besides the main one
  const workers = others.slice(0, ranks - 1);
  const workerMs = workers.length ? Math.max(...workers.map((t) => t.ms)) : 0;
  const otherMs = others.slice(ranks - 1).reduce((a, t) => a + t.ms, 0);
  if (process.env.TAT_BENCH_THREADS === '1') console.error(`${ranks} ranks, ${rows} rows, CPU ms per step of each other thread: ${others.map((t) => `${t.name} ${(t.ms / STEPS).toFixed(1)}`).join(', ')}`);
  return { label: `${ranks} rank${ranks > 1 ? 's' : ''}, ${rows} rows`, gradMs: gradMs / STEPS, adamMs: adamMs / STEPS, mainMs: main / STEPS, workerMs: workerMs / STEPS, otherMs: otherMs / STEPS, wallMs };
}

// ---- --threads: per-thread profile, A/B over V8 configurations, each in a child process ----------

/** A V8 configuration: node flags for the whole process, and the worker isolates' young generation. */
interface V8Config {
  readonly name: string;
  readonly nodeFlags: readonly string[];
  readonly youngMb?: number;
}
// young generation = 3 x semi-space (V8: two semi-spaces + the new large-object space); the main
// isolate's semi-space grows to 16 MB by default, the workers' young generation was 16 MB (5.3 MB semi-spaces)
const V8_CONFIGS: readonly V8Config[] = [
  { name: 'default', nodeFlags: [] },
  { name: 'young48', nodeFlags: [], youngMb: 48 },
  { name: 'stgc', nodeFlags: ['--single-threaded-gc'] },
  { name: 'stgc-young48', nodeFlags: ['--single-threaded-gc'], youngMb: 48 },
  { name: 'semi32-young96', nodeFlags: ['--max-semi-space-size=32'], youngMb: 96 },
  { name: 'stgc-semi32-young96', nodeFlags: ['--single-threaded-gc', '--max-semi-space-size=32'], youngMb: 96 },
  { name: 'pool1', nodeFlags: ['--v8-pool-size=1'] },
];

interface ThreadsResult {
  readonly ranks: number;
  readonly steps: number;
  readonly wallMs: number;
  /** CPU ms per step: the main thread (and its gradient step and Adam), each worker, every other thread. */
  readonly mainMs: number;
  readonly gradMs: number;
  readonly adamMs: number;
  readonly workerMs: number[];
  readonly helperMs: number;
  readonly helperThreads: number;
  /** Per-rank counters per step (rank 0 first). */
  readonly stats: RankStats[];
  readonly rssMB: number;
}

async function threadsChild(ranks: number, youngMb: number | undefined): Promise<void> {
  await initBackend({ quiet: true });
  const { buildParts } = (await import(recipe.module)) as { buildParts(a: unknown): MultiTaskParts & { dispose(): void } };
  const args = { encoder: parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0 }), inputShape: [T, F] };
  const parts = buildParts(args);
  const pool = ranks > 1 ? await DataParallelPool.start(parts, { workers: ranks, recipe: { ...recipe, args }, maxBatch: B, profile: true, log: (l) => console.error(l), ...(youngMb ? { youngGenerationMb: youngMb } : {}) }) : null;
  if (ranks > 1 && !pool) throw new Error('workers did not start');
  const vars = [...parts.encoder.trainableVariables, ...parts.heads.flatMap((h) => [...h.variables])];
  const adam = new Adam(vars);
  const batch = benchBatch(B);
  const harmoniser = new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
  const solo = pool ? null : new RankProfiler(0);
  let gradMs = 0, adamMs = 0;
  const step = (k: number, timed: boolean) => {
    const c0 = selfCpuMs();
    if (timed) solo?.begin();
    const r = pool ? pool.computeStepGradients(parts, batch, harmoniser, 'parameter', `s${k}`) : computeStepGradients(parts, batch, harmoniser, 'parameter', new Rng(`s${k}`));
    const c1 = selfCpuMs();
    adam.apply(r.grads, 1e-3);
    tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
    if (timed) {
      gradMs += c1 - c0;
      adamMs += selfCpuMs() - c1;
      solo?.step(0, 0);
    }
  };
  for (let k = 0; k < WARMUP; k++) step(k, false);
  const none = new Float64Array(16);
  const start = new Float64Array(16);
  solo?.writeTo(start);
  const s0 = pool ? pool.threadStats() : [statsOf(0, start, none)];
  const before = threadCpu();
  const w0 = performance.now();
  for (let k = 0; k < STEPS; k++) step(k + WARMUP, true);
  const wallMs = (performance.now() - w0) / STEPS;
  const after = threadCpu();
  await pool?.close();
  const s1: RankStats[] = pool ? pool.threadStats() : (() => {
    const out = new Float64Array(16);
    solo!.writeTo(out);
    return [statsOf(0, out, none)];
  })();
  const delta = threadCpuDelta(before, after);
  const per = (x: number) => x / STEPS;
  const main = delta.find((t) => t.tid === process.pid)?.ms ?? 0;
  const workerTids = s1.slice(1).map((s) => s.tid);
  const workerMs = workerTids.map((tid) => per(delta.find((t) => t.tid === tid)?.ms ?? 0));
  const helpers = delta.filter((t) => t.tid !== process.pid && !workerTids.includes(t.tid));
  // counters per timed step: the difference of the snapshots around the timed steps
  const stats = s1.map((b, r) => {
    const a = (s0[r] ?? {}) as Partial<RankStats>;
    const o: Record<string, number> = { rank: r, tid: b.tid };
    for (const f of ['steps', 'stepCpuMs', 'barrierWaitMs', 'idleWaitMs', 'gcCount', 'gcMs', 'majorGcCount', 'majorGcMs', 'allocatedMB'] as const) o[f] = per(b[f] - (a[f] ?? 0));
    return o as unknown as RankStats;
  });
  const res: ThreadsResult = {
    ranks,
    steps: STEPS,
    wallMs,
    mainMs: per(main),
    gradMs: per(gradMs),
    adamMs: per(adamMs),
    workerMs,
    helperMs: per(helpers.reduce((a, t) => a + t.ms, 0)),
    helperThreads: helpers.length,
    stats,
    rssMB: process.resourceUsage().maxRSS / 1024,
  };
  adam.dispose();
  parts.dispose();
  console.log(JSON.stringify(res));
}

/** 1 rank without a pool: its RankProfiler's counters as RankStats (after - before). */
function statsOf(rank: number, after: Float64Array, before: Float64Array): RankStats {
  const f = ['tid', 'steps', 'stepCpuMs', 'barrierWaitMs', 'idleWaitMs', 'gcCount', 'gcMs', 'majorGcCount', 'majorGcMs', 'allocatedMB'];
  const o: Record<string, number> = { rank };
  f.forEach((k, i) => {
    o[k] = i === 0 ? after[0]! : after[i]! - before[i]!;
  });
  return o as unknown as RankStats;
}

function runThreadsChild(cfg: V8Config, ranks: number): ThreadsResult | null {
  const r = spawnSync(
    process.execPath,
    [...cfg.nodeFlags, ...process.execArgv, fileURLToPath(import.meta.url), '--threads-child', String(ranks), String(cfg.youngMb ?? 0), '--steps', String(STEPS), '--warmup', String(WARMUP)],
    { encoding: 'utf8', env: { ...process.env, TAT_QUIET_BACKEND: '1' } },
  );
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ThreadsResult;
  } catch {
    console.error(`${cfg.name}, ${ranks} ranks: child failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
}

async function threadsMode(): Promise<void> {
  const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
  const at = process.argv.indexOf('--configs');
  const names = at >= 0 ? process.argv[at + 1]!.split(',') : V8_CONFIGS.map((c) => c.name);
  const configs = names.map((n) => {
    const c = V8_CONFIGS.find((x) => x.name === n);
    if (!c) throw new Error(`unknown config '${n}' (known: ${V8_CONFIGS.map((x) => x.name).join(', ')})`);
    return c;
  });
  console.log(`data-parallel thread profile: default transformer (dropout 0), 4 heads, batch ${B}, ${STEPS} timed steps after ${WARMUP}; workers' young generation ${DEFAULT_WORKER_YOUNG_GENERATION_MB} MB unless the config says; load average ${load()}`);
  const rows: { cfg: V8Config; r: ThreadsResult; crit: number; model: number }[] = [];
  for (const cfg of configs) {
    for (const ranks of [1, 2]) {
      const r = runThreadsChild(cfg, ranks);
      if (!r) continue;
      const worker = r.workerMs.length ? Math.max(...r.workerMs) : 0;
      // the worker waits while rank 0 runs Adam and writes the next step's inputs
      const crit = worker > 0 ? Math.max(r.mainMs, worker + r.adamMs) : r.mainMs;
      const total = r.mainMs + r.workerMs.reduce((a, b) => a + b, 0) + r.helperMs;
      rows.push({ cfg, r, crit, model: Math.max(crit, total / 2) });
      console.error(`  done: ${cfg.name}, ${ranks} rank(s), load ${load()}`);
    }
  }
  const best1 = Math.min(...rows.filter((x) => x.r.ranks === 1).map((x) => x.model));
  const table: (string | number)[][] = [[
    'config', 'ranks', 'main CPU ms', 'of it: step / Adam', 'worker CPU ms', 'helper threads CPU ms', 'barrier wait ms: main / worker', 'worker idle ms',
    'GC pauses: main / worker (count, ms)', 'major GCs main / worker', 'JS alloc MB: main / worker', 'critical path ms', '2-core model ms', 'vs best 1-rank', 'wall ms (loaded)', 'peak RSS MB',
  ]];
  for (const { cfg, r, crit, model } of rows) {
    const s0 = r.stats[0]!, s1 = r.stats[1];
    table.push([
      cfg.name, r.ranks, r.mainMs, `${r.gradMs.toFixed(1)} / ${r.adamMs.toFixed(1)}`, r.workerMs.length ? r.workerMs.map((w) => w.toFixed(1)).join(' ') : '-',
      `${r.helperMs.toFixed(1)} (${r.helperThreads} threads)`, s1 ? `${s0.barrierWaitMs.toFixed(1)} / ${s1.barrierWaitMs.toFixed(1)}` : '-', s1 ? s1.idleWaitMs : '-',
      `${s0.gcCount.toFixed(2)}, ${s0.gcMs.toFixed(2)}` + (s1 ? ` / ${s1.gcCount.toFixed(2)}, ${s1.gcMs.toFixed(2)}` : ''),
      `${s0.majorGcCount.toFixed(3)}` + (s1 ? ` / ${s1.majorGcCount.toFixed(3)}` : ''),
      `${s0.allocatedMB.toFixed(1)}` + (s1 ? ` / ${s1.allocatedMB.toFixed(1)}` : ''),
      crit, model, best1 / model, r.wallMs, r.rssMB,
    ]);
  }
  printTable(table);
  console.log('per step; CPU from /proc/self/task/*/schedstat; waits are wall time (inflated by load); GC pauses from v8.GCProfiler (the isolate\'s own thread; helper-thread GC work is in "helper threads");');
  console.log("'2-core model' = max(critical path, all threads' CPU / 2): the step's wall time on exactly two free cores if the scheduler packs the threads perfectly");
  console.log(`load average at the end: ${load()}`);
}

const threadsChildAt = process.argv.indexOf('--threads-child');
if (threadsChildAt >= 0) {
  const young = Number(process.argv[threadsChildAt + 2]);
  await threadsChild(Number(process.argv[threadsChildAt + 1]), young > 0 ? young : undefined);
  process.exit(0);
}
if (process.argv.includes('--threads')) {
  await threadsMode();
  process.exit(0);
}

await initBackend({ quiet: true });
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`data-parallel step profile: default transformer (dropout 0), 4 heads, batch ${B}, ${STEPS} timed steps; load average ${load()}`);
const results: Row[] = [await run(1, B), await run(1, B / 2)];
for (let r = 2; r <= MAX_RANKS; r++) results.push(await run(r, B));
const one = results[0]!;
const table: (string | number)[][] = [['run', 'main: step CPU ms', 'main: Adam CPU ms', 'main thread CPU ms', 'worker thread CPU ms', 'other threads CPU ms', 'wall ms (loaded)', 'critical path ms', 'speed-up on free cores']];
for (const r of results) {
  // the worker waits while the main thread runs Adam and writes the next step's inputs
  const crit = r.workerMs > 0 ? Math.max(r.mainMs, r.workerMs + r.adamMs) : r.mainMs;
  table.push([r.label, r.gradMs, r.adamMs, r.mainMs, r.workerMs || '-', r.otherMs, r.wallMs, crit, r.label.endsWith(`${B / 2} rows`) ? '-' : one.mainMs / crit]);
}
printTable(table);
console.log(`load average at the end: ${load()}`);
