/**
 * StreamingPredictor: the trader's per-candle inference. It owns a streaming feature engine, the
 * model's normaliser and a ring of the last T normalised rows; on each closed candle it runs one
 * batch-1 step (one input tensor, one encoder pass, the heads, one dataSync) and returns the
 * TaskOutputs with the time spent in features, encoder and heads. It returns null while the
 * feature engine or the window is warming up.
 */
import { DataError, type Candle, type CandleColumns, type TaskOutputs } from '@task-agnostic/core';
import type { StreamingExtras } from '@task-agnostic/features';
import { tf } from '@task-agnostic/tf';
import type { Normalizer, StreamingFeatures } from './contracts.js';
import { describeFeatureDifference } from './feature-diff.js';
import { tryFuseEnsembleHeads, tryFuseHeads, type FusedHeads } from './fused-heads.js';
import type { TaskAgnosticModel } from './model.js';

export interface StreamingLatency {
  /** Feature update + normalisation + ring write. */
  readonly featuresMs: number;
  /** The encoder forward pass (tensor ops run synchronously on the wasm and cpu backends). */
  readonly encoderMs: number;
  /** All heads, the read-back of their outputs and decoding. */
  readonly headsMs: number;
  readonly totalMs: number;
}

export interface StreamingPrediction {
  readonly tsMs: number;
  readonly outputs: TaskOutputs;
  readonly latency: StreamingLatency;
}

export interface StreamingPredictorOptions {
  /** A feature engine to use instead of a new one built from the model's feature config. */
  readonly features?: StreamingFeatures;
  /**
   * Run all heads as two fused matMuls when they are 2-layer ReLU MLPs (default true; proven
   * against the heads on a probe batch, else the heads run as they are). The fused weights are a
   * snapshot taken here: build the predictor after training.
   */
  readonly fuseHeads?: boolean;
  /** The symbol streamed: its own normaliser and task states when the model has them (normalizerFor, taskStatesFor). */
  readonly symbol?: string;
  /** Overrides the normaliser (e.g. normalizerForSeries' fallback for a symbol the model never saw). */
  readonly normalizer?: Normalizer;
  /**
   * A model with baseline blends keeps the last this-many candles to compute its baselines' forecasts
   * (default 5000). Persistence and momentum read the last horizon of bars; the GARCH and EWMA filters
   * start from the training variance at the first bar kept, so they equal the batch forecasts over the
   * whole history once it is longer than this only up to the filter's (exponentially fading) start.
   */
  readonly blendHistoryBars?: number;
}

/** The last `capacity` candles as columns (for the baselines of a blended model). */
class CandleHistory {
  private readonly cols: Float64Array[];
  private n = 0;
  constructor(private readonly capacity: number) {
    this.cols = Array.from({ length: 7 }, () => new Float64Array(2 * capacity));
  }
  push(c: Candle): void {
    if (this.n === this.cols[0]!.length) {
      for (const a of this.cols) a.copyWithin(0, this.n - this.capacity + 1, this.n);
      this.n = this.capacity - 1;
    }
    const v = [c.tsMs, c.open, c.high, c.low, c.close, c.volume, c.turnover ?? Number.NaN];
    this.cols.forEach((a, k) => (a[this.n] = v[k]!));
    this.n++;
  }
  columns(): CandleColumns {
    const start = Math.max(0, this.n - this.capacity);
    const [tsMs, open, high, low, close, volume, turnover] = this.cols.map((a) => a.subarray(start, this.n)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    return { length: this.n - start, tsMs, open, high, low, close, volume, turnover };
  }
}

export class StreamingPredictor {
  readonly model: TaskAgnosticModel;
  private readonly features: StreamingFeatures;
  private readonly T: number;
  private readonly F: number;
  private readonly ring: Float32Array;
  private readonly window: Float32Array;
  private readonly row: Float32Array;
  private head = 0; // next ring slot to write
  private filled = 0;
  private lastTsMs = -Infinity;
  private readonly fused: FusedHeads | null;
  private readonly normalizer: Normalizer;
  private readonly symbol: string | undefined;
  private readonly history: CandleHistory | null;

