/**
 * The gradient collective of data-parallel training: N ranks (rank 0 = the main thread, ranks
 * 1..N-1 = worker threads) share one SharedArrayBuffer; `allReduce` sums one Float64 vector per
 * rank in rank order, so every rank reads the same bits. Waiting uses Atomics.wait with a short
 * slice so a failed rank (its error, or a worker's exit, written into the buffer) or a timeout
 * ends the wait with a DataParallelError naming the rank instead of hanging.
 *
 * Layout (Int32 control words, then a UTF-8 failure text, then N x RANK_STAT_FIELDS Float64
 * profile counters (thread-profile.ts; written only when the pool profiles), then two Float64 slot
 * sets of N x slotLen, used alternately so a rank may write reduce k+1 while a slower rank still
 * reads reduce k).
 */
import { TaError } from '@task-agnostic/core';
import { KernelRunner, tf } from '@task-agnostic/tf';
import { RANK_STAT_FIELDS } from './thread-profile.js';

/** A step of data-parallel training failed on some rank (a worker died, threw, or timed out). */
export class DataParallelError extends TaError {
  constructor(
    message: string,
    /** The rank that failed (1..N-1 are worker threads), or -1 when unknown (timeout). */
    readonly rank: number,
  ) {
    super('DATA_PARALLEL', message);
  }
}

/** What the step code needs from a collective (see step.ts). */
export interface StepCollective {
  /** This rank's rows / the batch's rows. */
  readonly fraction: number;
  /** First batch row of this rank's slice, and the batch's total rows. */
  readonly rowOffset: number;
  readonly totalRows: number;
  /** Sums `local` over all ranks in rank order; every rank gets the same values. */
  allReduce(local: Float64Array): Float64Array;
  /** This rank (0 = the main thread, which alone uses a step's final gradients). */
  readonly rank?: number;
  /**
   * Sums `scale` x the concatenation of `parts` over all ranks (float64 in rank order, rounded once
   * to float32); null when `wantResult` is false (the rank takes part but does not need the sum).
   */
  allReduceScaled?(parts: readonly ArrayLike<number>[], scale: number, wantResult: boolean): Float32Array | null;
}

const CTRL_WORDS = 16;
/** Control word indices. */
export const CTRL = { barrierCount: 0, barrierGen: 1, failed: 2, command: 3, failLen: 5, quit: 6, rank0Cpu: 7 } as const;
const FAIL_BYTES = 1024;

/**
 * How long (ms) a rank polls a control word before it sleeps in Atomics.wait. A thread that
 * sleeps is woken by the other rank's notify, and Linux places a woken thread on the waker's CPU
 * (wake-affine): on a quiet 2-core machine both ranks then share one vCPU until the load balancer
 * moves one (measured with dp-wall.bench.ts: tools/bench/README.md, issue 19). Polling keeps each
 * rank running on its own vCPU, as OpenMP's spin-then-sleep threads do. 10 ms covers a step's
 * waits (rank 0's optimiser step and hand-off, ~2-3 ms; barrier waits) and bounds the CPU a rank
 * burns where ranks outnumber free cores; longer waits (validation between epochs) still sleep.
 */
export const DEFAULT_SPIN_MS = 10;

/** CTRL.failed while the first failing rank writes its message (then rank + 1). */
const FAIL_WRITING = -1;

/**
 * Polls ctrl[index] until it differs from `value` (true) or `spinMs` pass (false), leaving early
 * (false) when some rank has failed. No sleeping, no allocation.
 */
export function spinUntilChange(ctrl: Int32Array, index: number, value: number, spinMs: number): boolean {
  if (spinMs <= 0) return Atomics.load(ctrl, index) !== value;
  const end = performance.now() + spinMs;
  for (let k = 0; ; k++) {
    if (Atomics.load(ctrl, index) !== value) return true;
    // the clock and the failure flag every 64 polls (each poll is a few ns)
    if ((k & 63) === 63 && (Atomics.load(ctrl, CTRL.failed) !== 0 || performance.now() > end)) return false;
  }
}

