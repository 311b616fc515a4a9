/**
 * Data-parallel training over worker_threads. N ranks: the main thread (rank 0, whose model the
 * trainer owns, checkpoints and evaluates) and N-1 worker threads, each with its own tfjs engine
 * (wasm: one thread each) and its own copy of the model, built from a `PartsRecipe`.
 *
 * One step: rank 0 writes the current weights, the batch and a small JSON header (tasks, mode,
 * harmoniser state, PCGrad's rng key) into a SharedArrayBuffer and wakes the workers; every rank
 * computes step.ts's gradients on its slice of the batch, reducing losses, per-task gradients and
 * gradient norms through the collective (collective.ts); rank 0 gets the full-batch gradients and
 * the trainer applies its usual optimiser step once. The next step's weight copy puts the same
 * weights on every rank, so the optimiser (Adam, its state, the LR schedule, the harmoniser's
 * updates, checkpoints and resume) exists once, on rank 0, and cannot drift between ranks.
 *
 * Equality with one thread: the reduced gradient is sum_k (n_k / n) g_k instead of g over the
 * whole batch, which is the same value up to float32 summation order (tested: within 1e-5
 * relative per step). Dropout masks and the MoE load-balance loss (computed per slice) differ
 * from one-thread training; with dropout 0 and no MoE the runs agree within that tolerance.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ConfigError, Rng } from '@task-agnostic/core';
import { KernelRunner, currentBackend, tf } from '@task-agnostic/tf';
import { DataParallelError, DEFAULT_SPIN_MS, SharedCollective, collectiveBytes, sliceOf, tensorValues, CTRL } from './collective.js';
import type { Harmoniser } from './harmoniser.js';
import { computeStepGradients, type GradientMode, type MultiTaskBatch, type MultiTaskParts, type StepGradients } from './step.js';
import { RankProfiler, readRankStats, threadCpuId, type RankStats } from './thread-profile.js';

/**
 * How a worker builds its copy of the model: `module` (a file URL or package specifier the worker
 * can import) exports `exportName(args)` returning MultiTaskParts (or a promise of them) with the
 * same tasks, in the same order, and the same variable shapes as the main thread's. The weights
 * are copied from rank 0 before every step, so initial values do not matter.
 * `module: 'builtin:model'` builds encoder and heads from `ModelPartsArgs` (data-parallel-recipe.ts).
 */
export interface PartsRecipe {
  readonly module: string;
  readonly exportName?: string;
  readonly args?: unknown;
}

export interface DataParallelOptions {
  /** Ranks including the main thread (>= 1; more than the core count is clamped with a message). */
  readonly workers: number;
  readonly recipe: PartsRecipe;
  /** The largest batch a step will get. */
  readonly maxBatch: number;
  /** Longest wait for the other ranks inside a step (default 120 s). */
  readonly timeoutMs?: number;
  /** Longest wait for the workers to start (default 120 s). */
  readonly startTimeoutMs?: number;
  /** Where messages go (fallback, clamping); default stderr. */
  readonly log?: (line: string) => void;
  /** Test support: each worker sleeps this long after it reports ready (as if descheduled). */
  readonly delayAfterReadyMs?: number;
  /**
   * Count where each rank's time goes (thread CPU per step, barrier and idle waits, GC pauses and
   * JS allocation; `pool.threadStats()`). Off by default (it costs a GC profiler per isolate).
   */
  readonly profile?: boolean;
  /**
   * Each worker isolate's young generation in MB (V8 `maxYoungGenerationSizeMb`; default
   * `DEFAULT_WORKER_YOUNG_GENERATION_MB`). Larger: fewer scavenges and less promoted garbage, more
   * resident memory. The main thread's is the process's (`node --max-semi-space-size`).
   */
  readonly youngGenerationMb?: number;
  /**
   * How long (ms) a rank polls before it sleeps when it waits for another rank or for the next
   * step (default `DEFAULT_SPIN_MS`; 0 = sleep at once, the behaviour before issue 19's dp19b).
   */
  readonly spinMs?: number;
}

/** The worker isolates' young generation (MB) unless `youngGenerationMb` says otherwise. */
export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 16;

