/** Streaming features: one candle at a time, the same engine (and numbers) as computeFeatures. */
import { ConfigError, allocColumns, type Candle } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, type FeatureSetConfig } from './config.js';
import { FeatureEngine } from './engine.js';
import type { StreamingExtras } from './extras.js';

export interface StreamingOptions {
  /** Candle interval in ms; needed when the config uses extras and has no intervalMs. */
  readonly intervalMs?: number;
}

/**
 * Feed closed candles in time order; each update costs O(1) amortised per feature (a few
 * windowed statistics are O(period), period ~20). Extras given with a candle must be stamped at
 * or before that candle's close (tsMs + interval); they stay in effect until newer ones arrive.
 */
export class StreamingFeatures {
  readonly names: readonly string[];
  readonly cols: number;
  /** Number of candles before the first valid row: update() returns null for the first `warmup` candles. */
  readonly warmup: number;
  private readonly engine: FeatureEngine;
  private readonly row: Float64Array;
  /** One-candle columns the engine reads (see FeatureEngine.step). */
  private readonly one = allocColumns(1);

  constructor(config: FeatureSetConfig = DEFAULT_FEATURE_SET, options: StreamingOptions = {}) {
    this.engine = new FeatureEngine(config);
    if (options.intervalMs !== undefined) {
      if (!(Number.isInteger(options.intervalMs) && options.intervalMs > 0)) {
        throw new ConfigError(`intervalMs is ${options.intervalMs}; use a positive whole number of ms`, 'intervalMs');
      }
      if (config.intervalMs === undefined) this.engine.intervalMs = options.intervalMs;
    }
    if (this.engine.needs.size > 0 && !(this.engine.intervalMs > 0)) {
      throw new ConfigError(`the feature set uses extras (${[...this.engine.needs].join(', ')}); set intervalMs so candle close times are known`, 'intervalMs');
    }
    this.names = this.engine.names;
    this.cols = this.engine.cols;
    this.warmup = this.engine.warmup;
    this.row = new Float64Array(this.cols);
  }

  /** Candles consumed so far. */
  get count(): number {
    return this.engine.barsSeen;
  }

  /** True once update() returns rows. */
  get ready(): boolean {
    return this.engine.barsSeen > this.warmup;
  }

  /**
   * Consumes one closed candle; writes the features into `out` (float64, length cols) and returns
   * true once warm, false (out untouched) during warm-up. No allocation.
   */
  updateInto(candle: Candle, out: Float64Array, extras?: StreamingExtras): boolean {
    const e = this.engine;
    if (extras) e.extras.applyStreaming(extras, candle.tsMs + e.intervalMs);
    const row = e.barsSeen;
    const one = this.one;
    one.tsMs[0] = candle.tsMs;
    one.open[0] = candle.open;
    one.high[0] = candle.high;
    one.low[0] = candle.low;
    one.close[0] = candle.close;
    one.volume[0] = candle.volume;
    e.step(row, one, 0, this.row, 0);
    if (row < this.warmup) return false;
    out.set(this.row);
    return true;
  }

  /** Consumes one closed candle; returns a fresh float64 row, or null during warm-up. */
  update(candle: Candle, extras?: StreamingExtras): Float64Array | null {
    const out = new Float64Array(this.cols);
    return this.updateInto(candle, out, extras) ? out : null;
  }
}
