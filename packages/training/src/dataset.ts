/**
 * Datasets for multi-task training: one or many symbols' candles -> features -> a normaliser
 * fitted on the training range only -> windows and labels -> chronological train / validation /
 * test splits separated by a purge gap.
 *
 * Per series with n candles and boundaries trainEnd <= valEnd <= n, a window ending at row e
 * (rows e-W+1..e) with labels over (e, e+h] belongs to
 *   train: e - W + 1 >= warmup,        e + h <  trainEnd
 *   val:   e - W + 1 >= trainEnd + g - W + 1 (i.e. e >= trainEnd + g), e + h < valEnd
 *   test:  e >= valEnd + g,             e + h < n
 * with h the longest task horizon (at least 1) and the purge gap g >= h + W, so the rows any
 * window or label reads in one split never meet those of another split.
 * Optional validation blocks [a, b) inside the training range (`SplitBoundaries.valBlocks`: validation
 * spread over the history, not only its last months) are purged alike: their windows end at
 * e >= a + g with e + h < b and join the validation split; a training window's labels end before a
 * (e + h < a) or it starts after the block's labels (e >= b + g). The normaliser and task fits still
 * read every row before trainEnd, blocks included (statistics of validation rows, never of test).
 * Tasks are fitted (thresholds, quantiles) on the training ranges of every series chained end to
 * end (or on the first series only, `taskFit: 'first'`); the normaliser on the training rows of
 * every series pooled, or (`normalisation: 'perSymbol'`) one per series on its own training rows.
 */
import type { CandleColumns } from '@task-agnostic/core';
import { concatColumns, ConfigError, DataError, sliceColumns } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { zodToConfigError } from './config.js';
import type { FeatureMatrixLike, FeaturePipeline, NormalizerLike, TaskLabelsLike, TaskStateLike, TrainableTask } from './contracts.js';
import type { MultiTaskSplit } from './split.js';

export const DatasetConfigSchema = z
  .object({
    windowLength: z.number().int().min(1).max(4096).default(64),
    /** Chronological fractions of each series (the rest is training). */
    valFraction: z.number().min(0).lt(1).default(0.15),
    testFraction: z.number().min(0).lt(1).default(0.15),
    /** Rows between splits; default (and minimum) longest horizon + window length. */
    purgeGap: z.number().int().min(0).optional(),
    /** Keep every stride-th window (1 = all). */
    stride: z.number().int().min(1).default(1),
    /** Keep every valStride-th validation window (default: stride), e.g. more rows to calibrate on. */
    valStride: z.number().int().min(1).optional(),
    /**
     * What tasks fit their thresholds/quantiles on: 'pooled' = the training ranges of every
     * series chained end to end (each later series rescaled so its first open equals the
     * previous series' last close: returns are kept, no jump at the seam); 'first' = the first
     * series' training range only.
     */
    taskFit: z.enum(['pooled', 'first', 'perSymbol']).default('pooled'),
    /**
     * How features are scaled: 'pooled' = one normaliser fitted on the training rows of every
     * series pooled; 'perSymbol' = each series by a normaliser fitted on its own training rows
     * (the pooled one is still fitted, as the fallback for symbols without their own).
     */
    normalisation: z.enum(['pooled', 'perSymbol']).default('pooled'),
    /**
     * Time-decay weights for the training windows (days; unset = every window weighs 1): a window
     * ending at time t weighs 0.5^((tLast - t) / halfLife), tLast the latest training window's end
     * over every series. The split carries them as `sampleWeights`; trainMultiTask then draws its
     * batches with probability proportional to them. Training rows only.
     */
    recencyHalfLifeDays: z.number().positive().max(36_500).optional(),
  })
  .strict();
export type DatasetConfig = z.infer<typeof DatasetConfigSchema>;
export type DatasetConfigInput = z.input<typeof DatasetConfigSchema>;

export interface SeriesInput {
  readonly symbol: string;
  readonly candles: CandleColumns;
}

/** A block of rows [start, end) of one series. */
export interface RowBlock {
  readonly start: number;
  readonly end: number;
}

/**
 * Row boundaries of one series: train [0, trainEnd), val [trainEnd, valEnd), test [valEnd, n);
 * `valBlocks` (sorted, disjoint, inside [0, trainEnd)) are taken out of training into validation,
 * each with purge gaps on both sides (see the file comment).
 */
