/** Input checks shared by the tasks: clear typed errors instead of NaN labels. */
import type { CandleColumns } from '@task-agnostic/core';
import { ConfigError, DataError } from '@task-agnostic/core';

export type PriceField = 'open' | 'high' | 'low' | 'close';

/** Throws DataError unless the columns have consistent lengths and finite, positive prices in `fields`. */
export function checkCandles(c: CandleColumns, fields: readonly PriceField[], minLength = 2): void {
  if (!c || typeof c.length !== 'number' || !Number.isInteger(c.length) || c.length < 0) {
    throw new DataError('candles: expected CandleColumns with an integer length');
  }
  if (c.length < minLength) throw new DataError(`candles: need at least ${minLength} bars, got ${c.length}`);
  for (const f of fields) {
    const col = c[f];
    if (!(col instanceof Float64Array) || col.length < c.length) {
      throw new DataError(`candles.${f}: expected a Float64Array of length >= ${c.length}`);
    }
    for (let i = 0; i < c.length; i++) {
      const v = col[i]!;
      if (!(v > 0) || !Number.isFinite(v)) throw new DataError(`candles.${f}[${i}] = ${v}: prices must be finite and > 0`);
    }
  }
}

/** Throws ConfigError unless trainEnd is an integer in [minRows, length]. */
export function checkTrainEnd(trainEnd: number, length: number, minRows: number): void {
  if (!Number.isInteger(trainEnd) || trainEnd < minRows || trainEnd > length) {
    throw new ConfigError(`must be an integer in [${minRows}, ${length}] (bars [0, trainEnd) are the training range), got ${trainEnd}`, 'trainEnd');
  }
}

/** Throws DataError unless every row index is an integer in [0, length) with a valid label. */
export function checkRows(rows: ArrayLike<number>, valid: Uint8Array): void {
  for (let i = 0; i < rows.length; i++) {
    const t = rows[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= valid.length) throw new DataError(`rows[${i}] = ${t}: not a candle index in [0, ${valid.length})`);
    if (!valid[t]) throw new DataError(`rows[${i}] = ${t}: the label at this row is not valid (t + h beyond the data?)`);
  }
}

/** Throws DataError unless a raw output row has at least `dim` finite values. */
export function checkOutputRow(output: ArrayLike<number>, dim: number, taskId: string): void {
  if (!output || typeof output.length !== 'number' || output.length < dim) {
    throw new DataError(`${taskId}.decode: expected an output row of ${dim} values, got ${output?.length ?? 'none'}`);
  }
  for (let i = 0; i < dim; i++) if (!Number.isFinite(output[i]!)) throw new DataError(`${taskId}.decode: output[${i}] = ${output[i]} is not finite`);
}

/** Throws DataError unless outputs hold [n, outputDim] and targets [n, targetDim] values. */
export function checkMetricsInput(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number, outputDim: number, targetDim: number, taskId: string): void {
  if (!Number.isInteger(n) || n < 0) throw new DataError(`${taskId}.metrics: n must be a non-negative integer, got ${n}`);
  if (outputs.length < n * outputDim) throw new DataError(`${taskId}.metrics: outputs hold ${outputs.length} values, need n x outputDim = ${n * outputDim}`);
  if (targets.length < n * targetDim) throw new DataError(`${taskId}.metrics: targets hold ${targets.length} values, need n x targetDim = ${n * targetDim}`);
}