/** The rank count to use: `requested` checked against the machine's cores. */
export function resolveWorkers(requested: number | 'auto' | undefined, log: (line: string) => void, cores = availableParallelism()): number {
  if (requested === undefined || requested === 'auto') return Math.max(1, cores);
  if (!Number.isInteger(requested) || requested < 1) throw new ConfigError(`workers must be a positive integer (1 = no worker threads), got ${requested}`, 'training.workers');
  if (requested > cores) {
    log(`training: ${requested} workers requested but this machine has ${cores} cores; using ${cores}`);
    return cores;
  }
  return requested;
}

function allVariables(parts: MultiTaskParts): tf.Variable[] {
  return [...parts.encoder.variables, ...parts.heads.flatMap((h) => [...h.variables])];
}

/** What the step header carries to the workers. */
export interface StepHeader {
  readonly taskIds: string[];
  readonly freezeEncoder: boolean;
  readonly mode: GradientMode;
  readonly harmoniser: { name: string; state: unknown; scale: number[]; kinds: ('classification' | 'regression')[] };
  readonly rngKey: string;
  readonly n: number;
  readonly targetDims: number[];
  readonly weightCount: number;
}

export interface SharedLayout {
  readonly ranks: number;
  readonly slotLen: number;
  readonly headerBytes: number;
  /** Float32 values in the data region (weights, windows, targets). */
  readonly dataLen: number;
}

export const HEADER_BYTES = 1 << 16;

export function sharedRegions(buffer: SharedArrayBuffer, l: SharedLayout): { header: Uint8Array; data: Float32Array; collectiveEnd: number } {
  const cb = collectiveBytes({ ranks: l.ranks, slotLen: l.slotLen });
  const header = new Uint8Array(buffer, cb, l.headerBytes);
  const data = new Float32Array(buffer, cb + l.headerBytes, l.dataLen);
  return { header, data, collectiveEnd: cb };
}

const TS_MODULE = /\.[mc]?tsx?$/;

/**
 * The worker's execArgv: the parent's without inspector flags, and without a TypeScript loader
 * (`--import tsx`, `--loader tsx`, `--require tsx/cjs`) when the worker does not need one (a built
 * entry and a JavaScript or built-in recipe; the entry from sources registers tsx itself): a
 * loader costs each worker thread memory (peak RSS) and start-up time for nothing.
 */