export interface CollectiveLayout {
  readonly ranks: number;
  /** Float64 values per rank slot (the longest vector that may be reduced at once). */
  readonly slotLen: number;
}

const statsBytes = (ranks: number) => ranks * RANK_STAT_FIELDS.length * 8;

export function collectiveBytes(l: CollectiveLayout): number {
  return CTRL_WORDS * 4 + FAIL_BYTES + statsBytes(l.ranks) + 2 * l.ranks * l.slotLen * 8;
}

export class SharedCollective {
  readonly ctrl: Int32Array;
  private readonly failText: Uint8Array;
  private readonly slots: Float64Array;
  /** Each rank's profile counters (RANK_STAT_FIELDS values per rank). */
  readonly stats: Float64Array;
  private reduces = 0;
  /** Wall milliseconds this rank has waited at barriers for the other ranks (always counted). */
  waitMs = 0;
  /** performance.now() when this rank last left a barrier. */
  leftAt = 0;
  /** A synchronous liveness probe the main thread runs while it waits (worker exit flags). */
  probe: (() => void) | null = null;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly layout: CollectiveLayout,
    readonly rank: number,
    /** Longest wait for the other ranks before the step fails. */
    readonly timeoutMs: number,
    /** How long a wait polls before it sleeps (ms; 0 = sleep at once). */
    readonly spinMs = DEFAULT_SPIN_MS,
  ) {
    if (buffer.byteLength < collectiveBytes(layout)) throw new RangeError('collective buffer too small');
    this.ctrl = new Int32Array(buffer, 0, CTRL_WORDS);
    this.failText = new Uint8Array(buffer, CTRL_WORDS * 4, FAIL_BYTES);
    this.stats = new Float64Array(buffer, CTRL_WORDS * 4 + FAIL_BYTES, layout.ranks * RANK_STAT_FIELDS.length);
    this.slots = new Float64Array(buffer, CTRL_WORDS * 4 + FAIL_BYTES + statsBytes(layout.ranks), 2 * layout.ranks * layout.slotLen);
  }

  /**
   * Marks the collective failed by `rank` (first failure wins) and wakes every waiter. The flag is
   * claimed as FAIL_WRITING first and names the rank only once the message is written: a polling
   * rank that sees the flag in between waits for the message (check) instead of reading it empty.
   */
  fail(rank: number, message: string): void {
    if (Atomics.compareExchange(this.ctrl, CTRL.failed, 0, FAIL_WRITING) === 0) {
      const bytes = new TextEncoder().encode(message).subarray(0, FAIL_BYTES);
      this.failText.set(bytes);
      Atomics.store(this.ctrl, CTRL.failLen, bytes.length);
      Atomics.store(this.ctrl, CTRL.failed, rank + 1);
    }
    Atomics.add(this.ctrl, CTRL.barrierGen, 0);
    Atomics.notify(this.ctrl, CTRL.barrierGen);
    Atomics.notify(this.ctrl, CTRL.command);
  }

  /** Throws when some rank has failed. */
  check(): void {
    let f = Atomics.load(this.ctrl, CTRL.failed);
    if (f === 0) return;
    // the failing rank is writing its message (a few stores): wait for it, bounded
    const t0 = performance.now();
    while (f === FAIL_WRITING && performance.now() - t0 < 1_000) f = Atomics.load(this.ctrl, CTRL.failed);
    if (f === FAIL_WRITING) throw new DataParallelError('data-parallel step failed: a rank failed without writing its reason within 1 s', -1);
    const len = Atomics.load(this.ctrl, CTRL.failLen);
    const text = new TextDecoder().decode(this.failText.slice(0, len));
    const rank = f - 1;
    throw new DataParallelError(`data-parallel step failed: ${rank === 0 ? 'the main thread' : `worker ${rank}`}: ${text}`, rank);
  }

  /** Clears a failure (a new run on the same pool). Only while no rank is inside a step. */
  reset(): void {
    Atomics.store(this.ctrl, CTRL.failed, 0);
    Atomics.store(this.ctrl, CTRL.failLen, 0);
    Atomics.store(this.ctrl, CTRL.barrierCount, 0);
  }

  /**
   * Waits until ctrl[index] !== value, checking failures, the probe and the timeout. For the first
   * `spinMs` it polls without sleeping (see DEFAULT_SPIN_MS: a thread that sleeps is woken onto the
   * waker's vCPU), then sleeps in Atomics.wait slices.
   */
  waitChange(index: number, value: number, timeoutMs = this.timeoutMs): void {
    if (spinUntilChange(this.ctrl, index, value, this.spinMs)) {
      this.check();
      return;
    }
    const t0 = Date.now();
    while (Atomics.load(this.ctrl, index) === value) {
      this.check();
      this.probe?.();
      if (Date.now() - t0 > timeoutMs) {
        const msg = `no answer from the other ranks within ${timeoutMs} ms (rank ${this.rank} waiting)`;
        this.fail(this.rank, msg);
        throw new DataParallelError(`data-parallel step failed: ${msg}`, -1);
      }
      Atomics.wait(this.ctrl, index, value, 20);
    }
    this.check();
  }

  /** This rank's slot of the profile counters. */
  statsSlot(rank: number): Float64Array {
    const n = RANK_STAT_FIELDS.length;
    return this.stats.subarray(rank * n, (rank + 1) * n);
  }

  /** All ranks arrive before any leaves. */
  barrier(): void {
    const gen = Atomics.load(this.ctrl, CTRL.barrierGen);
    if (Atomics.add(this.ctrl, CTRL.barrierCount, 1) === this.layout.ranks - 1) {
      Atomics.store(this.ctrl, CTRL.barrierCount, 0);
      Atomics.add(this.ctrl, CTRL.barrierGen, 1);
      Atomics.notify(this.ctrl, CTRL.barrierGen);
      this.check();
      this.leftAt = performance.now();
      return;
    }
    const t0 = performance.now();
    try {
      this.waitChange(CTRL.barrierGen, gen);
    } finally {
      this.leftAt = performance.now();
      this.waitMs += this.leftAt - t0;
    }
  }

  /** Sums `local` over ranks in rank order (every rank must call it with the same length). */
  allReduce(local: Float64Array): Float64Array {
    const { ranks, slotLen } = this.layout;
    const slots = this.slots;
    const out = new Float64Array(local.length);
    for (let start = 0; start < local.length || start === 0; start += slotLen) {
      const len = Math.min(slotLen, local.length - start);
      const set = this.reduces++ & 1;
      const base = set * ranks * slotLen;
      slots.set(local.subarray(start, start + len), base + this.rank * slotLen);
      this.barrier();
      // indexed loops over the shared array (a subarray per rank costs ~2x here)
      for (let r = 0; r < ranks; r++) {
        const o = base + r * slotLen;
        for (let k = 0; k < len; k++) out[start + k]! += slots[o + k]!;
      }
      if (len <= 0) break;
    }
    return out;
  }

  /**
   * allReduce for gradients: this rank's `parts` (each value x `scale`, in float64) are written
   * straight into its slot (no intermediate array), the slots are summed in rank order in float64
   * (the same bits as allReduce: 0 + s_0 = s_0) and rounded once into a float32 result, or not read
   * at all when `wantResult` is false. Parts longer than a slot go through allReduce in chunks.
   */
  allReduceScaled(parts: readonly ArrayLike<number>[], scale: number, wantResult: boolean): Float32Array | null {
    const { ranks, slotLen } = this.layout;
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > slotLen) {
      const flat = new Float64Array(total);
      let at = 0;
      for (const p of parts) {
        for (let k = 0; k < p.length; k++) flat[at + k] = p[k]! * scale;
        at += p.length;
      }
      const sum = this.allReduce(flat);
      return wantResult ? Float32Array.from(sum) : null;
    }
    const slots = this.slots;
    const set = this.reduces++ & 1;
    const base = set * ranks * slotLen;
    let at = base + this.rank * slotLen;
    for (const p of parts) {
      const n = p.length;
      for (let k = 0; k < n; k++) slots[at + k] = p[k]! * scale;
      at += n;
    }
    this.barrier();
    if (!wantResult) return null;
    const out = new Float32Array(total);
    if (ranks === 2) {
      const o1 = base + slotLen;
      for (let k = 0; k < total; k++) out[k] = slots[base + k]! + slots[o1 + k]!;
    } else {
      for (let k = 0; k < total; k++) {
        let v = slots[base + k]!;
        for (let r = 1; r < ranks; r++) v += slots[base + r * slotLen + k]!;
        out[k] = v;
      }
    }
    return out;
  }

  /** A StepCollective for this rank's slice of one batch. */
  forSlice(rowOffset: number, rows: number, totalRows: number): StepCollective {
    return {
      fraction: rows / totalRows,
      rowOffset,
      totalRows,
      rank: this.rank,
      allReduce: (v) => this.allReduce(v),
      allReduceScaled: (p, s, w) => this.allReduceScaled(p, s, w),
    };
  }
}

