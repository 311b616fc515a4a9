/**
 * The worker thread of data-parallel training (see data-parallel.ts): builds its model from the
 * recipe, then for every step command copies rank 0's weights, computes its slice's gradients
 * through the collective and waits for the next command. Any failure (its own error, or its
 * thread exiting) is written into the shared buffer so the other ranks stop with a message
 * naming this worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '@task-agnostic/core';
import { initBackend, tf, type BackendName } from '@task-agnostic/tf';
import { CTRL, DEFAULT_SPIN_MS, SharedCollective, sliceOf, spinUntilChange } from './collective.js';
import { buildModelParts, type ModelPartsArgs } from './data-parallel-recipe.js';
import { sharedRegions, type PartsRecipe, type SharedLayout, type StepHeader } from './data-parallel.js';
import { Harmoniser, type HarmoniserName, type HarmoniserState } from './harmoniser.js';
import { computeStepGradients, type MultiTaskBatch, type MultiTaskParts } from './step.js';
import { RankProfiler, threadCpuId } from './thread-profile.js';

interface Init {
  readonly rank: number;
  readonly buffer: SharedArrayBuffer;
  readonly layout: SharedLayout;
  readonly recipe: PartsRecipe;
  readonly backend: string;
  readonly timeoutMs: number;
  /** Test support: sleep this long after announcing readiness (a worker descheduled at start). */
  readonly delayAfterReadyMs?: number;
  /** Count this rank's CPU, waits and GC into its slot of the shared stats region. */
  readonly profile?: boolean;
  /** How long waits poll before they sleep (collective.ts DEFAULT_SPIN_MS). */
  readonly spinMs?: number;
}

const init = workerData as Init;
const spinMs = init.spinMs ?? DEFAULT_SPIN_MS;
const collective = new SharedCollective(init.buffer, { ranks: init.layout.ranks, slotLen: init.layout.slotLen }, init.rank, init.timeoutMs, spinMs);
const { header, data } = sharedRegions(init.buffer, init.layout);
let inStep = false;
process.on('exit', (code) => {
  if (Atomics.load(collective.ctrl, CTRL.quit) === 0) collective.fail(init.rank, `exited with code ${code}${inStep ? ' mid-step' : ''}`);
});

async function buildParts(recipe: PartsRecipe): Promise<MultiTaskParts> {
  // loaded only when used: the model package pulls in features and heads (memory per worker)
  if (recipe.module === 'builtin:model') return buildModelParts(recipe.args as ModelPartsArgs);
  const mod = (await import(recipe.module)) as Record<string, unknown>;
  const fn = mod[recipe.exportName ?? 'buildParts'];
  if (typeof fn !== 'function') throw new Error(`${recipe.module} has no export ${recipe.exportName ?? 'buildParts'}`);
  return (await (fn as (a: unknown) => MultiTaskParts | Promise<MultiTaskParts>)(recipe.args)) as MultiTaskParts;
}

function allVariables(parts: MultiTaskParts): tf.Variable[] {
  return [...parts.encoder.variables, ...parts.heads.flatMap((h) => [...h.variables])];
}

function subset(full: MultiTaskParts, h: StepHeader): MultiTaskParts {
  const idx = h.taskIds.map((id) => {
    const i = full.tasks.findIndex((t) => t.id === id);
    if (i < 0) throw new Error(`task '${id}' is not in this worker's model`);
    return i;
  });
  return {
    encoder: full.encoder,
    tasks: idx.map((i) => full.tasks[i]!),
    heads: idx.map((i) => full.heads[i]!),
    ...(full.taskStates ? { taskStates: idx.map((i) => full.taskStates![i]!) } : {}),
    ...(h.freezeEncoder ? { freezeEncoder: true } : {}),
  };
}