export function workerExecArgv(execArgv: readonly string[], needsTsLoader: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a.startsWith('--inspect')) continue;
    if (!needsTsLoader) {
      const m = /^--(import|loader|experimental-loader|require)(?:=(.*))?$/.exec(a);
      if (m) {
        const value = m[2] ?? execArgv[i + 1] ?? '';
        if (/^tsx(\/|$)/.test(value)) {
          if (m[2] === undefined) i++;
          continue;
        }
      }
      if (a === '-r' && /^tsx(\/|$)/.test(execArgv[i + 1] ?? '')) {
        i++;
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

/**
 * The flags Node rejects in a worker's execArgv, from its ERR_WORKER_INVALID_EXEC_ARGV error
 * ("Initiated Worker with invalid execArgv flags: --a=1, --b"), or null for another error. V8 and
 * per-process options (`--max-old-space-size=N`, `--single-threaded-gc`, `--stack-size=N`) are
 * rejected there; they apply to the whole process anyway (worker heaps: `resourceLimits`).
 */
export function rejectedExecArgv(err: unknown): string[] | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || e.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return null;
  const m = /flags: (.*)$/s.exec(String(e.message ?? ''));
  return m ? m[1]!.split(',').map((f) => f.trim()).filter((f) => f.length > 0) : [];
}

/**
 * new Worker(file, options), retried without the execArgv flags Node rejects in a worker (a
 * process started as `node --max-old-space-size=4096 ...` used to fall back to one thread).
 */
export function startWorker(file: string, options: WorkerOptions & { execArgv: string[] }): Worker {
  try {
    return new Worker(file, options);
  } catch (err) {
    const bad = rejectedExecArgv(err);
    if (bad === null) throw err;
    return new Worker(file, { ...options, execArgv: options.execArgv.filter((a) => !bad.includes(a)) });
  }
}

function workerEntry(): { file: string; entry?: string } {
  const here = import.meta.url;
  // from sources (vitest, tsx) a small .mjs registers tsx in the worker, then loads the .ts entry
  if (here.endsWith('.ts')) return { file: fileURLToPath(new URL('./data-parallel-worker-dev.mjs', here)), entry: new URL('./data-parallel-worker.ts', here).href };
  return { file: fileURLToPath(new URL('./data-parallel-worker.js', here)) };
}

/** A started pool of worker threads, driven synchronously by the training loop on rank 0. */
export class DataParallelPool {
  private readonly collective: SharedCollective;
  private readonly header: Uint8Array;
  private readonly data: Float32Array;
  private readonly exited = new Map<number, string>();
  private closed = false;
  private broken: DataParallelError | null = null;
  private readonly profiler: RankProfiler | null;

  private constructor(
    readonly ranks: number,
    private readonly workers: Worker[],
    private readonly buffer: SharedArrayBuffer,
    private readonly layout: SharedLayout,
    private readonly fullParts: MultiTaskParts,
    timeoutMs: number,
    profile: boolean,
    spinMs: number,
  ) {
    this.collective = new SharedCollective(buffer, { ranks, slotLen: layout.slotLen }, 0, timeoutMs, spinMs);
    this.profiler = profile ? new RankProfiler(0) : null;
    const r = sharedRegions(buffer, layout);
    this.header = r.header;
    this.data = r.data;
    workers.forEach((w, i) => {
      w.on('exit', (code) => {
        this.exited.set(i + 1, `exited with code ${code}`);
      });
      w.on('error', (err) => {
        this.exited.set(i + 1, `failed: ${err.message}`);
      });
    });
  }

  /**
   * Starts `options.workers - 1` worker threads that build their model from `options.recipe`.
   * Returns null (after logging why) when they cannot start: training then runs on one thread.
   */
  static async start(parts: MultiTaskParts, options: DataParallelOptions): Promise<DataParallelPool | null> {
    const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const ranks = resolveWorkers(options.workers, log);
    if (ranks <= 1) return null;
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
      log('training: SharedArrayBuffer is not available; training on one thread');
      return null;
    }
    const vars = allVariables(parts);
    const [T, F] = parts.encoder.inputShape;
    const weightLen = vars.reduce((a, v) => a + v.size, 0);
    const targetLen = parts.tasks.reduce((a, t) => a + t.outputDim, 0);
    const maxTarget = Math.max(targetLen, ...parts.tasks.map(() => 1));
    const slotLen = Math.max(weightLen, options.maxBatch * parts.encoder.outputDim, 64);
    const layout: SharedLayout = { ranks, slotLen, headerBytes: HEADER_BYTES, dataLen: weightLen + options.maxBatch * (T * F + maxTarget * 4) };
    const bytes = collectiveBytes({ ranks, slotLen }) + HEADER_BYTES + layout.dataLen * 4;
    const buffer = new SharedArrayBuffer(bytes);
    const entry = workerEntry();
    const workers: Worker[] = [];
    const startTimeout = options.startTimeoutMs ?? 120_000;
    try {
      const ready: Promise<void>[] = [];
      for (let r = 1; r < ranks; r++) {
        const w = startWorker(entry.file, {
          execArgv: workerExecArgv(process.execArgv, entry.entry === undefined && TS_MODULE.test(options.recipe.module)),
          // a step's JS garbage is small (tensors live in the engine): a smaller young generation
          // than the 48 MB default keeps each worker's resident memory down
          resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb ?? DEFAULT_WORKER_YOUNG_GENERATION_MB },
          workerData: {
            entry: entry.entry,
            rank: r,
            buffer,
            layout,
            recipe: options.recipe,
            backend: currentBackend(),
            timeoutMs: options.timeoutMs ?? 120_000,
            delayAfterReadyMs: options.delayAfterReadyMs ?? 0,
            profile: options.profile === true,
            spinMs: options.spinMs ?? DEFAULT_SPIN_MS,
          },
        });
        workers.push(w);
        ready.push(
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`worker ${r} did not start within ${startTimeout} ms`)), startTimeout);
            w.once('message', (m: { ready?: boolean; error?: string }) => {
              clearTimeout(timer);
              if (m.ready) resolve();
              else reject(new Error(`worker ${r}: ${m.error ?? 'unknown start failure'}`));
            });
            w.once('error', (err) => {
              clearTimeout(timer);
              reject(new Error(`worker ${r}: ${err.message}`));
            });
            w.once('exit', (code) => {
              clearTimeout(timer);
              reject(new Error(`worker ${r} exited with code ${code} while starting`));
            });
          }),
        );
      }
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
      log(`training: worker threads could not start (${(err as Error).message}); training on one thread`);
      return null;
    }
    workers.forEach((w) => {
      w.removeAllListeners();
      // a pool that is never closed (its run threw) does not keep the process alive
      w.unref();
    });
    log(`training: data-parallel on ${ranks} threads (the main thread + ${ranks - 1} worker${ranks > 2 ? 's' : ''}), each on a slice of every batch`);
    return new DataParallelPool(ranks, workers, buffer, layout, parts, options.timeoutMs ?? 120_000, options.profile === true, options.spinMs ?? DEFAULT_SPIN_MS);
  }

  /**
   * Each rank's counters (rank 0 first) when the pool was started with `profile: true`, else [].
   * A worker writes its counters after each of its steps, so between steps they are current;
   * after `close()` they are final.
   */
  threadStats(): RankStats[] {
    if (!this.profiler) return [];
    if (!this.closed) this.profiler.writeTo(this.collective.statsSlot(0));
    return Array.from({ length: this.ranks }, (_, r) => readRankStats(r, this.collective.statsSlot(r)));
  }

  /**
   * One step's full-batch gradients, computed over all ranks (see computeStepGradients). `parts`
   * must be the pool's parts or a subset of its tasks (curriculum phases).
   */
  computeStepGradients(parts: MultiTaskParts, batch: MultiTaskBatch, harmoniser: Harmoniser, mode: GradientMode, rngKey: string): StepGradients {
    if (this.closed) throw new DataParallelError('the data-parallel pool is closed', -1);
    if (this.broken) throw this.broken;
    // Too few rows to share: rank 0 computes the step alone (weights go out with the next step).
    if (batch.n < this.ranks) return computeStepGradients(parts, batch, harmoniser, mode, new Rng(rngKey));
    for (const [rank, why] of this.exited) {
      this.broken = new DataParallelError(`data-parallel step failed: worker ${rank}: ${why}`, rank);
      throw this.broken;
    }
    const vars = allVariables(parts);
    const weightCount = vars.reduce((a, v) => a + v.size, 0);
    const [T, F] = parts.encoder.inputShape;
    const targetLen = batch.targetDims.reduce((a, d) => a + d, 0);
    if (weightCount + batch.n * (T * F + targetLen) > this.layout.dataLen) {
      throw new DataParallelError(`a batch of ${batch.n} rows does not fit the data-parallel buffer (started for smaller batches)`, -1);
    }
    for (const t of parts.tasks) if (!this.fullParts.tasks.some((u) => u.id === t.id)) throw new ConfigError(`task '${t.id}' is not in the data-parallel pool's model`, 'tasks');
    // rank 0's step CPU includes writing the header, weights and batch
    this.profiler?.begin();
    const header: StepHeader = {
      taskIds: parts.tasks.map((t) => t.id),
      freezeEncoder: parts.freezeEncoder === true,
      mode,
      harmoniser: { name: harmoniser.name, state: harmoniser.getState(), scale: [...harmoniser.scale], kinds: parts.tasks.map((t) => t.kind) },
      rngKey,
      n: batch.n,
      targetDims: [...batch.targetDims],
      weightCount,
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    if (json.length + 4 > this.header.length) throw new DataParallelError('the step header is too long', -1);
    new DataView(this.header.buffer, this.header.byteOffset, 4).setUint32(0, json.length, true);
    this.header.set(json, 4);
    let at = 0;
    // straight from the backend's memory (cpu, wasm: no copy in between)
    const runner = KernelRunner.forCurrentBackend();
    for (const v of vars) {
      this.data.set(tensorValues(runner, v), at);
      at += v.size;
    }
    this.data.set(batch.x, at);
    at += batch.x.length;
    for (const t of batch.targets) {
      this.data.set(t, at);
      at += t.length;
    }
    // profiling: which vCPU rank 0 sends the command from (a worker woken onto it shares its core)
    if (this.profiler) {
      Atomics.store(this.collective.ctrl, CTRL.rank0Cpu, threadCpuId());
      this.profiler.serial(performance.now() - this.profiler.begunAt);
    }
    Atomics.add(this.collective.ctrl, CTRL.command, 1);
    Atomics.notify(this.collective.ctrl, CTRL.command);
    const { offset, rows } = sliceOf(batch.n, this.ranks, 0);
    const slice: MultiTaskBatch = {
      x: batch.x.subarray(offset * T * F, (offset + rows) * T * F),
      n: rows,
      targets: batch.targets.map((t, i) => t.subarray(offset * batch.targetDims[i]!, (offset + rows) * batch.targetDims[i]!)),
      targetDims: batch.targetDims,
    };
    const w0 = this.collective.waitMs;
    try {
      const r = computeStepGradients(parts, slice, harmoniser, mode, new Rng(rngKey), this.collective.forSlice(offset, rows, batch.n));
      if (this.profiler) {
        this.profiler.serial(performance.now() - this.collective.leftAt);
        this.profiler.step(this.collective.waitMs - w0, 0);
      }
      return r;
    } catch (err) {
      const e = err instanceof DataParallelError ? err : new DataParallelError(`data-parallel step failed on the main thread: ${(err as Error).message}`, 0);
      if (!(err instanceof DataParallelError)) this.collective.fail(0, (err as Error).message);
      this.broken = e;
      // a plain error of the step itself (a NaN loss) keeps its own type for the caller
      throw err instanceof DataParallelError ? e : err;
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.profiler) {
      this.profiler.writeTo(this.collective.statsSlot(0));
      this.profiler.stop();
    }
    Atomics.store(this.collective.ctrl, CTRL.quit, 1);
    Atomics.add(this.collective.ctrl, CTRL.command, 1);
    Atomics.notify(this.collective.ctrl, CTRL.command);
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().then(() => resolve(), () => resolve()), 2000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    void this.buffer;
  }
}

