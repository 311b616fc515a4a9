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
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { initBackend, tf } from '@task-agnostic/tf';
import { Adam, DataParallelPool, Harmoniser, computeStepGradients, type MultiTaskBatch, type MultiTaskParts } from '@task-agnostic/training';
import { Rng } from '@task-agnostic/core';
import { encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';
import { printTable } from './data-dir.js';
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

function benchBatch(n: number): MultiTaskBatch {
  const rng = new Rng('bench-batch');
  const x = new Float32Array(n * T * F).map(() => rng.normal());
  const dims = [3, 1, 4, 1];
  const targets = dims.map((o, i) => {
    const t = new Float32Array(n * o);
    for (let r = 0; r < n; r++) {
      if (i === 0 || i === 2) t[r * o + Math.floor(rng.next() * o)] = 1;
      else t[r] = rng.normal();
    }
    return t;
  });
  return { x, n, targets, targetDims: dims };
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
