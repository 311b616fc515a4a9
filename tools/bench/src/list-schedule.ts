/**
 * List scheduling as the local pool does it: jobs taken in order, each by the first worker free.
 * Used by the sweep bench to tell what its trials' durations alone allow on n workers.
 */

/** When the last of the jobs ends: durations[i] taken in order by the earliest-free of n workers (ties: the lowest-numbered). */
export function listSchedule(durations: readonly number[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`workers must be a positive integer, got ${n}`);
  const free = new Array<number>(n).fill(0);
  for (const d of durations) {
    let k = 0;
    for (let j = 1; j < n; j++) if (free[j]! < free[k]!) k = j;
    free[k] = free[k]! + d;
  }
  return Math.max(...free);
}