export interface SplitBoundaries {
  readonly trainEnd: number;
  readonly valEnd: number;
  readonly valBlocks?: readonly RowBlock[];
  /**
   * The end (exclusive) of the rows the normalisers and task states (label thresholds) are fitted on;
   * default trainEnd, at most trainEnd. Set below trainEnd to rebuild a saved model's dataset on a
   * later validation range with the fits it was trained with (`trainer calibrate --refit-from`).
   */
  readonly fitEnd?: number;
}

export interface MultiTaskDataset {
  readonly train: MultiTaskSplit;
  readonly val: MultiTaskSplit;
  readonly test: MultiTaskSplit;
  readonly featureNames: readonly string[];
  /** The fitted normaliser's JSON state. */
  readonly normalizer: unknown;
  /** The fitted normaliser itself (the features package's Normalizer with the real pipeline). */
  readonly fittedNormalizer: NormalizerLike;
  /** normalisation 'perSymbol': each series' own normaliser (fitted on its training rows), by symbol; else empty. */
  readonly symbolNormalizers: Readonly<Record<string, NormalizerLike>>;
  readonly taskStates: readonly TaskStateLike[];
  /** taskFit 'perSymbol': each series' own task states (fitted on its training range), by symbol; else empty. */
  readonly symbolTaskStates: Readonly<Record<string, readonly TaskStateLike[]>>;
  readonly taskIds: readonly string[];
  readonly horizon: number;
  readonly purgeGap: number;
  readonly windowLength: number;
  readonly series: readonly SeriesInput[];
  readonly boundaries: readonly SplitBoundaries[];
  /** Normalised feature matrices per series (for pre-training objectives that need raw rows). */
  readonly matrices: readonly FeatureMatrixLike[];
}

export function parseDatasetConfig(json: unknown): DatasetConfig {
  const r = DatasetConfigSchema.safeParse(json ?? {});
  if (!r.success) throw zodToConfigError(r.error, 'dataset');
  if (r.data.valFraction + r.data.testFraction >= 1) {
    throw new ConfigError(`valFraction + testFraction = ${r.data.valFraction + r.data.testFraction} leaves no training data`, 'dataset.valFraction');
  }
  return r.data;
}

function boundariesFor(n: number, c: DatasetConfig): SplitBoundaries {
  const trainEnd = Math.floor(n * (1 - c.valFraction - c.testFraction));
  const valEnd = Math.floor(n * (1 - c.testFraction));
  return { trainEnd, valEnd };
}

interface Pick {
  series: number;
  end: number;
}

function pickRows(from: number, to: number, minEnd: number, stride: number, labels: readonly TaskLabelsLike[], series: number, out: Pick[]): void {
  // `to` is exclusive and already accounts for the horizon. Thinned windows sit on absolute rows
  // (row % stride === 0), so models with other horizons (other purge gaps) keep the same rows and
  // their test windows can be paired for intervals.
  const first = Math.max(from, minEnd);
  for (let e = first + ((stride - (first % stride)) % stride); e < to; e += stride) {
    let ok = true;
    for (const l of labels) if (!l.valid[e]) ok = false;
    if (ok) out.push({ series, end: e });
  }
}

function assemble(
  picks: readonly Pick[],
  matrices: readonly FeatureMatrixLike[],
  labels: readonly (readonly TaskLabelsLike[])[],
  tasks: readonly TrainableTask[],
  pipeline: FeaturePipeline,
  W: number,
  F: number,
): MultiTaskSplit {
  const n = picks.length;
  const x = new Float32Array(n * W * F);
  const targetDims = tasks.map((_, i) => labels[0]?.[i]?.targetDim ?? 1);
  const targets = targetDims.map((d) => new Float32Array(n * d));
  const endRows = new Int32Array(n);
  const seriesIds = new Int32Array(n);
  let r = 0;
  for (let s = 0; s < matrices.length; s++) {
    const mine = picks.filter((p) => p.series === s);
    if (mine.length === 0) continue;
    const ends = Int32Array.from(mine, (p) => p.end);
    x.set(pipeline.makeWindows(matrices[s]!, ends, W), r * W * F);
    for (let k = 0; k < mine.length; k++) {
      endRows[r + k] = ends[k]!;
      seriesIds[r + k] = s;
      tasks.forEach((_, i) => {
        const l = labels[s]![i]!;
        const d = targetDims[i]!;
        if (l.targetDim !== d) throw new DataError(`task ${tasks[i]!.id}: series ${s} labels have targetDim ${l.targetDim}, series 0 has ${d}`);
        targets[i]!.set(l.targets.subarray(ends[k]! * d, (ends[k]! + 1) * d), (r + k) * d);
      });
    }
    r += mine.length;
  }
  return { x, n, windowLength: W, featureCount: F, targets, targetDims, endRows, seriesIds };
}