/** Fewest batch rows per rank worth a worker thread (smaller slices cost more in syncing than they save). */
export const MIN_ROWS_PER_RANK = 16;
/**
 * Least CPU time of one forward pass over a rank's slice for which 'auto' uses worker threads:
 * below it, the per-step hand-offs between threads cost more than the split saves (measured: the
 * tiny MLP preset trained 2-3x slower per epoch on two ranks on a loaded 2-core machine).
 */
export const MIN_AUTO_FORWARD_MS_PER_RANK = 4;

/**
 * CPU milliseconds of one training-mode forward pass of encoder and heads over `rows` zero
 * windows (the least of three after a warm-up, so compilation is not counted). CPU time of the
 * process, not wall time, so other load on the machine does not inflate it much.
 */
export function forwardCpuMs(parts: MultiTaskParts, rows: number): number {
  const [T, F] = parts.encoder.inputShape;
  const x = tf.zeros([rows, T, F]) as tf.Tensor3D;
  try {
    let ms = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 4; k++) {
      const c0 = process.cpuUsage();
      tf.tidy(() => {
        const z = parts.encoder.apply(x, { training: true });
        const outs = parts.heads.map((h) => h.apply(z, { training: true }));
        outs.forEach((o) => o.dataSync());
      });
      const c = process.cpuUsage(c0);
      if (k > 0) ms = Math.min(ms, (c.user + c.system) / 1000);
    }
    return ms;
  } finally {
    x.dispose();
  }
}

