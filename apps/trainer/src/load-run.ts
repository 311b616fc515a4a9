/**
 * Reopens a run folder for `trainer evaluate` / `trainer backtest`: its config, its data (or other
 * data given with --data), the saved model, and the dataset rebuilt exactly as in training (same
 * features, tasks, window, splits) with its test evaluation.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '@task-agnostic/core';
import { loadModel, type TaskAgnosticModel } from '@task-agnostic/model';
import { datasetForModel, evaluateTest, forecastCalibration, modelParts, type MultiTaskDataset, type TrainModelResult } from '@task-agnostic/training';
import { parseTrainerConfig, type TrainerConfig } from './config.js';
import { loadConfigData, type TrainedRun } from './pipeline.js';
import { runPaths } from './run-paths.js';
import { screenSeries } from './universe.js';
import type { SymbolData } from './data-source.js';
import { configBoundaries, datasetOptions } from './train-run.js';
import type { ThresholdsMode } from './decision-setup.js';

export interface LoadRunOptions {
  /** Other candles than the run's own (a CSV file or a folder). */
  readonly dataPath?: string;
  readonly fusion?: 'consistency' | 'weighted';
  readonly evaluate?: Partial<TrainerConfig['evaluate']>;
  /** Which thresholds backtests use (default: the model's fitted policy). */
  readonly thresholds?: ThresholdsMode;
}

/** A run folder's paths and its validated config.json (a clear DataError when it is no run folder). */
export async function readRunConfig(runDir: string): Promise<{ paths: ReturnType<typeof runPaths>; cfg: TrainerConfig }> {
  const paths = runPaths(path.dirname(runDir), path.basename(runDir));
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(paths.config, 'utf8'));
  } catch (err) {
    throw new DataError(`${runDir} is not a trainer run folder: cannot read ${paths.config} (${(err as Error).message})`);
  }
  return { paths, cfg: parseTrainerConfig(raw, paths.config) };
}

export async function loadRun(runDir: string, o: LoadRunOptions = {}): Promise<TrainedRun> {
  const { paths, cfg: base } = await readRunConfig(runDir);
  const cfg: TrainerConfig = {
    ...base,
    data: o.dataPath ? { ...base.data, source: 'csv', path: path.resolve(o.dataPath) } : base.data,
    fusion: o.fusion ? { ...base.fusion, method: o.fusion } : base.fusion,
    evaluate: { ...base.evaluate, ...(o.evaluate ?? {}) },
  };
  const { data, model, dataset } = await loadRunDataset(cfg, paths);
  try {
    const test = evaluateTest(modelParts(model), dataset, 256, forecastCalibration(model), model.blends, model.fusions);
    const result = { model, history: [], dataset, test } as unknown as TrainModelResult;
    return { cfg, paths, data, result, ...(o.thresholds ? { thresholds: o.thresholds } : {}) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * A run's data (the series training kept; too-short ones are skipped the same way, quietly), its saved
 * model and the dataset rebuilt as in training, without scoring anything (trainer compare reads
 * validation only).
 */
export async function loadRunDataset(cfg: TrainerConfig, paths: ReturnType<typeof runPaths>): Promise<{ data: SymbolData[]; model: TaskAgnosticModel; dataset: MultiTaskDataset }> {
  const data = screenSeries(cfg, await loadConfigData(cfg), () => {});
  const model = await loadModel(paths.model);
  try {
    const series = data.map((d) => ({ symbol: d.symbol, candles: d.candles }));
    const dataset = datasetForModel(
      model,
      series,
      datasetOptions(cfg),
      configBoundaries(cfg.data.split, data),
    );
    return { data, model, dataset };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** A run folder's config and saved model only (no data), e.g. for `trainer lso`. */
export async function loadRunModel(runDir: string): Promise<{ cfg: TrainerConfig; model: Awaited<ReturnType<typeof loadModel>>; paths: ReturnType<typeof runPaths> }> {
  const { paths, cfg } = await readRunConfig(runDir);
  return { cfg, model: await loadModel(paths.model), paths };
}