/**
 * Builds train / validation / test splits. `boundaries` (one per series) overrides the fractions
 * (walk-forward folds pass them).
 */
export function buildDataset(
  series: readonly SeriesInput[],
  tasks: readonly TrainableTask[],
  pipeline: FeaturePipeline,
  configInput: DatasetConfigInput = {},
  boundaries?: readonly SplitBoundaries[],
): MultiTaskDataset {
  const config = parseDatasetConfig(configInput);
  if (series.length === 0) throw new DataError('buildDataset: no candle series given');
  const W = config.windowLength;
  const horizon = Math.max(1, ...tasks.map((t) => t.horizon));
  const minGap = horizon + W;
  const gap = config.purgeGap ?? minGap;
  if (gap < minGap) throw new ConfigError(`purge gap ${gap} is below horizon + window = ${horizon} + ${W}; windows or labels would straddle splits`, 'dataset.purgeGap');
  const bounds = boundaries ?? series.map((s) => boundariesFor(s.candles.length, config));
  if (bounds.length !== series.length) throw new DataError(`${bounds.length} split boundaries for ${series.length} series`);
  bounds.forEach((b, s) => {
    const n = series[s]!.candles.length;
    if (n === 0) throw new DataError(`series ${series[s]!.symbol}: no candles`);
    if (!(b.trainEnd > 0 && b.trainEnd <= b.valEnd && b.valEnd <= n)) {
      throw new DataError(`series ${series[s]!.symbol}: split boundaries trainEnd=${b.trainEnd}, valEnd=${b.valEnd} do not fit ${n} candles`);
    }
    checkValBlocks(b, series[s]!.symbol);
    if (b.fitEnd !== undefined && !(Number.isInteger(b.fitEnd) && b.fitEnd > 0 && b.fitEnd <= b.trainEnd)) {
      throw new DataError(`series ${series[s]!.symbol}: split boundary fitEnd=${b.fitEnd} must be an integer in (0, trainEnd=${b.trainEnd}]`);
    }
  });
  // what the normalisers and task states are fitted on: [0, fitEnd), fitEnd = trainEnd unless set
  const fitBounds = bounds.map((b) => (b.fitEnd === undefined ? b : { ...b, trainEnd: b.fitEnd }));

  const raw = series.map((s) => pipeline.compute(s.candles));
  const F = raw[0]!.cols;
  raw.forEach((m, s) => {
    if (m.cols !== F || m.names.join() !== raw[0]!.names.join()) throw new DataError(`series ${series[s]!.symbol} has different features from series ${series[0]!.symbol}`);
    if (m.rows !== series[s]!.candles.length) throw new DataError(`feature matrix of ${series[s]!.symbol} has ${m.rows} rows for ${series[s]!.candles.length} candles`);
  });
  // the normaliser sees the training rows of every series, pooled, and nothing after trainEnd (fitEnd)
  const pooled = poolTrainingRows(raw, fitBounds);
  const normalizer = pipeline.fitNormalizer(pooled, 0, pooled.rows);
  const symbolNormalizers: Record<string, NormalizerLike> = {};
  if (config.normalisation === 'perSymbol') {
    series.forEach((s, k) => {
      if (symbolNormalizers[s.symbol]) throw new DataError(`series ${s.symbol} appears twice: per-symbol normalisation needs one series per symbol`);
      // its own training rows only, nothing after trainEnd
      symbolNormalizers[s.symbol] = pipeline.fitNormalizer(raw[k]!, 0, fitBounds[k]!.trainEnd);
    });
  }
  const matrices = raw.map((m, k) => (symbolNormalizers[series[k]!.symbol] ?? normalizer).transform(m));
  const fitOn = taskFitRange(series, config, fitBounds);
  const taskStates = tasks.map((t) => t.fit(fitOn.candles, fitOn.end));
  const symbolTaskStates: Record<string, readonly TaskStateLike[]> = {};
  if (config.taskFit === 'perSymbol') {
    series.forEach((s, k) => {
      if (symbolTaskStates[s.symbol]) throw new DataError(`series ${s.symbol} appears twice: per-symbol task fits need one series per symbol`);
      symbolTaskStates[s.symbol] = tasks.map((t) => t.fit(s.candles, fitBounds[k]!.trainEnd));
    });
  }
  const labels = series.map((s) => tasks.map((t, i) => t.labels(s.candles, (symbolTaskStates[s.symbol] ?? taskStates)[i]!)));

  const train: Pick[] = [];
  const val: Pick[] = [];
  const test: Pick[] = [];
  series.forEach((s, k) => {
    const n = s.candles.length;
    const b = bounds[k]!;
    const minEnd = raw[k]!.warmup + W - 1;
    const seg = splitSegments(b, gap);
    for (const r of seg.train) pickRows(r.start, r.end - horizon, minEnd, config.stride, labels[k]!, k, train);
    for (const r of seg.val) pickRows(r.start, r.end - horizon, minEnd, config.valStride ?? config.stride, labels[k]!, k, val);
    pickRows(b.valEnd + gap, n - horizon, minEnd, config.stride, labels[k]!, k, test);
  });
  if (train.length === 0) throw new DataError(`no training windows: the series are too short for window ${W}, horizon ${horizon} and the warm-up`);
  const trainSplit = assemble(train, matrices, labels, tasks, pipeline, W, F);
  return {
    train: config.recencyHalfLifeDays === undefined ? trainSplit : { ...trainSplit, sampleWeights: recencyWeights(series, trainSplit, config.recencyHalfLifeDays) },
    val: assemble(val, matrices, labels, tasks, pipeline, W, F),
    test: assemble(test, matrices, labels, tasks, pipeline, W, F),
    featureNames: raw[0]!.names,
    normalizer: normalizer.toJSON(),
    fittedNormalizer: normalizer,
    symbolNormalizers,
    taskStates,
    symbolTaskStates,
    taskIds: tasks.map((t) => t.id),
    horizon,
    purgeGap: gap,
    windowLength: W,
    series,
    boundaries: bounds,
    matrices,
  };
}