/**
 * The pool a training run uses, or null for one thread. config.workers: a number is used as
 * given (checked against the cores, at least MIN_ROWS_PER_RANK rows per rank); 'auto' = the core
 * count where one forward pass over a rank's slice takes at least MIN_AUTO_FORWARD_MS_PER_RANK of
 * CPU (small models train faster on one thread: syncing costs more than the split saves). Without a
 * recipe, or where workers cannot start, one thread (with a message when workers were asked for).
 */
export async function openDataParallel(
  parts: MultiTaskParts,
  config: { readonly workers: number | 'auto'; readonly batchSize: number },
  recipe: PartsRecipe | undefined,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  minForwardMsPerRank = MIN_AUTO_FORWARD_MS_PER_RANK,
): Promise<DataParallelPool | null> {
  let ranks = Math.min(resolveWorkers(config.workers, log), Math.max(1, Math.floor(config.batchSize / MIN_ROWS_PER_RANK)));
  if (ranks <= 1) return null;
  if (!recipe) {
    if (config.workers !== 'auto') log(`training: ${config.workers} workers requested but this caller gives no way to rebuild the model in a worker; training on one thread`);
    return null;
  }
  if (config.workers === 'auto') {
    const ms = forwardCpuMs(parts, config.batchSize);
    while (ranks > 1 && ms / ranks < minForwardMsPerRank) ranks--;
    if (ranks <= 1) return null;
  }
  return DataParallelPool.start(parts, { workers: ranks, recipe, maxBatch: config.batchSize, log });
}
