import { mkdir, writeFile, rm } from 'node:fs/promises';
import { lowerBound, type CandleColumns } from '@task-agnostic/core';
import { encoderPreset, parseEncoderConfig, type EncoderConfig } from '@task-agnostic/encoders';
import { saveModel, type DeploymentEvaluation, type ModelConfigInput } from '@task-agnostic/model';
import { hasCheckpoint, trainModel, type HeadRefitConfigInput, type HeadRefitReport, type MultiTaskDataset, type SplitBoundaries, type TrainableTask, type TrainModelResult } from '@task-agnostic/training';
import { initBackend } from '@task-agnostic/tf';
import { separateCalibrationStride, type TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import type { RunPaths } from './run-paths.js';
import { calibrateRun } from './calibrate-run.js';
import { classMixWarnings, describeClassMix, mixTasksOf, splitClassMix, MIX_WARN_TV, MIX_WARN_SERIES_TV, type TaskClassMix } from './split-mix.js';

export type Log = (line: string) => void;

/** The encoder config a trainer config names (a preset name or a full config). */
export function encoderConfigOf(cfg: TrainerConfig): EncoderConfig {
  const e = cfg.model.encoder;
  return typeof e === 'string' ? encoderPreset(e, cfg.model.encoderType) : parseEncoderConfig(e);
}

/** The model config (validated later by @task-agnostic/model), optionally for a subset of tasks. */
export function modelConfigOf(cfg: TrainerConfig, tasks?: TrainerConfig['model']['tasks']): ModelConfigInput {
  return {
    windowLength: cfg.model.windowLength,
    encoder: encoderConfigOf(cfg),
    tasks: (tasks ?? cfg.model.tasks) as ModelConfigInput['tasks'],
    ...(cfg.model.features !== undefined ? { features: cfg.model.features } : {}),
    seed: cfg.seed,
  };
}

/** The dataset options of a config (split fractions, stride, normalisation, task fit); the window comes from the model. */
export function datasetOptions(cfg: TrainerConfig): {
  valFraction?: number;
  testFraction?: number;
  stride: number;
  valStride?: number;
  recencyHalfLifeDays?: number;
  normalisation: 'pooled' | 'perSymbol';
  taskFit: 'pooled' | 'first' | 'perSymbol';
} {
  const split = cfg.data.split;
  const common = {
    stride: cfg.data.stride,
    ...(cfg.data.valStride !== undefined ? { valStride: cfg.data.valStride } : {}),
    ...(cfg.data.recencyHalfLifeDays !== undefined ? { recencyHalfLifeDays: cfg.data.recencyHalfLifeDays } : {}),
    normalisation: cfg.data.normalisation,
    taskFit: cfg.data.taskFit,
  };
  return 'valFraction' in split ? { valFraction: split.valFraction, testFraction: split.testFraction, ...common } : common;
}

/**
 * Split rows of one series for a date split: train [0, trainEnd), val [trainEnd, valEnd), test [valEnd, n),
 * and each validation block [from, to) as rows (clipped to the training range; a block the series has no
 * candles in is left out).
 */
export function dateBoundaries(
  c: CandleColumns,
  valStartMs: number,
  testStartMs: number,
  valBlocks?: readonly { readonly from: number; readonly to: number }[],
  fitBeforeMs?: number,
): SplitBoundaries {
  const trainEnd = lowerBound(c, valStartMs);
  const blocks = (valBlocks ?? []).map((b) => ({ start: Math.min(lowerBound(c, b.from), trainEnd), end: Math.min(lowerBound(c, b.to), trainEnd) })).filter((b) => b.end > b.start);
  // fitBefore: the normalisers and label fits stop there (a refitted copy's; buildDataset checks 0 < fitEnd <= trainEnd)
  const fitEnd = fitBeforeMs === undefined ? undefined : Math.min(lowerBound(c, fitBeforeMs), trainEnd);
  return { trainEnd, valEnd: lowerBound(c, testStartMs), ...(blocks.length > 0 ? { valBlocks: blocks } : {}), ...(fitEnd !== undefined ? { fitEnd } : {}) };
}

/** Each series' split boundaries under the config's date split (validation blocks included), or undefined for a fraction split. */
export function configBoundaries(split: TrainerConfig['data']['split'], data: readonly { readonly candles: CandleColumns }[]): SplitBoundaries[] | undefined {
  return 'valStart' in split ? data.map((d) => dateBoundaries(d.candles, split.valStart, split.testStart, split.valBlocks, split.fitBefore)) : undefined;
}

export interface TrainRunOptions {
  readonly log?: Log;
  /** Train only these tasks (single-task baselines). */
  readonly tasks?: TrainerConfig['model']['tasks'];
  /** Where the per-epoch JSONL log and checkpoints go; none for throw-away runs. */
  readonly paths?: RunPaths;
  readonly progress?: boolean;
  readonly signal?: AbortSignal;
  /** Called after every epoch (a sweep reports progress from it). */
  readonly onEpoch?: (record: TrainModelResult['history'][number]) => void;
  /** Continue from the checkpoint in `paths.checkpoints` when there is one (same training config, enforced by the training package). */
  readonly resume?: boolean;
  /**
   * Once the dataset is built and before training starts: 'full' logs the splits' class mix of every
   * classification task and warns (split-mix.ts) when validation's is far from training's;
   * 'warnings' logs only the warnings. Needs `log`.
   */
  readonly splitMix?: 'full' | 'warnings';
}

/** Trains a model on the loaded series with the config's model, training, pre-training and split settings. */
export async function trainRun(cfg: TrainerConfig, data: readonly SymbolData[], o: TrainRunOptions = {}): Promise<TrainModelResult> {
  await initBackend();
  const dataset = datasetOptions(cfg);
  const boundaries = configBoundaries(cfg.data.split, data);
  if (o.paths) {
    await mkdir(o.paths.dir, { recursive: true });
    // a fresh start logs from epoch 0; a resumed one keeps the log up to its checkpoint (the training package trims it)
    if (!(o.resume && hasCheckpoint(o.paths.checkpoints))) await rm(o.paths.history, { force: true });
  }
  const training = {
    ...cfg.training,
    seed: cfg.seed,
    progress: o.progress ?? true,
    ...(o.paths ? { logPath: o.paths.history, checkpointDir: o.paths.checkpoints } : {}),
  };
  // a finer calibration stride: calibrated below on its own validation windows, not inside trainModel
  const calibrateHere = cfg.calibrate !== false && separateCalibrationStride(cfg) !== undefined;
  const r = await trainModel(
    {
      model: modelConfigOf(cfg, o.tasks),
      dataset,
      ...(boundaries ? { boundaries } : {}),
      training,
      ...(cfg.pretrain ? { pretrain: { seed: cfg.seed, progress: o.progress ?? true, ...cfg.pretrain } } : {}),
      ...(cfg.curriculum ? { curriculum: cfg.curriculum } : {}),
      ...(cfg.refitHeads ? { refitHeads: cfg.refitHeads as unknown as HeadRefitConfigInput } : {}),
      calibrate: cfg.calibrate === false || calibrateHere ? false : { softmax: cfg.calibrate, blend: cfg.blend, classMix: cfg.classMix, blendRule: cfg.blendRule },
    },
    data.map((d) => ({ symbol: d.symbol, candles: d.candles })),
    {
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.resume && o.paths ? { resume: true } : {}),
      ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
      ...(o.splitMix && o.log ? { onDataset: (ds: MultiTaskDataset, tasks: readonly TrainableTask[]) => logSplitMix(ds, tasks, o.log!, o.splitMix === 'full') } : {}),
    },
  );
  if (!calibrateHere) return r;
  const calibration = calibrateRun(cfg, r.model, data, r.dataset, dataset);
  return calibration ? { ...r, calibration } : r;
}

