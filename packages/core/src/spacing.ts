import type { CandleColumns } from './candle.js';
import { DataError } from './errors.js';
import { INTERVALS, INTERVAL_MS, type Interval } from './interval.js';

/** Epoch milliseconds below this (1973-03-03), with a spacing that is an interval in seconds: the file holds seconds (in seconds, 1e11 is the year 5138). */
const MIN_PLAUSIBLE_MS = 1e11;

function describeMs(ms: number): string {
  const named = INTERVALS.find((i) => INTERVAL_MS[i] === ms);
  if (named) return named;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * The median spacing of consecutive timestamps (absolute differences; duplicates and non-finite
 * timestamps left out), or NaN when fewer than two usable timestamps. Robust to gaps and to a few
 * rows out of order: half the rows would have to be off for it to move.
 */
export function medianSpacingMs(c: CandleColumns): number {
  const d = new Float64Array(Math.max(0, c.length - 1));
  let n = 0;
  for (let i = 1; i < c.length; i++) {
    const x = Math.abs(c.tsMs[i]! - c.tsMs[i - 1]!);
    if (Number.isFinite(x) && x > 0) d[n++] = x;
  }
  if (n === 0) return NaN;
  const s = d.subarray(0, n).sort();
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * Checks that candles are what they are read as: timestamps in epoch milliseconds (seconds, told by
 * a spacing that is an interval in seconds and times before 1973 as milliseconds, are refused with
 * the fix), and a median spacing equal to `interval` (a 1m file named or read as 1h is refused,
 * naming the interval it holds). Throws DataError; does nothing for fewer than three rows.
 */
export function checkCandleSpacing(c: CandleColumns, interval: Interval, source = 'candles'): void {
  if (c.length < 3) return;
  const want = INTERVAL_MS[interval];
  const median = medianSpacingMs(c);
  if (Number.isFinite(median) && median !== want && INTERVALS.some((i) => INTERVAL_MS[i] === median * 1000)) {
    let maxTs = -Infinity;
    for (let i = 0; i < c.length; i++) if (c.tsMs[i]! > maxTs) maxTs = c.tsMs[i]!;
    if (maxTs < MIN_PLAUSIBLE_MS) {
      throw new DataError(
        `${source}: timestamps are in seconds, not milliseconds (latest ${maxTs}, ${median} apart = ${describeMs(median * 1000)} in seconds); the timestamp column must be epoch milliseconds: multiply it by 1000`,
      );
    }
  }
  if (Number.isFinite(median) && median !== want) {
    const seen = describeMs(median);
    throw new DataError(
      `${source} is read as ${interval} but its candles are ${seen} apart (median spacing of ${c.length} rows): it holds another interval; read it as ${seen} (--interval) or name the file for the interval it holds`,
    );
  }
}
