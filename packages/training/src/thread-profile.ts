/**
 * Where a data-parallel rank's time goes (issue 19): the thread's own CPU time, its waits at the
 * collective's barriers and for the next step, and V8's garbage collections in its isolate. Read
 * per thread (Linux `/proc/thread-self`), so other processes on the machine hardly move the CPU
 * figures; the waits are wall time. Used by `DataParallelPool` when started with `profile: true`:
 * every rank writes its counters into a small region of the shared buffer after each step
 * (`RANK_STAT_FIELDS` float64 values per rank), and `pool.threadStats()` reads them.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { GCProfiler } from 'node:v8';

/** One rank's counters since its pool started (`steps` steps). */
export interface RankStats {
  readonly rank: number;
  /** The OS thread id (Linux), -1 where unknown: matches /proc/PID/task/TID. */
  readonly tid: number;
  readonly steps: number;
  /** CPU time of the thread inside steps (the worker: from the step command to its end). */
  readonly stepCpuMs: number;
  /** Wall time waiting at the collective's barriers (for a slower rank). */
  readonly barrierWaitMs: number;
  /** Wall time waiting for the next step (workers: while rank 0 runs the optimiser, validation, ...). */
  readonly idleWaitMs: number;
  /** Garbage collections in this thread's isolate, and their pauses of the thread (GCProfiler `cost`). */
  readonly gcCount: number;
  readonly gcMs: number;
  /** Of those: full (mark-sweep-compact) collections. */
  readonly majorGcCount: number;
  readonly majorGcMs: number;
  /** JS heap bytes allocated (MB), summed between collections: the isolate's garbage per step x steps. */
  readonly allocatedMB: number;
  /** Wall time inside steps (as stepCpuMs: the worker from the step command to its end). */
  readonly stepWallMs: number;
  /**
   * Wall time inside steps the thread was runnable but waiting for a CPU (schedstat's run delay):
   * another thread (the other rank, a V8 helper, another process) held its vCPU.
   */
  readonly runQueueMs: number;
  /**
   * Workers: steps whose first moment (just after the step command woke the thread) found it on
   * the vCPU rank 0 ran on when it sent the command (the two ranks then share one core until the
   * scheduler moves one); rank 0: 0.
   */
  readonly startsOnRank0Cpu: number;
  /**
   * Rank 0: wall time of its serial part inside steps, while the workers wait: before the step
   * command (header, weights and batch into the shared buffer) and after the last barrier (the
   * summed gradients into tensors); workers: 0.
   */
  readonly serialMs: number;
}

/** Field order in the shared stats region. */
export const RANK_STAT_FIELDS = ['tid', 'steps', 'stepCpuMs', 'barrierWaitMs', 'idleWaitMs', 'gcCount', 'gcMs', 'majorGcCount', 'majorGcMs', 'allocatedMB', 'stepWallMs', 'runQueueMs', 'startsOnRank0Cpu', 'serialMs'] as const;

/** This thread's OS id, -1 where /proc is not readable. */
export function threadId(): number {
  try {
    const m = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/** This thread's CPU milliseconds so far (schedstat: nanoseconds on a CPU), NaN where not readable. */
export function threadCpuMs(): number {
  return threadSchedMs().cpuMs;
}

/** The vCPU this thread runs on now (/proc/thread-self/stat, field 39), -1 where not readable. */
export function threadCpuId(): number {
  try {
    const st = readFileSync('/proc/thread-self/stat', 'utf8');
    // fields after the command name (which may hold spaces) start at field 3
    const v = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[36]);
    return Number.isInteger(v) ? v : -1;
  } catch {
    return -1;
  }
}

/**
 * This thread's schedstat in ms: time on a CPU, and time runnable but waiting for one (run
 * delay); NaN where not readable.
 */
export function threadSchedMs(): { cpuMs: number; runDelayMs: number } {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { cpuMs: Number(f[0]) / 1e6, runDelayMs: Number(f[1]) / 1e6 };
  } catch {
    return { cpuMs: Number.NaN, runDelayMs: Number.NaN };
  }
}

/** Counters of one rank, accumulated by the rank's own thread. */
export class RankProfiler {
  private readonly values = new Float64Array(RANK_STAT_FIELDS.length);
  private readonly gc = new GCProfiler();
  /** usedHeapSize after the previous collection (allocation = next before - this). */
  private lastAfter = -1;

  constructor(readonly rank: number) {
    this.values[0] = threadId();
    this.gc.start();
  }

  private add(field: (typeof RANK_STAT_FIELDS)[number], v: number): void {
    this.values[RANK_STAT_FIELDS.indexOf(field)]! += v;
  }

  private at = { wall: 0, cpuMs: 0, runDelayMs: 0 };

  /** A step starts (its wall time, CPU and run delay are counted from here by `step`). */
  begin(): void {
    this.at = { wall: performance.now(), ...threadSchedMs() };
  }

  /** Rank 0's serial wall time in a step (see RankStats.serialMs). */
  serial(ms: number): void {
    this.add('serialMs', ms);
  }

  /** When the current step began (performance.now()). */
  get begunAt(): number {
    return this.at.wall;
  }

  /** A worker found itself on rank 0's vCPU at the start of a step. */
  startedOnRank0Cpu(): void {
    this.add('startsOnRank0Cpu', 1);
  }

  /** One finished step (begun with `begin`): the barrier wait it contained, the idle wait before it. */
  step(barrierWaitMs: number, idleWaitMs: number): void {
    const now = threadSchedMs();
    this.add('steps', 1);
    this.add('stepCpuMs', now.cpuMs - this.at.cpuMs);
    this.add('stepWallMs', performance.now() - this.at.wall);
    this.add('runQueueMs', now.runDelayMs - this.at.runDelayMs);
    this.add('barrierWaitMs', barrierWaitMs);
    this.add('idleWaitMs', idleWaitMs);
  }

  /** Folds in the collections since the last call (restarts the GC profiler). */
  drainGc(): void {
    const r = this.gc.stop();
    this.gc.start();
    for (const s of r.statistics) {
      this.add('gcCount', 1);
      this.add('gcMs', s.cost / 1000);
      if (s.gcType === 'MarkSweepCompact') {
        this.add('majorGcCount', 1);
        this.add('majorGcMs', s.cost / 1000);
      }
      const before = s.beforeGC.heapStatistics.usedHeapSize;
      if (this.lastAfter >= 0 && before > this.lastAfter) this.add('allocatedMB', (before - this.lastAfter) / 1e6);
      this.lastAfter = s.afterGC.heapStatistics.usedHeapSize;
    }
  }

  /** Writes the counters into `out` (this rank's slot of the shared stats region). */
  writeTo(out: Float64Array): void {
    this.drainGc();
    out.set(this.values);
  }

  stop(): void {
    this.gc.stop();
  }
}

/** Reads one rank's counters from its slot. */
export function readRankStats(rank: number, slot: Float64Array): RankStats {
  const o: Record<string, number> = { rank };
  RANK_STAT_FIELDS.forEach((f, i) => {
    o[f] = slot[i]!;
  });
  return o as unknown as RankStats;
}