const DAY_MS = 86_400_000;

/**
 * Time-decay weights of a split's windows: 0.5^((tLast - t) / halfLife), t the end time of the
 * window (its series' candle at its end row), tLast the latest end time in the split. The newest
 * window weighs 1; a window halfLife days older weighs 0.5.
 */
export function recencyWeights(series: readonly SeriesInput[], split: { readonly n: number; readonly endRows?: Int32Array; readonly seriesIds?: Int32Array }, halfLifeDays: number): Float64Array {
  if (!(halfLifeDays > 0 && Number.isFinite(halfLifeDays))) throw new ConfigError(`recencyHalfLifeDays must be a positive number of days, got ${halfLifeDays}`, 'dataset.recencyHalfLifeDays');
  if (!split.endRows || !split.seriesIds) throw new DataError('recency weights need the windows\' end rows and series ids');
  const t = new Float64Array(split.n);
  let last = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < split.n; r++) {
    const c = series[split.seriesIds[r]!]!.candles;
    t[r] = c.tsMs[split.endRows[r]!]!;
    if (t[r]! > last) last = t[r]!;
  }
  const w = new Float64Array(split.n);
  for (let r = 0; r < split.n; r++) w[r] = Math.pow(0.5, (last - t[r]!) / (halfLifeDays * DAY_MS));
  return w;
}

/**
 * The split boundaries of each series: `boundaries` when given, else from the config's fractions
 * (what buildDataset uses).
 */
export function splitBoundaries(series: readonly SeriesInput[], configInput: DatasetConfigInput = {}, boundaries?: readonly SplitBoundaries[]): readonly SplitBoundaries[] {
  const config = parseDatasetConfig(configInput);
  return boundaries ?? series.map((s) => boundariesFor(s.candles.length, config));
}

/**
 * The candles pooled fits read (task thresholds, fitted features): the first series' training
 * range (`taskFit: 'first'`, or one series), else every series' training range chained.
 */
export function taskFitRange(series: readonly SeriesInput[], config: { readonly taskFit: DatasetConfig['taskFit'] }, bounds: readonly SplitBoundaries[]): { candles: CandleColumns; end: number } {
  return config.taskFit === 'first' || series.length === 1 ? { candles: series[0]!.candles, end: bounds[0]!.trainEnd } : chainTrainingRanges(series, bounds);
}

/**
 * The training ranges of every series as one candle series: each later part is rescaled (prices
 * only) so that its first open equals the previous part's last close, so bar returns are those
 * of the parts and the seams add no jump.
 */