/** One log line for a refitted head (config refitHeads). */
export function describeRefit(r: HeadRefitReport): string {
  const refit = r.refit === null ? 'stopped' : `${r.refit.toFixed(4)} refit (best epoch ${r.bestEpoch + 1} of ${r.epochs})`;
  return `refit ${r.task} head on the frozen encoder: validation loss ${r.before.toFixed(4)} as trained, ${refit}; kept the ${r.kept === 'refit' ? 'refit' : 'trained'} head`;
}

/** The class mix of the dataset's splits for the model's classification tasks, by the dataset's symbols. */
export function datasetClassMix(ds: Pick<MultiTaskDataset, 'train' | 'val' | 'test' | 'taskIds' | 'series'>, tasks: readonly TrainableTask[]): TaskClassMix[] {
  return splitClassMix(ds, mixTasksOf(tasks as readonly (TrainableTask & { classes?: readonly string[] })[], ds.taskIds), ds.series.map((s) => s.symbol));
}

/** What `trainRun`'s `splitMix` logs: the class mix lines (`full`) and the warnings (split-mix.ts). */
export function logSplitMix(ds: Pick<MultiTaskDataset, 'train' | 'val' | 'test' | 'taskIds' | 'series'>, tasks: readonly TrainableTask[], log: Log, full: boolean): void {
  const mix = datasetClassMix(ds, tasks);
  if (full) for (const l of describeClassMix(mix)) log(l);
  for (const w of classMixWarnings(mix)) log(`warning: ${w}`);
}

