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

/** Runs the engine over all rows; `emit(row, scratch)` receives each row's float64 values. */
function run(engine: FeatureEngine, candles: CandleColumns, extras: FeatureExtras | undefined, sink: Float64Array | null, emit: ((row: number, r: Float64Array) => void) | null): void {
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
  const { tsMs, open, high, low, close, volume } = candles;
  const cols = engine.cols;
  const scratch = sink ? null : new Float64Array(cols);
  for (let i = 0; i < n; i++) {
    if (cursor) cursor.advance(tsMs[i]! + engine.intervalMs);
    if (sink) engine.step(i, tsMs[i]!, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!, sink, i * cols);
    else {
      engine.step(i, tsMs[i]!, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!, scratch!, 0);
      emit!(i, scratch!);
    }
  }
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
  for (let i = warm * cols; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) nonFinite(engine.names, Math.floor(i / cols), i % cols, x);
  }
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
  run(engine, candles, extras, null, (row, r) => {
    if (row < warmup) return;
    const base = row * cols;
    for (let j = 0; j < cols; j++) {
      const x = r[j]!;
      if (x - x !== 0) nonFinite(names, row, j, x);
      data[base + j] = x;
    }
  });
  return { data, rows: candles.length, cols, names, warmup };
}
