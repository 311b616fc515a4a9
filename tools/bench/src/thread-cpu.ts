// Per-thread CPU time of this process from /proc/self/task (Linux): what each thread (the main
// thread, worker threads, V8's helper threads) spent, unaffected by how much of the machine other
// processes take. Used by the data-parallel profile (a step's critical path on free cores).
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadCpu {
  readonly tid: number;
  readonly name: string;
  /** CPU milliseconds since the thread started (/proc/self/task/TID/schedstat: exact). */
  readonly ms: number;
}

/** Every thread of this process with its CPU time so far, or [] where /proc is not readable. */
export function threadCpu(): ThreadCpu[] {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  const out: ThreadCpu[] = [];
  for (const t of tids) {
    try {
      const name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      // schedstat's first field: nanoseconds on a CPU (exact, where stat's utime/stime are 10 ms ticks)
      const ns = Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      out.push({ tid: Number(t), name, ms: ns / 1e6 });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU milliseconds per thread spent between two snapshots (threads absent from `before` count from 0). */
export function threadCpuDelta(before: readonly ThreadCpu[], after: readonly ThreadCpu[]): ThreadCpu[] {
  const b = new Map(before.map((t) => [t.tid, t.ms]));
  return after.map((t) => ({ ...t, ms: t.ms - (b.get(t.tid) ?? 0) })).filter((t) => t.ms > 0);
}