/** Rows [offset, offset + rows) of rank r when n rows are split as evenly as possible over N ranks. */
export function sliceOf(n: number, ranks: number, r: number): { offset: number; rows: number } {
  const base = Math.floor(n / ranks);
  const extra = n % ranks;
  const rows = base + (r < extra ? 1 : 0);
  const offset = r * base + Math.min(r, extra);
  return { offset, rows };
}

/** Full-batch mean losses from this rank's slice means (identity without a collective). */
export function reduceLosses(c: StepCollective | undefined, losses: readonly number[]): number[] {
  if (!c) return [...losses];
  return Array.from(c.allReduce(Float64Array.from(losses, (l) => l * c.fraction)));
}

/**
 * A float32 tensor's values for reading: on cpu and wasm a view of the backend's own memory (no
 * copy; a wasm view is valid until the backend's next allocation, so read it at once), else a copy.
 */
export function tensorValues(runner: KernelRunner | null, t: tf.Tensor): ArrayLike<number> {
  if (runner && t.dtype === 'float32') {
    const v = runner.values(t);
    if (v.length === t.size) return v;
  }
  return t.dataSync();
}

/**
 * Sums `scale` x each gradient over ranks (one reduce for all); disposes the inputs. `final`: the
 * step's returned gradients, which only rank 0 uses: other ranks take part in the sum but get
 * nulls back (no tensors built for nothing). `extra` (only where the collective has
 * `allReduceScaled`): more values reduced in the same pass (`scale` x each), e.g. the step's slice
 * losses; their sums (float32) are written back into `extra` where this rank gets the result.
 */