/** Saves the trained model (with its validation evaluation for the deployment gate, when there is one) and the training summary of a run. */
export async function saveTrainRun(cfg: TrainerConfig, data: readonly SymbolData[], r: TrainModelResult, paths: RunPaths, evaluation?: DeploymentEvaluation): Promise<void> {
  await mkdir(paths.dir, { recursive: true });
  await writeFile(paths.config, JSON.stringify(cfg, null, 2) + '\n');
  if (r.calibration) await writeFile(paths.calibration, JSON.stringify(r.calibration, jsonSafe, 2) + '\n');
  const first = data[0]!.candles;
  const trainEnd = r.dataset.boundaries[0]!.trainEnd;
  await saveModel(r.model, paths.model, {
    training: {
      symbols: data.map((d) => d.symbol),
      interval: data[0]!.interval,
      startMs: first.tsMs[0]!,
      endMs: first.tsMs[Math.max(0, trainEnd - 1)]!,
      trainRows: r.dataset.train.n,
      validRows: r.dataset.val.n,
    },
    metrics: { test: summariseTest(r) },
    ...(evaluation ? { evaluation } : {}),
  });
  const summary = {
    name: cfg.name,
    symbols: data.map((d) => ({
      symbol: d.symbol,
      source: d.source,
      rows: d.candles.length,
      from: iso(d.candles, 0),
      to: iso(d.candles, d.candles.length - 1),
      dropped: d.dropped,
      filled: d.filled,
    })),
    dataset: {
      windowLength: r.dataset.windowLength,
      horizon: r.dataset.horizon,
      purgeGap: r.dataset.purgeGap,
      featureNames: r.dataset.featureNames,
      boundaries: r.dataset.boundaries.map((b, i) => ({
        symbol: data[i]!.symbol,
        ...b,
        valStart: iso(data[i]!.candles, b.trainEnd),
        testStart: iso(data[i]!.candles, b.valEnd),
        ...(b.valBlocks ? { valBlocks: b.valBlocks.map((k) => ({ ...k, from: iso(data[i]!.candles, k.start), to: iso(data[i]!.candles, k.end) })) } : {}),
      })),
      samples: { train: r.dataset.train.n, val: r.dataset.val.n, test: r.dataset.test.n },
    },
    // the label mix of each split (classification tasks), pooled and per series, and how far validation's is from training's
    classMix: datasetClassMix(r.dataset, r.model.tasks as unknown as readonly TrainableTask[]),
    classMixWarnTv: MIX_WARN_TV,
    classMixWarnSeriesTv: MIX_WARN_SERIES_TV,
    history: r.history,
    ...(r.refit ? { refit: r.refit } : {}),
    test: r.test,
  };
  await writeFile(paths.training, JSON.stringify(summary, jsonSafe, 2) + '\n');
}

function iso(c: CandleColumns, row: number): string | null {
  return row < c.length ? new Date(c.tsMs[row]!).toISOString() : null;
}

/** Test metrics per task (pooled), for model.json. */
export function summariseTest(r: TrainModelResult): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(r.test).map(([id, t]) => [id, scalarMetrics(t.metrics)]));
}

/** Keeps the finite scalar metrics (confusion matrices and the like stay in the JSON reports; a NaN, e.g. the directional accuracy of a return head shrunk to 0, cannot go into model.json). */
export function scalarMetrics(m: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

/** JSON replacer: typed arrays as arrays, non-finite numbers as null. */
export function jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}