function runStep(full: MultiTaskParts): void {
  const len = new DataView(header.buffer, header.byteOffset, 4).getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(header.slice(4, 4 + len))) as StepHeader;
  const parts = subset(full, h);
  const vars = allVariables(parts);
  const count = vars.reduce((a, v) => a + v.size, 0);
  if (count !== h.weightCount) throw new Error(`the worker's model has ${count} weights, the main thread's ${h.weightCount}: the recipe builds a different model`);
  let at = 0;
  // A new tensor per variable, never an in-place write into the variable's memory: the wasm
  // backend caches XNNPACK operators with packed weights per tensor id (and the encoders cache
  // folded weights per dataId), so a weight overwritten in place would be read stale (measured:
  // data-parallel-wasm.test.ts fails with 0.19 relative error).
  tf.tidy(() => {
    for (const v of vars) {
      v.assign(tf.tensor(data.subarray(at, at + v.size), v.shape, 'float32'));
      at += v.size;
    }
  });
  const [T, F] = parts.encoder.inputShape;
  const { offset, rows } = sliceOf(h.n, init.layout.ranks, init.rank);
  const xAll = data.subarray(at, at + h.n * T * F);
  at += h.n * T * F;
  const targets = h.targetDims.map((d) => {
    const t = data.subarray(at, at + h.n * d);
    at += h.n * d;
    return t.subarray(offset * d, (offset + rows) * d);
  });
  // views of the shared buffer, no copies: no rank reads the batch after the step's final reduce,
  // and rank 0 writes the next batch only after it
  const batch: MultiTaskBatch = { x: xAll.subarray(offset * T * F, (offset + rows) * T * F), n: rows, targets, targetDims: h.targetDims };
  const harmoniser = new Harmoniser({ name: h.harmoniser.name as HarmoniserName }, h.harmoniser.kinds, h.harmoniser.scale);
  harmoniser.setState(h.harmoniser.state as HarmoniserState);
  const r = computeStepGradients(parts, batch, harmoniser, h.mode, new Rng(h.rngKey), collective.forSlice(offset, rows, h.n));
  tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
}

async function main(): Promise<void> {
  let full: MultiTaskParts;
  try {
    await initBackend({ prefer: init.backend as BackendName, quiet: true });
    full = await buildParts(init.recipe);
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message });
    Atomics.store(collective.ctrl, CTRL.quit, 1);
    return;
  }
  // The command count is read BEFORE announcing readiness: rank 0 sends the first step as soon as
  // it hears 'ready', so a worker descheduled between the message and a later read would take the
  // first step's count as already seen, sleep through it and leave rank 0 waiting until its timeout.
  let seen = Atomics.load(collective.ctrl, CTRL.command);
  const profiler = init.profile ? new RankProfiler(init.rank) : null;
  if (profiler) profiler.writeTo(collective.statsSlot(init.rank));
  parentPort!.postMessage({ ready: true });
  if (init.delayAfterReadyMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, init.delayAfterReadyMs);
  // wall time waiting for the next step command (rank 0 runs the optimiser, validation, ...)
  let idle = 0;
  for (;;) {
    const i0 = profiler ? performance.now() : 0;
    // polls first: the next step usually comes within a few ms (rank 0's optimiser step), and a
    // thread that sleeps is woken onto rank 0's vCPU (DEFAULT_SPIN_MS)
    if (!spinUntilChange(collective.ctrl, CTRL.command, seen, spinMs)) Atomics.wait(collective.ctrl, CTRL.command, seen);
    if (profiler) idle += performance.now() - i0;
    const now = Atomics.load(collective.ctrl, CTRL.command);
    if (now === seen) continue;
    seen = now;
    if (Atomics.load(collective.ctrl, CTRL.quit) !== 0) break;
    if (Atomics.load(collective.ctrl, CTRL.failed) !== 0) continue;
    inStep = true;
    if (profiler) {
      profiler.begin();
      const cpu = threadCpuId();
      if (cpu >= 0 && cpu === Atomics.load(collective.ctrl, CTRL.rank0Cpu)) profiler.startedOnRank0Cpu();
    }
    const w0 = collective.waitMs;
    try {
      runStep(full);
    } catch (err) {
      if (Atomics.load(collective.ctrl, CTRL.failed) === 0) collective.fail(init.rank, (err as Error).message);
    }
    inStep = false;
    if (profiler) {
      profiler.step(collective.waitMs - w0, idle);
      idle = 0;
      profiler.writeTo(collective.statsSlot(init.rank));
    }
  }
  process.exit(0);
}

void main();