export function chainTrainingRanges(series: readonly SeriesInput[], bounds: readonly SplitBoundaries[]): { candles: CandleColumns; end: number } {
  const parts: CandleColumns[] = [];
  let lastClose = 0;
  series.forEach((s, k) => {
    // a copy: sliceColumns is a view and the rescale must not touch the caller's candles
    const part = concatColumns([sliceColumns(s.candles, 0, bounds[k]!.trainEnd)]);
    if (parts.length > 0 && part.length > 0) {
      const f = lastClose / part.open[0]!;
      for (const col of [part.open, part.high, part.low, part.close]) for (let i = 0; i < part.length; i++) col[i]! *= f;
    }
    if (part.length > 0) {
      parts.push(part);
      lastClose = part.close[part.length - 1]!;
    }
  });
  const candles = concatColumns(parts);
  return { candles, end: candles.length };
}

/**
 * The rows of one series' training and validation splits as segments, in time order: a window ending
 * at e belongs to a segment [start, end) when e >= start and its label or next bar stays before end.
 * Training: [0, trainEnd) less each validation block and the purge gap after it; validation: each block
 * from its purge gap on, then [trainEnd + gap, valEnd). What buildDataset and the self-supervised
 * sources both split by.
 */
export function splitSegments(b: SplitBoundaries, gap: number): { train: RowBlock[]; val: RowBlock[] } {
  const train: RowBlock[] = [];
  const val: RowBlock[] = [];
  let from = 0;
  for (const blk of b.valBlocks ?? []) {
    train.push({ start: from, end: blk.start });
    val.push({ start: blk.start + gap, end: blk.end });
    from = blk.end + gap;
  }
  train.push({ start: from, end: b.trainEnd });
  val.push({ start: b.trainEnd + gap, end: b.valEnd });
  return { train, val };
}

/** Throws a DataError naming the series when its validation blocks are not sorted, disjoint, non-empty and inside [0, trainEnd). */
function checkValBlocks(b: SplitBoundaries, symbol: string): void {
  let prev = 0;
  for (const [i, blk] of (b.valBlocks ?? []).entries()) {
    if (!(Number.isInteger(blk.start) && Number.isInteger(blk.end) && blk.start >= prev && blk.start < blk.end && blk.end <= b.trainEnd)) {
      throw new DataError(
        `series ${symbol}: validation block ${i} [${blk.start}, ${blk.end}) must be non-empty, after block ${i - 1} and inside the training range [0, ${b.trainEnd})`,
      );
    }
    prev = blk.end;
  }
}

function poolTrainingRows(ms: readonly FeatureMatrixLike[], bounds: readonly SplitBoundaries[]): FeatureMatrixLike {
  const F = ms[0]!.cols;
  let rows = 0;
  ms.forEach((m, s) => (rows += Math.max(0, bounds[s]!.trainEnd - m.warmup)));
  const data = new Float32Array(rows * F);
  let r = 0;
  ms.forEach((m, s) => {
    const a = m.warmup;
    const b = bounds[s]!.trainEnd;
    if (b > a) {
      data.set(m.data.subarray(a * F, b * F), r * F);
      r += b - a;
    }
  });
  return { data, rows, cols: F, names: ms[0]!.names, warmup: 0 };
}

export interface WalkForwardOptions {
  /** Number of folds. */
  readonly folds: number;
  /** Rows of validation per fold (valEnd = trainEnd + gap + valBars; a fold's test split is what follows). */
  readonly valBars: number;
  /** Rows of the first fold's training range. */
  readonly minTrainBars: number;
  readonly purgeGap: number;
}

/**
 * Expanding-window walk-forward boundaries over n rows: fold k trains on [0, trainEnd_k) and
 * validates on the next valBars rows after the purge gap; the last fold ends at n.
 */
export function walkForwardBoundaries(n: number, o: WalkForwardOptions): SplitBoundaries[] {
  if (!(o.folds >= 1 && Number.isInteger(o.folds))) throw new ConfigError(`folds must be a positive integer, got ${o.folds}`, 'walkForward.folds');
  const span = o.purgeGap + o.valBars;
  const lastTrainEnd = n - span;
  if (lastTrainEnd < o.minTrainBars) throw new DataError(`walk-forward: ${n} rows cannot hold ${o.minTrainBars} training rows plus gap ${o.purgeGap} and ${o.valBars} validation rows`);
  const step = o.folds > 1 ? Math.floor((lastTrainEnd - o.minTrainBars) / (o.folds - 1)) : 0;
  const out: SplitBoundaries[] = [];
  for (let k = 0; k < o.folds; k++) {
    const trainEnd = o.folds > 1 ? o.minTrainBars + k * step : lastTrainEnd;
    out.push({ trainEnd, valEnd: trainEnd + span });
  }
  return out;
}
