/** Batch features: columnar candles -> [rows, cols] matrix, by the same engine as streaming. */
import { ConfigError, DataError, type CandleColumns } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, type FeatureSetConfig } from './config.js';
import { FeatureEngine } from './engine.js';
import { ExtrasCursor, validateExtras, type FeatureExtras } from './extras.js';

/** Row-major [rows, cols] features; rows == candles.length; rows < warmup are 0; never NaN/Infinity. */
export interface FeatureMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly names: readonly string[];
  readonly warmup: number;
}

/** The same matrix before the float32 cast (for exactness tests and float64 consumers). */
export interface FeatureMatrix64 {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly names: readonly string[];
  readonly warmup: number;
}

function checkColumns(c: CandleColumns): void {
  const n = c.length;
  if (!Number.isInteger(n) || n < 0) throw new DataError(`candles.length is ${n}, not a non-negative integer`);
  for (const f of ['tsMs', 'open', 'high', 'low', 'close', 'volume'] as const) {
    const a = c[f];
    if (!(a instanceof Float64Array)) throw new DataError(`candles.${f} must be a Float64Array (use toColumns from @task-agnostic/core)`);
    if (a.length < n) throw new DataError(`candles.${f} has ${a.length} values, fewer than candles.length ${n}`);
  }
}

function inferIntervalMs(ts: Float64Array, n: number): number {
  let best = Infinity;
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d > 0 && d < best) best = d;
  }
  return best;
}

/** Rows per float64 chunk in the float32 path (small enough to stay in cache). */
const CHUNK_ROWS = 256;

/**
 * Runs the engine over all rows. With `sink` (float64, rows*cols) the rows go straight there;
 * otherwise into a float64 chunk handed to `flush(firstRow, rows, chunk)` every CHUNK_ROWS rows.
 */
function run(
  engine: FeatureEngine,
  candles: CandleColumns,
  extras: FeatureExtras | undefined,
  sink: Float64Array | null,
  flush: ((firstRow: number, rows: number, chunk: Float64Array) => void) | null,
): void {
  const n = candles.length;
  let cursor: ExtrasCursor | null = null;
  if (engine.needs.size > 0) {
    const given = extras ?? {};
    for (const g of engine.needs) {
      if (given[g] === undefined) {
        throw new DataError(`the feature set uses the '${g}' group but extras.${g} was not given (pass it, or drop those features)`);
      }
    }
    validateExtras(given);
    if (engine.intervalMs !== engine.intervalMs) {
      const iv = inferIntervalMs(candles.tsMs, n);
      if (!Number.isFinite(iv)) throw new ConfigError('cannot infer the candle interval from fewer than 2 candles; set intervalMs', 'intervalMs');
      engine.intervalMs = iv;
    }
    cursor = new ExtrasCursor(given, engine.extras);
  }
  const tsMs = candles.tsMs;
  const cols = engine.cols;
  const chunk = sink ?? new Float64Array(CHUNK_ROWS * cols);
  let chunkStart = 0;
  for (let i = 0; i < n; i++) {
    if (cursor) cursor.advance(tsMs[i]! + engine.intervalMs);
    const at = sink ? i * cols : (i - chunkStart) * cols;
    engine.step(i, candles, i, chunk, at);
    if (!sink && (i + 1 - chunkStart === CHUNK_ROWS || i === n - 1)) {
      flush!(chunkStart, i + 1 - chunkStart, chunk);
      chunkStart = i + 1;
    }
  }
}

/** Throws (naming the first culprit) if values[0..len) holds NaN or +-Infinity; rowOffset names rows. */
function checkFinite(values: Float64Array, len: number, cols: number, rowOffset: number, names: readonly string[]): void {
  // One add per value: NaN or Infinity anywhere makes the sum non-finite. Finite features are
  // O(1..1e4), so a finite sum overflowing is impossible in practice; on that path we rescan anyway.
  let acc = 0;
  for (let i = 0; i < len; i++) acc += values[i]!;
  if (acc - acc === 0) return;
  for (let i = 0; i < len; i++) {
    const x = values[i]!;
    if (x - x !== 0) nonFinite(names, rowOffset + Math.floor(i / cols), i % cols, x);
  }
}

/**
 * One pass over src[from..to): casts each value into dst[value index + shift] and checks it is
 * finite (one add per value; a NaN or Infinity anywhere makes the sum non-finite, then the slow
 * scan names it). One read of the chunk instead of a check pass plus a TypedArray.set pass.
 */
function castChecked(src: Float64Array, from: number, to: number, dst: Float32Array, shift: number, cols: number, firstRow: number, names: readonly string[]): void {
  // Four sums: one running sum is a chain of dependent adds (latency-bound); four are not.
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    const x0 = src[i]!;
    const x1 = src[i + 1]!;
    const x2 = src[i + 2]!;
    const x3 = src[i + 3]!;
    a0 += x0;
    a1 += x1;
    a2 += x2;
    a3 += x3;
    dst[i + shift] = x0;
    dst[i + shift + 1] = x1;
    dst[i + shift + 2] = x2;
    dst[i + shift + 3] = x3;
  }
  for (; i < to; i++) {
    const x = src[i]!;
    a0 += x;
    dst[i + shift] = x;
  }
  const acc = a0 + a1 + (a2 + a3);
  if (acc - acc !== 0) checkFinite(src.subarray(from, to), to - from, cols, firstRow + from / cols, names);
}

function nonFinite(names: readonly string[], row: number, col: number, x: number): never {
  throw new DataError(`feature '${names[col]}' at row ${row} is ${x}; this is a bug in the feature kernel, please report it with the input`);
}

/** Features in float64 (the exact numbers streaming produces; rows < warmup are 0). */
export function computeFeaturesF64(candles: CandleColumns, config: FeatureSetConfig = DEFAULT_FEATURE_SET, extras?: FeatureExtras): FeatureMatrix64 {
  checkColumns(candles);
  const engine = new FeatureEngine(config);
  const cols = engine.cols;
  const data = new Float64Array(candles.length * cols);
  run(engine, candles, extras, data, null);
  const warm = Math.min(engine.warmup, candles.length);
  data.fill(0, 0, warm * cols);
  checkFinite(data, data.length, cols, 0, engine.names);
  return { data, rows: candles.length, cols, names: engine.names, warmup: engine.warmup };
}

/**
 * Features as float32 [rows, cols]. Computed in float64, cast per value. Rows before `warmup`
 * (the longest indicator's warm-up) are 0 and must not be used.
 */
export function computeFeatures(candles: CandleColumns, config: FeatureSetConfig = DEFAULT_FEATURE_SET, extras?: FeatureExtras): FeatureMatrix {
  checkColumns(candles);
  const engine = new FeatureEngine(config);
  const { cols, names, warmup } = engine;
  const data = new Float32Array(candles.length * cols);
  run(engine, candles, extras, null, (first, rows, chunk) => {
    // Rows before warm-up stay 0; the rest are checked and cast in one pass.
    const skip = Math.max(0, Math.min(rows, warmup - first));
    if (skip === rows) return;
    castChecked(chunk, skip * cols, rows * cols, data, first * cols, cols, first, names);
  });
  return { data, rows: candles.length, cols, names, warmup };
}