export function reduceGradients(c: StepCollective | undefined, grads: readonly (tf.Tensor | null)[], scale: number, final = false, extra?: number[]): (tf.Tensor | null)[] {
  if (!c) return [...grads];
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  const wantResult = !final || (c.rank ?? 0) === 0;
  let sum: Float32Array | null;
  if (c.allReduceScaled) {
    const runner = KernelRunner.forCurrentBackend();
    // views are taken and read with no backend allocation in between
    const parts: ArrayLike<number>[] = present.map((g) => tensorValues(runner, g));
    if (extra) parts.push(extra);
    sum = c.allReduceScaled(parts, scale, wantResult);
    if (sum && extra) for (let i = 0; i < extra.length; i++) extra[i] = sum[sum.length - extra.length + i]!;
  } else {
    if (extra) throw new RangeError('reduceGradients: extra values need a collective with allReduceScaled');
    let total = 0;
    for (const g of present) total += g.size;
    const flat = new Float64Array(total);
    let at = 0;
    for (const g of present) {
      const d = g.dataSync();
      for (let k = 0; k < d.length; k++) flat[at + k] = d[k]! * scale;
      at += d.length;
    }
    sum = Float32Array.from(c.allReduce(flat));
  }
  let at = 0;
  return grads.map((g) => {
    if (!g) return null;
    const t = sum ? tf.tensor(sum.subarray(at, at + g.size), g.shape, 'float32') : null;
    at += g.size;
    g.dispose();
    return t;
  });
}