  constructor(model: TaskAgnosticModel, options: StreamingPredictorOptions = {}) {
    this.model = model;
    this.features = options.features ?? model.components.createStreamingFeatures(model.featureConfig);
    this.normalizer = options.normalizer ?? model.normalizerFor(options.symbol);
    this.symbol = options.symbol;
    const diff = describeFeatureDifference(model.featureNames, this.features.names, 'the model', 'the streaming feature engine');
    if (diff) throw new DataError(`feature mismatch: ${diff}`);
    this.T = model.windowLength;
    this.F = model.featureCount;
    this.ring = new Float32Array(this.T * this.F);
    this.window = new Float32Array(this.T * this.F);
    this.row = new Float32Array(this.F);
    this.fused =
      options.fuseHeads === false ? null : model.isEnsemble ? tryFuseEnsembleHeads(model.tasks, model.members, model.heads) : tryFuseHeads(model.tasks, model.heads, model.encoder.outputDim);
    const blended = [...model.blends.values()].some((b) => b.method !== 'model') || model.fusions.size > 0;
    this.history = blended ? new CandleHistory(Math.max(2, options.blendHistoryBars ?? 5000)) : null;
  }

  /** 'fused' when the heads run as two fused matMuls, else 'per-head'. */
  get headsPath(): 'fused' | 'per-head' {
    return this.fused ? 'fused' : 'per-head';
  }

  /** Frees the fused head weights (the model is not touched). */
  dispose(): void {
    this.fused?.dispose();
  }

  /** True once the next candle will produce a prediction. */
  get ready(): boolean {
    return this.filled >= this.T - 1;
  }

  /** Number of normalised rows held (at most T). */
  get rowsHeld(): number {
    return this.filled;
  }

  /**
   * Feeds one closed candle (and, where the feature set has optional groups, its extras); returns
   * the prediction for the window ending at it, or null while warming up.
   */
  onCandle(candle: Candle, extras?: StreamingExtras): StreamingPrediction | null {
    if (!(candle.tsMs > this.lastTsMs)) {
      throw new DataError(`candles must arrive in time order: got tsMs ${candle.tsMs} after ${this.lastTsMs}`);
    }
    const t0 = performance.now();
    const features = this.features.update(candle, extras);
    this.lastTsMs = candle.tsMs;
    this.history?.push(candle);
    if (!features) return null;
    this.normalizer.transformRow(features, this.row);
    this.ring.set(this.row, this.head * this.F);
    this.head = (this.head + 1) % this.T;
    if (this.filled < this.T) this.filled++;
    if (this.filled < this.T) return null;
    // Oldest row first: the slot about to be overwritten next is the oldest.
    const split = this.head * this.F;
    this.window.set(this.ring.subarray(split), 0);
    this.window.set(this.ring.subarray(0, split), this.ring.length - split);
    const t1 = performance.now();

    const model = this.model;
    let t2 = t1;
    const out = tf.tidy(() => {
      const x = tf.tensor3d(this.window, [1, this.T, this.F], 'float32');
      const z = model.encoder.apply(x, { training: false });
      t2 = performance.now();
      if (this.fused) return this.fused.apply(z);
      const outs = model.tasks.map((t) => model.heads.get(t.id)!.apply(z, { training: false }));
      return outs.length === 1 ? outs[0]! : tf.concat(outs, 1);
    });
    const flat = out.dataSync() as Float32Array;
    out.dispose();
    // a blended model: each head with a blend combined with its baseline's forecast at this candle
    const hist = this.history?.columns();
    const context = hist ? { candles: hist, endRows: [hist.length - 1] } : undefined;
    const outputs = model.decodeAll(model.splitOutputs(flat, 1), 1, this.symbol, context)[0]!;
    const t3 = performance.now();
    return {
      tsMs: candle.tsMs,
      outputs,
      latency: { featuresMs: t1 - t0, encoderMs: t2 - t1, headsMs: t3 - t2, totalMs: t3 - t0 },
    };
  }
}

/**
 * Runs a minor (young-generation) garbage collection now, if the process was started with
 * `node --expose-gc`; returns whether it ran. Each batch-1 step allocates tfjs bookkeeping objects,
 * and a scavenge that lands inside a decision costs 2-5 ms. A trader has idle time between candles:
 * calling this after each decision (off the decision path) moves that cost out of the latency tail.
 */
export function idleMinorGc(): boolean {
  const gc = (globalThis as { gc?: (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void }).gc;
  if (typeof gc !== 'function') return false;
  gc({ type: 'minor' });
  return true;
}
