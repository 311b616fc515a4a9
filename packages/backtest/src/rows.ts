import { DataError } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';

/** Throws the DataError for a bad row (kept out of the loops so they stay small). */
export function badRow(c: CandleColumns, i: number, what = 'candles'): never {
  const ts = c.tsMs[i]!;
  if (i > 0 && !(ts > c.tsMs[i - 1]!)) throw new DataError(`${what} row ${i}: timestamps must increase strictly (${c.tsMs[i - 1]} then ${ts})`);
  throw new DataError(`${what} row ${i} (ts ${ts}) is malformed: open ${c.open[i]} high ${c.high[i]} low ${c.low[i]} close ${c.close[i]}`);
}
